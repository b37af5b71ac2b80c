"""The database itself refuses invalid rows (not only forms), and never loses orders: deleting
what orders reference is refused (PROTECT)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.db.models import Model, ProtectedError

from ambassadors.models import Ambassador, ApiToken, Brand
from orders.models import I18nContent, Order, OrderProduct, Product
from tests.factories import (
    AmbassadorFactory,
    ApiTokenFactory,
    I18nContentFactory,
    OrderFactory,
    OrderProductFactory,
    ProductFactory,
)

pytestmark = pytest.mark.django_db

FACTORIES: dict[type[Model], Any] = {
    OrderProduct: OrderProductFactory,
    Product: ProductFactory,
    Order: OrderFactory,
    I18nContent: I18nContentFactory,
    Ambassador: AmbassadorFactory,
    ApiToken: ApiTokenFactory,
}


def _assert_refused_by_the_database(model: type[Model], pk: Any, **values: Any) -> None:
    # QuerySet.update() runs no Python validation at all: only the database can refuse it.
    with pytest.raises(IntegrityError), transaction.atomic():
        model._default_manager.filter(pk=pk).update(**values)


@pytest.mark.parametrize(
    ("model", "values"),
    [
        (OrderProduct, {"quantity": 0}),
        (OrderProduct, {"quantity": -1}),
        (OrderProduct, {"unit_price": Decimal("-0.01")}),
        (Product, {"price": Decimal("-0.01")}),
        (Product, {"price_catalog": Decimal("-1")}),
        (Product, {"reference_unit_price": Decimal("-1")}),
        (Product, {"discount_percentage": Decimal("100.01")}),
        (Product, {"discount_percentage": Decimal("-1")}),
        (Order, {"total_amount": Decimal("-0.01")}),
        (Order, {"total_paid": Decimal("-0.01")}),
        (Order, {"total_ws": Decimal("-0.01")}),
        (Order, {"assignment": "assigned"}),
        (Order, {"assignment": ""}),
        (I18nContent, {"lang": "it_IT"}),
        (I18nContent, {"lang": "en"}),
        (Ambassador, {"active": 2}),
        (Ambassador, {"active": -4}),
        (Ambassador, {"status": 9}),
        (Ambassador, {"status": -1}),
        (ApiToken, {"kind": "admin"}),
        (ApiToken, {"brand": None}),  # a brand token without its brand
    ],
)
def test_invalid_values_are_refused_by_the_database(model, values):
    row = FACTORIES[model]()

    _assert_refused_by_the_database(model, row.pk, **values)


@pytest.mark.parametrize(
    ("model", "values"),
    [
        (OrderProduct, {"quantity": 1, "unit_price": Decimal(0)}),
        (Product, {"price": Decimal(0), "discount_percentage": Decimal(100)}),
        (Order, {"total_amount": Decimal(0), "assignment": "conversation_assigned"}),
        (I18nContent, {"lang": "de_DE"}),
        (Ambassador, {"active": -3, "status": 8}),
    ],
)
def test_boundary_values_are_accepted(model, values):
    row = FACTORIES[model]()

    assert model._default_manager.filter(pk=row.pk).update(**values) == 1


def test_an_ambassador_token_needs_its_ambassador():
    token = ApiTokenFactory(for_ambassador=True)

    _assert_refused_by_the_database(ApiToken, token.pk, ambassador=None)


def test_one_image_per_product_and_language():
    image = I18nContentFactory(lang="fr_FR")

    with pytest.raises(IntegrityError), transaction.atomic():
        I18nContent.objects.create(product=image.product, lang="fr_FR", content="x.jpg")
    I18nContent.objects.create(product=image.product, lang="es_ES", content="y.jpg")


def test_token_prefixes_are_unique():
    token = ApiTokenFactory()

    with pytest.raises(IntegrityError), transaction.atomic():
        ApiToken.objects.create(kind="guest", prefix=token.prefix, digest="0" * 64)


@pytest.mark.parametrize(
    "target",
    ["product", "credited ambassador", "buyer", "brand"],
)
def test_what_orders_reference_cannot_be_deleted(target):
    line = OrderProductFactory()
    order = line.order
    victim = {
        "product": line.product,
        "credited ambassador": order.ambassador,
        "buyer": order.buyer,
        "brand": order.ambassador.brand,
    }[target]

    with pytest.raises(ProtectedError), transaction.atomic():
        victim.delete()

    assert Order.objects.filter(pk=order.pk).exists()
    assert OrderProduct.objects.filter(pk=line.pk).exists()


def test_deleting_an_order_deletes_its_lines_only():
    line = OrderProductFactory()
    product = line.product

    line.order.delete()

    assert not OrderProduct.objects.exists()
    assert Product.objects.filter(pk=product.pk).exists()
    assert Brand.objects.exists()
