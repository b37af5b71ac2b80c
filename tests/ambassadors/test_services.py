"""Writes for ambassadors: anonymizing a person keeps the row and their orders."""

from __future__ import annotations

import pytest

from ambassadors.services import ambassador_anonymize
from tests.factories import AmbassadorFactory, OrderFactory

pytestmark = pytest.mark.django_db


def test_anonymizing_erases_what_identifies_a_person_and_keeps_their_orders():
    person = AmbassadorFactory(
        firstname="Olga",
        lastname="Smith",
        username="olga",
        email="o@example.com",
        email_tmp="o2@example.com",
        image="https://cdn.example.com/o.jpg",
        customer_id="CUST-1",
    )
    order = OrderFactory(buyer=person)
    before = person.date_update

    ambassador_anonymize(ambassador=person)

    person.refresh_from_db()
    assert (person.firstname, person.lastname, person.email, person.email_tmp, person.image) == (
        "",
        "",
        "",
        "",
        "",
    )
    assert person.username == f"anonymous-{person.pk}"
    assert person.anonymized is True
    assert person.date_update > before
    assert type(order).objects.filter(pk=order.pk, buyer=person).exists()
