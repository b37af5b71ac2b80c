"""Ambassador: the referrer is a nullable self-reference that protects the referrer."""

from __future__ import annotations

import pytest
from django.db.models import ProtectedError

from ambassadors.models import Ambassador
from tests.factories import AmbassadorFactory

pytestmark = pytest.mark.django_db


def test_a_referrer_cannot_be_deleted_while_it_has_referrals():
    referrer = AmbassadorFactory()
    referred = AmbassadorFactory(brand=referrer.brand, referrer=referrer)

    with pytest.raises(ProtectedError):
        referrer.delete()

    referred.delete()
    referrer.delete()
    assert not Ambassador.objects.filter(pk__in=[referrer.pk, referred.pk]).exists()


def test_new_ambassadors_have_no_referrer_an_unknown_gender_and_no_score():
    ambassador = AmbassadorFactory()

    assert (ambassador.referrer, ambassador.gender, ambassador.gamification_score) == (None, "", 0)
    assert list(ambassador.referrals.all()) == []
