"""`seed_demo`: the same seed gives the same data (up to one time shift), re-running replaces
instead of duplicating, and the data has the shape the demo promises."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db.models import DecimalField, ExpressionWrapper, F, Sum
from django.utils import timezone
from rest_framework.test import APIClient

from ambassadors.models import Ambassador, ApiToken, Brand
from ambassadors.services import token_create
from orders import demo
from orders.models import I18nContent, Order, OrderProduct, Product
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

SMALL = {"ambassadors": 40, "orders": 400}
NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def _snapshot(now: datetime) -> dict[str, list[dict[str, Any]]]:
    """Every row of the demo tables, timestamps as seconds before `now`."""

    def relative(row: dict[str, Any]) -> dict[str, Any]:
        return {
            key: (now - value).total_seconds() if isinstance(value, datetime) else value
            for key, value in row.items()
        }

    return {
        model.__name__: [relative(row) for row in model._default_manager.order_by("pk").values()]
        for model in demo.MODELS_CHILD_FIRST
    }


def test_same_seed_same_data():
    demo.seed_demo(seed=7, now=NOW, **SMALL)
    first = _snapshot(NOW)

    demo.seed_demo(seed=7, now=NOW, **SMALL)

    assert _snapshot(NOW) == first
    assert len(first["Order"]) == SMALL["orders"]


def test_same_seed_later_differs_only_by_one_time_shift():
    demo.seed_demo(seed=7, now=NOW, **SMALL)
    first = _snapshot(NOW)
    later = NOW + timedelta(days=3, seconds=17)

    demo.seed_demo(seed=7, now=later, **SMALL)

    assert _snapshot(later) == first
    assert Order.objects.order_by("pk").first().date_order > NOW - timedelta(days=366)


def test_another_seed_gives_other_data():
    demo.seed_demo(seed=7, now=NOW, **SMALL)
    first = _snapshot(NOW)

    demo.seed_demo(seed=8, now=NOW, **SMALL)
    second = _snapshot(NOW)

    assert second != first
    for table in ("Ambassador", "Product", "Order"):
        assert second[table] != first[table]


def test_rerunning_replaces_everything_without_duplicates():
    # given: data of an earlier load, and rows added since (a token, an order)
    demo.seed_demo(seed=1, **SMALL)
    counts = {model: model.objects.count() for model in demo.MODELS_CHILD_FIRST}
    ApiTokenFactory(brand=Brand.objects.get(pk=1))

    # when
    demo.seed_demo(seed=1, **SMALL)

    # then
    assert {model: model.objects.count() for model in demo.MODELS_CHILD_FIRST} == counts
    assert not ApiToken.objects.exists()


def test_inserts_after_seeding_get_fresh_ids():
    # PostgreSQL: the sequences were moved past the explicit ids, so these do not collide.
    demo.seed_demo(seed=1, **SMALL)
    highest = {
        model: model.objects.order_by("-pk").values_list("pk", flat=True)[0]
        for model in (Brand, Ambassador, Product, I18nContent, Order, OrderProduct)
    }

    brand = BrandFactory()
    line = OrderProductFactory(order=OrderFactory(ambassador=AmbassadorFactory(brand=brand)))
    image = I18nContentFactory(product=ProductFactory())
    token, _ = token_create(kind="brand", brand=brand)

    assert brand.pk > highest[Brand]
    assert line.order.ambassador_id > highest[Ambassador]
    assert line.order_id > highest[Order]
    assert line.pk > highest[OrderProduct]
    assert line.product_id > highest[Product]
    assert image.pk > highest[I18nContent]
    assert token.pk > 0


@pytest.fixture
def seeded():
    demo.seed_demo(seed=1, **SMALL)
    return timezone.now()


def test_brands_and_the_busy_ambassador(seeded):
    assert set(Brand.objects.values_list("pk", flat=True)) == {1, 2}
    busy = Ambassador.objects.get(pk=1)
    assert busy.brand_id == 1
    per_ambassador = Counter(Order.objects.values_list("ambassador_id", flat=True))
    assert per_ambassador[1] >= 300
    handful = [pk for pk, n in per_ambassador.items() if 1 <= n <= 5]
    assert len(handful) >= 3
    assert Ambassador.objects.filter(brand_id=2, credited_orders__isnull=False).exists()
    # credited ambassador and buyer are of the same brand
    assert not Order.objects.exclude(buyer__brand_id=F("ambassador__brand_id")).exists()


def test_every_documented_value_appears(seeded):
    def values(field: str) -> set[str]:
        return set(Order.objects.values_list(field, flat=True).distinct())

    assert values("last_status") == set(Order.Status.values)
    assert values("type") == set(Order.Type.values)
    assert values("assignment") == set(Order.Assignment.values)
    assert len(values("currency")) >= 3
    assert set(I18nContent.objects.values_list("lang", flat=True)) == set(I18nContent.Lang.values)
    assert set(Ambassador.objects.values_list("active", flat=True)) == set(Ambassador.Active.values)
    assert Ambassador.objects.filter(anonymized=True).exists()


def test_ambassadors_have_genders_scores_and_referrers_of_their_own_brand(seeded):
    assert set(Ambassador.objects.values_list("gender", flat=True)) == set(demo.GENDER_WEIGHTS)
    scores = set(Ambassador.objects.values_list("gamification_score", flat=True))
    assert 0 in scores
    assert len(scores) > 10
    assert all(0 <= score <= demo.MAX_GAMIFICATION_SCORE for score in scores)
    referred = Ambassador.objects.filter(referrer__isnull=False)
    assert referred.filter(pk=3).exists()
    assert referred.count() < Ambassador.objects.count()
    assert not referred.exclude(referrer__brand_id=F("brand_id")).exists()
    assert not referred.filter(referrer_id__gte=F("pk")).exists()


NULLABLE = {
    Order: ["id_order_external", "id_meeting_external"],
    Product: ["name", "type", "sku", "youtube_id", "url", "description", "old_image"],
}


def test_nullable_fields_are_sometimes_null_and_sometimes_not(seeded):
    for model, fields in NULLABLE.items():
        for field in fields:
            assert model.objects.filter(**{f"{field}__isnull": True}).exists(), field
            assert model.objects.filter(**{f"{field}__isnull": False}).exists(), field


def test_orders_have_one_to_five_lines_and_totals_that_match_them(seeded):
    per_order = Counter(OrderProduct.objects.values_list("order_id", flat=True))
    assert set(per_order.values()) == {1, 2, 3, 4, 5}
    assert len(per_order) == Order.objects.count()
    line_total = ExpressionWrapper(
        F("lines__quantity") * F("lines__unit_price"), output_field=DecimalField()
    )
    for order in Order.objects.annotate(lines_total=Sum(line_total)).iterator():
        assert order.total_amount == Decimal(order.lines_total).quantize(Decimal("0.01"))
        assert order.total_paid in (Decimal(0), order.total_amount)
    assert not OrderProduct.objects.exclude(currency=F("order__currency")).exists()


def test_some_buyers_are_online_and_the_api_says_so(seeded):
    # given
    online_since = seeded - timedelta(minutes=5)
    assert Order.objects.filter(buyer__last_action_date__gt=online_since).exists()
    assert Order.objects.filter(buyer__last_action_date__lt=online_since).exists()
    _, secret = token_create(kind="brand", brand=Brand.objects.get(pk=1))

    # when
    response = APIClient().get(
        "/api/v2/platform/ambassadors/1/orders", HTTP_AUTHORIZATION=f"Bearer {secret}"
    )

    # then
    body = response.json()
    assert body["total"] >= 300
    assert any(order["buyer"]["online"] for order in body["data"])


def test_the_command_loads_and_reports():
    out = StringIO()

    call_command("seed_demo", "--seed", "3", "--ambassadors", "30", "--orders", "450", stdout=out)

    assert Order.objects.count() == 450
    assert Ambassador.objects.count() == 30
    assert "450 orders" in out.getvalue()
    assert "Ambassador 1 (brand 1) has" in out.getvalue()


@pytest.mark.parametrize("args", [["--orders", "10"], ["--ambassadors", "3"], ["--seed", "x"]])
def test_the_command_refuses_bad_sizes(args):
    with pytest.raises(CommandError):
        call_command("seed_demo", *args, stdout=StringIO())
    assert not Order.objects.exists()
