"""`GET /api/v2/platform/ambassadors/{id}/orders`: who may call, errors, query count, paging."""

from __future__ import annotations

import operator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from rest_framework.test import APIClient

from ambassadors.models import Ambassador
from orders.models import Order
from tests.conftest import bearer
from tests.factories import (
    AmbassadorFactory,
    ApiTokenFactory,
    BrandFactory,
    I18nContentFactory,
    OrderFactory,
    OrderProductFactory,
    ProductFactory,
)

FORBIDDEN = {"message": "You don't have permission to access this route."}
NOT_FOUND = {"message": "The ambassador does not exist."}
UNAUTHORIZED = {"message": "Unauthorized."}


def client_for(token) -> APIClient:
    client = APIClient()
    client.credentials(**bearer(token))
    return client


def orders_url(ambassador_id) -> str:
    return f"/api/v2/platform/ambassadors/{ambassador_id}/orders"


# --- Who may call -----------------------------------------------------------------------------
@pytest.fixture
def world(db):
    """Two brands, an ambassador in each (with one order), and one token of every kind."""
    brand, other_brand = BrandFactory(), BrandFactory()
    own = AmbassadorFactory(brand=brand)
    colleague = AmbassadorFactory(brand=brand)
    foreign = AmbassadorFactory(brand=other_brand)
    for seller in (own, colleague, foreign):
        OrderFactory(ambassador=seller)
    return {
        "own": own,
        "colleague": colleague,
        "foreign": foreign,
        "missing": max(Ambassador.objects.values_list("pk", flat=True)) + 1000,
        "tokens": {
            "brand": ApiTokenFactory(brand=brand),
            "ambassador": ApiTokenFactory(for_ambassador=True, ambassador=own),
            "guest": ApiTokenFactory(guest=True),
        },
    }


@pytest.mark.parametrize(
    ("kind", "target", "status", "body"),
    [
        ("brand", "own", 200, None),
        ("brand", "colleague", 200, None),
        ("brand", "foreign", 404, NOT_FOUND),  # another brand's ambassador
        ("brand", "missing", 404, NOT_FOUND),
        ("ambassador", "own", 200, None),
        ("ambassador", "colleague", 403, FORBIDDEN),
        ("ambassador", "foreign", 403, FORBIDDEN),
        ("ambassador", "missing", 403, FORBIDDEN),  # 403 before 404: no probing of ids
        ("guest", "own", 403, FORBIDDEN),
        ("guest", "foreign", 403, FORBIDDEN),
        ("guest", "missing", 403, FORBIDDEN),
    ],
)
def test_access_matrix(world, kind, target, status, body):
    ambassador_id = world[target] if target == "missing" else world[target].pk

    response = client_for(world["tokens"][kind]).get(orders_url(ambassador_id))

    assert response.status_code == status
    if body is None:
        assert response.json()["total"] == 1
        assert response.json()["data"][0]["id_order"] == (
            Order.objects.get(ambassador_id=ambassador_id).id_order
        )
    else:
        assert response.json() == body
    assert "WWW-Authenticate" not in response


@pytest.mark.parametrize(
    "trait", [{"expired": True}, {"revoked": True}], ids=["expired", "revoked"]
)
@pytest.mark.parametrize("kind", ["brand", "ambassador", "guest"])
@pytest.mark.parametrize("target", ["own", "foreign", "missing"])
def test_expired_and_revoked_tokens_are_401_before_anything_else(world, kind, trait, target):
    token = {
        "brand": lambda: ApiTokenFactory(brand=world["own"].brand, **trait),
        "ambassador": lambda: ApiTokenFactory(
            for_ambassador=True, ambassador=world["own"], **trait
        ),
        "guest": lambda: ApiTokenFactory(guest=True, **trait),
    }[kind]()
    ambassador_id = world[target] if target == "missing" else world[target].pk

    response = client_for(token).get(orders_url(ambassador_id))

    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED
    assert response["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "raw_id",
    [
        "0",
        "-1",
        "abc",
        "1.5",
        "1e3",
        "%201",
        "%D9%A3",  # an Arabic-Indic digit
        "9223372036854775807",  # the largest id: valid, absent
        "9223372036854775808",  # beyond 64 bits
        "99999999999999999999999999",
    ],
)
def test_path_ids_that_name_nothing_are_404_not_500(world, raw_id):
    response = client_for(world["tokens"]["brand"]).get(orders_url(raw_id))

    assert response.status_code == 404
    assert response.json() == NOT_FOUND


@pytest.mark.parametrize("raw_id", ["0", "abc", "9223372036854775808"])
def test_an_ambassador_token_gets_403_for_ids_that_name_nothing(world, raw_id):
    response = client_for(world["tokens"]["ambassador"]).get(orders_url(raw_id))

    assert response.status_code == 403
    assert response.json() == FORBIDDEN


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete", "options"])
@pytest.mark.parametrize("authenticated", [True, False])
def test_other_methods_are_405_in_json(world, method, authenticated):
    client = APIClient()
    if authenticated:
        client.credentials(**bearer(world["tokens"]["brand"]))

    response = getattr(client, method)(orders_url(world["own"].pk))

    assert response.status_code == 405
    assert response["Content-Type"] == "application/json"
    assert response["Allow"] == "GET, HEAD"
    # Laravel's RouteCollection message: the method, the route's path without its leading "/".
    assert response.json() == {
        "message": f"The {method.upper()} method is not supported for route "
        f"api/v2/platform/ambassadors/{world['own'].pk}/orders. Supported methods: GET, HEAD."
    }


def test_head_is_answered_like_get_without_a_body(world):
    response = client_for(world["tokens"]["brand"]).head(orders_url(world["own"].pk))

    assert response.status_code == 200
    assert response.content == b""


@pytest.mark.parametrize(
    "path",
    [
        "/api/v2/platform/ambassadors/1/orders/1",
        "/api/v2/platform/ambassadors//1/orders",
        "/api/v2/platform/ambassadors/1/nothing",
        "/api/v2/platform/nothing",
        "/nothing",
    ],
)
def test_unknown_routes_are_json_404(world, path):
    response = client_for(world["tokens"]["brand"]).get(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert set(response.json()) == {"message"}


def test_query_errors_come_after_404(world):
    # The ambassador is resolved first, as Laravel's route binding does.
    client = APIClient()
    client.credentials(**bearer(world["tokens"]["brand"]))

    for query in ("per_page=0", "sort=nope", "filter[nope]=1", "filter[type][]=WEB"):
        assert client.get(f"{orders_url(world['foreign'].pk)}?{query}").json() == NOT_FOUND
        assert client.get(f"{orders_url(world['missing'])}?{query}").json() == NOT_FOUND
        assert client.get(f"{orders_url(world['own'].pk)}?{query}").status_code in {400, 422}


# --- A fixed, small number of queries ------------------------------------------------------------
@pytest.fixture
def busy_seller(brand):
    """An ambassador with 120 orders of 1 to 3 lines, products with 0 to 4 images."""
    seller = AmbassadorFactory(brand=brand)
    buyer = AmbassadorFactory(brand=brand)
    products = ProductFactory.create_batch(5)
    for index, product in enumerate(products):
        for lang in ["en_GB", "fr_FR", "es_ES", "de_DE"][: index % 5]:
            I18nContentFactory(product=product, lang=lang)
    orders = Order.objects.bulk_create(
        OrderFactory.build_batch(120, ambassador=seller, buyer=buyer)
    )
    for index, order in enumerate(orders):
        for line in range(1 + index % 3):
            OrderProductFactory(order=order, product=products[(index + line) % len(products)])
    return seller


@pytest.mark.parametrize(
    "query",
    [
        "per_page=1",
        "per_page=100",
        "per_page=100&page=2",
        "per_page=100&sort=total_amount&filter[type]=WEB",
    ],
)
def test_query_count_does_not_depend_on_page_size(
    brand_client, busy_seller, query, django_assert_num_queries
):
    url = f"{orders_url(busy_seller.pk)}?{query}"
    brand_client.get(url)  # warm-up: the token's first use is written once

    # The token, then on PostgreSQL one statement: the ambassador, the count and the page's
    # JSON. Elsewhere the ambassador with the count, the page and its lines.
    with django_assert_num_queries({"postgresql": 2}.get(connection.vendor, 4)):
        response = brand_client.get(url)

    assert response.status_code == 200
    assert response.json()["data"]


# --- Walking every page -------------------------------------------------------------------------
SORT_KEYS = {
    "date_order": "date_order",
    "id_order": "id_order",
    "total_amount": "total_amount",
    "total_paid": "total_paid",
    "date_update": "date_update",
}


@pytest.fixture
def crowded_seller(brand):
    """330 orders with many ties: 11 distinct dates, 7 amounts, 5 paid values, 3 update times."""
    seller = AmbassadorFactory(brand=brand)
    buyer = AmbassadorFactory(brand=brand)
    base = datetime(2024, 3, 1, 12, tzinfo=UTC)
    Order.objects.bulk_create(
        OrderFactory.build(
            ambassador=seller,
            buyer=buyer,
            date_order=base - timedelta(days=n % 11),
            date_update=base + timedelta(minutes=n % 3),
            total_amount=Decimal(10 * (n % 7)) + Decimal("0.50"),
            total_paid=Decimal(n % 5),
        )
        for n in range(330)
    )
    # Noise that must never show up: another seller's orders.
    OrderFactory.create_batch(3, ambassador=AmbassadorFactory(brand=brand))
    return seller


def expected_order(orders: list[Order], sort: str) -> list[int]:
    """The documented order: each key in turn, `id_order` breaking ties in the first key's
    direction."""
    names = sort.split(",")
    if not any(name.removeprefix("-") == "id_order" for name in names):
        names.append(("-" if names[0].startswith("-") else "") + "id_order")
    ordered = list(orders)
    for name in reversed(names):  # stable sorts, least significant key first
        key = operator.attrgetter(SORT_KEYS[name.removeprefix("-")])
        ordered.sort(key=key, reverse=name.startswith("-"))
    return [order.id_order for order in ordered]


@pytest.mark.parametrize(
    "sort",
    [
        "date_order",
        "-date_order",
        "id_order",
        "-id_order",
        "total_amount",
        "-total_amount",
        "total_paid",
        "-total_paid",
        "date_update",
        "-date_update",
        "total_paid,-date_order",
        "-date_update,total_amount",
        "total_amount,id_order",
    ],
)
def test_walking_every_page_returns_each_order_once_in_order(brand_client, crowded_seller, sort):
    # given
    orders = list(Order.objects.filter(ambassador=crowded_seller))
    url = f"{orders_url(crowded_seller.pk)}?sort={sort}&per_page=23"

    # when: follow next_page_url until there is none
    seen: list[int] = []
    pages = 0
    while url:
        body = brand_client.get(url).json()
        pages += 1
        assert body["current_page"] == pages
        assert body["total"] == len(orders)
        seen.extend(order["id_order"] for order in body["data"])
        url = body["next_page_url"]

    # then
    assert pages == body["last_page"] == 15
    assert len(seen) == len(set(seen)) == len(orders)
    assert seen == expected_order(orders, sort)


def test_default_order_is_newest_first(brand_client, crowded_seller):
    orders = list(Order.objects.filter(ambassador=crowded_seller))

    body = brand_client.get(orders_url(crowded_seller.pk), {"per_page": 100}).json()

    assert [order["id_order"] for order in body["data"]] == expected_order(orders, "-date_order")[
        :100
    ]
