"""Saving any admin change form unchanged leaves its row exactly as it was.

The stock admin time input shows HH:MM:SS, so an unchanged save used to rewrite every stored
date-time without its microseconds (493,787 of 500,000 bench orders), while the history said
"No fields changed". Each registered model of ours is saved the way a browser would (every
field the page renders, as rendered) and its row compared, value for value.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, User
from django.db.models import Model
from django.test import RequestFactory
from django.utils import timezone

from ambassadors.models import Ambassador, ApiToken, Brand
from orders.models import I18nContent, Order, OrderProduct, Product
from tests.admin_helpers import admin_url, form_data
from tests.factories import (
    AmbassadorFactory,
    ApiTokenFactory,
    BrandFactory,
    I18nContentFactory,
    OrderFactory,
    OrderProductFactory,
    ProductFactory,
)

pytestmark = pytest.mark.django_db

OUR_APPS = {"ambassadors", "orders", "auth"}


def _precise(days: int) -> Any:
    """A date-time with microseconds, as most stored rows have."""
    return timezone.now().replace(microsecond=654321) - timedelta(days=days, seconds=7)


def _order() -> Any:
    order = OrderFactory(
        date_order=_precise(3),
        date_insert=_precise(3),
        date_update=_precise(1),
        total_amount=Decimal("37.50"),
        total_paid=Decimal("18.75"),
        total_ws=Decimal("22.50"),
    )
    OrderProductFactory(order=order, unit_price=Decimal("12.50"), quantity=3)
    return order


BUILDERS: dict[type[Model], Any] = {
    Brand: BrandFactory,
    Ambassador: lambda: AmbassadorFactory(
        last_action_date=_precise(2), date_insert=_precise(9), date_update=_precise(4)
    ),
    ApiToken: lambda: ApiTokenFactory(for_ambassador=True, expires_at=_precise(-30)),
    Order: _order,
    OrderProduct: lambda: _order().lines.get(),
    Product: lambda: ProductFactory(
        price=Decimal("19.90"), discount_percentage=Decimal("12.50"), price_catalog=Decimal(29)
    ),
    I18nContent: I18nContentFactory,
    User: lambda: User.objects.create_user(
        "editor", "editor@example.com", "pw", last_login=_precise(1), date_joined=_precise(50)
    ),
    Group: lambda: Group.objects.create(name="support"),
}


def registered_models() -> list[type[Model]]:
    return [model for model in admin.site._registry if model._meta.app_label in OUR_APPS]


def test_every_model_of_ours_has_a_builder():
    assert set(registered_models()) <= set(BUILDERS)


def row(obj: Model) -> dict[str, Any]:
    return type(obj)._default_manager.filter(pk=obj.pk).values().get()


@pytest.mark.parametrize("model", registered_models(), ids=lambda model: model.__name__)
def test_saving_a_change_form_unchanged_keeps_the_row(admin_client, model):
    # given
    obj = BUILDERS[model]()
    before = row(obj)
    url = admin_url(model, "change", obj.pk)
    page = admin_client.get(url).content.decode()
    if not admin.site._registry[model].has_change_permission(_request(), obj):
        # view-only (order lines are history): nothing to save, and saving is refused
        assert admin_client.post(url, {"_save": "Save"}).status_code == 403
        assert row(obj) == before
        return
    data = form_data(page, f"{model._meta.model_name}_form")

    # when
    response = admin_client.post(url, {**data, "_save": "Save"})

    # then
    errors = response.context["adminform"].form.errors if response.status_code == 200 else None
    assert response.status_code == 302, errors
    assert row(obj) == before


def _request() -> Any:
    request = RequestFactory().get("/")
    request.user = User.objects.get(username="admin")
    return request
