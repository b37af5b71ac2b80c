"""Cursor pages of `GET /api/v2/platform/ambassadors/{id}/orders` (`?cursor=`): Laravel's
CursorPaginator envelope, keyset pages in every sort and filter, no count."""

from __future__ import annotations

import base64
import operator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import orjson
import pytest
from django.db import connection

from orders import cursor_rendering
from orders.models import Order
from platform_api.cursor_pagination import Cursor
from tests.factories import AmbassadorFactory, OrderFactory, OrderProductFactory

ENVELOPE_KEYS = [
    "data",
    "path",
    "per_page",
    "next_cursor",
    "next_page_url",
    "prev_cursor",
    "prev_page_url",
]
SORT_KEYS = ["date_order", "id_order", "total_amount", "total_paid", "date_update"]


def orders_url(ambassador_id) -> str:
    return f"/api/v2/platform/ambassadors/{ambassador_id}/orders"


@pytest.fixture
def crowded_seller(brand):
    """150 orders full of ties (7 dates, some a microsecond apart, 7 amounts, 5 paid values, 3
    update times), a few with lines, and another seller's orders that never show up."""
    seller = AmbassadorFactory(brand=brand)
    buyer = AmbassadorFactory(brand=brand)
    base = datetime(2024, 3, 1, 12, tzinfo=UTC)
    orders = Order.objects.bulk_create(
        OrderFactory.build(
            ambassador=seller,
            buyer=buyer,
            date_order=base - timedelta(days=n % 5, microseconds=n % 3 * (n % 2)),
            date_update=base + timedelta(minutes=n % 3),
            total_amount=Decimal(10 * (n % 7)) + Decimal("0.50"),
            total_paid=Decimal(n % 5),
            type=["WEB", "STORE"][n % 2],
        )
        for n in range(150)
    )
    for order in orders[:10]:
        OrderProductFactory(order=order)
    OrderFactory.create_batch(3, ambassador=AmbassadorFactory(brand=brand))
    return seller


def expected_order(orders: list[Order], sort: str) -> list[int]:
    names = sort.split(",")
    if not any(name.removeprefix("-") == "id_order" for name in names):
        names.append(("-" if names[0].startswith("-") else "") + "id_order")
    ordered = list(orders)
    for name in reversed(names):  # stable sorts, least significant key first
        ordered.sort(key=operator.attrgetter(name.removeprefix("-")), reverse=name[0] == "-")
    return [order.id_order for order in ordered]


def walk(client, url: str, link: str, *, limit: int = 50) -> list[dict]:
    """Every page from `url` on, following `link` (`next_page_url` or `prev_page_url`)."""
    pages: list[dict] = []
    while url:
        assert len(pages) < limit, "the walk does not end"
        response = client.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        assert list(body) == ENVELOPE_KEYS
        pages.append(body)
        url = body[link]
    return pages


def ids(pages: list[dict]) -> list[int]:
    return [order["id_order"] for page in pages for order in page["data"]]


SORTS = [
    *[f"{sign}{name}" for name in SORT_KEYS for sign in ("", "-")],
    "total_paid,-date_order",
    "-date_update,total_amount",
    "total_amount,id_order",
]


@pytest.mark.parametrize("sort", SORTS)
def test_walking_forward_then_back_returns_each_order_once_in_order(
    brand_client, crowded_seller, sort
):
    # given
    orders = list(Order.objects.filter(ambassador=crowded_seller))

    # when
    forward = walk(
        brand_client,
        f"{orders_url(crowded_seller.pk)}?sort={sort}&per_page=23&cursor=",
        "next_page_url",
    )
    backward = walk(brand_client, forward[-1]["prev_page_url"], "prev_page_url")

    # then
    assert len(forward) == 7
    assert ids(forward) == expected_order(orders, sort)
    assert [page["data"] for page in reversed(backward)] == [page["data"] for page in forward[:-1]]
    assert forward[0]["prev_cursor"] is None
    assert forward[-1]["next_cursor"] is None
    assert backward[-1]["prev_cursor"] is None  # back on the first page


def test_filters_hold_on_every_page(brand_client, crowded_seller):
    orders = list(Order.objects.filter(ambassador=crowded_seller, type="STORE"))
    url = (
        f"{orders_url(crowded_seller.pk)}?filter[type]=STORE&sort=total_amount&per_page=10&cursor="
    )

    pages = walk(brand_client, url, "next_page_url")

    assert ids(pages) == expected_order(orders, "total_amount")
    assert all(
        "filter%5Btype%5D=STORE&sort=total_amount&per_page=10&cursor=" in page["next_page_url"]
        for page in pages[:-1]
    )


def test_the_cursor_holds_the_sort_keys_as_laravel_names_them(brand_client, crowded_seller):
    body = brand_client.get(
        orders_url(crowded_seller.pk), {"cursor": "", "per_page": 1, "sort": "-total_amount"}
    ).json()
    order = Order.objects.get(pk=body["data"][0]["id_order"])

    assert (
        body["next_cursor"]
        == Cursor(
            {"total_amount": f"{order.total_amount:.2f}", "id_order": order.pk}, True
        ).encode()
    )


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "garbage",
        Cursor({"id_order": 1}, True).encode(),  # lacks the sort's date_order
        Cursor({"date_order": "yesterday", "id_order": 1}, True).encode(),
        Cursor({"date_order": "2024-02-30 00:00:00", "id_order": 1}, True).encode(),
        Cursor({"date_order": "2024-03-01 00:00:00", "id_order": "1"}, True).encode(),
        Cursor({"date_order": "2024-03-01 00:00:00", "id_order": 2**63}, True).encode(),
        # JSON nested deeper than Python's parser goes: a RecursionError answered 500.
        base64.urlsafe_b64encode(b"[" * 5000).decode(),
    ],
)
def test_a_cursor_that_does_not_decode_for_the_sort_is_the_first_page(
    brand_client, crowded_seller, cursor
):
    url = orders_url(crowded_seller.pk)
    first = brand_client.get(url, {"cursor": ""}).json()

    body = brand_client.get(url, {"cursor": cursor}).json()

    assert body["data"] == first["data"]
    assert body["prev_cursor"] is None
    assert body["next_cursor"] == first["next_cursor"]


def test_a_cursor_past_the_end_is_an_empty_page(brand_client, crowded_seller):
    cursor = Cursor({"date_order": "1970-01-01 00:00:00", "id_order": 1}, True).encode()

    body = brand_client.get(orders_url(crowded_seller.pk), {"cursor": cursor}).json()

    assert body["data"] == []
    assert body["next_cursor"] is body["prev_cursor"] is None


def test_cursor_pages_check_who_may_read_first(brand_client, crowded_seller):
    foreign = OrderFactory().ambassador

    response = brand_client.get(orders_url(foreign.pk), {"cursor": ""})

    assert response.status_code == 404
    assert response.json() == {"message": "The ambassador does not exist."}


@pytest.mark.parametrize(
    "query", ["cursor=&per_page=100", "per_page=5&sort=total_paid&filter[type]=WEB&cursor="]
)
def test_a_cursor_page_costs_one_statement_and_no_count(
    brand_client, crowded_seller, query, django_assert_num_queries
):
    url = f"{orders_url(crowded_seller.pk)}?{query}"
    next_url = brand_client.get(url).json()[
        "next_page_url"
    ]  # warm-up: the token's first use is written once

    # The token, then on PostgreSQL one statement; elsewhere the ambassador, the ids, the
    # page and its lines.
    with django_assert_num_queries({"postgresql": 2}.get(connection.vendor, 5)) as captured:
        response = brand_client.get(next_url)

    assert response.status_code == 200
    assert response.json()["data"]
    assert not any(
        "count(" in query["sql"].lower() and "unnest" not in query["sql"]
        for query in captured.captured_queries
    )


def walk_bytes(client, url: str) -> list[bytes]:
    """The raw bodies from `url` to the last page, then one page back."""
    pages = [client.get(url).content]
    while url := orjson.loads(pages[-1])["next_page_url"]:
        assert len(pages) < 50, "the walk does not end"
        pages.append(client.get(url).content)
    pages.append(client.get(orjson.loads(pages[-1])["prev_page_url"]).content)
    return pages


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the SQL renderer is PostgreSQL's")
@pytest.mark.parametrize("sort", ["-date_order", "total_amount", "-total_paid,date_update"])
def test_both_renderers_write_the_same_bytes(brand_client, crowded_seller, sort, monkeypatch):
    url = f"{orders_url(crowded_seller.pk)}?sort={sort}&per_page=40&cursor="
    sql_pages = walk_bytes(brand_client, url)

    monkeypatch.setattr(cursor_rendering, "renders_in_sql", lambda alias: False)
    python_pages = walk_bytes(brand_client, url)

    assert sql_pages == python_pages
    assert len(sql_pages) == 5


def test_cursor_urls_are_laravels_query_with_the_cursor_last(brand_client, crowded_seller):
    url = f"{orders_url(crowded_seller.pk)}?flag=&cursor=&per_page=%205&page=2"

    body = brand_client.get(url).json()

    # Empty values are null (absent), values trimmed, `page` kept, `cursor` last.
    assert body["next_page_url"] == (
        f"http://testserver{orders_url(crowded_seller.pk)}?per_page=5&page=2"
        f"&cursor={body['next_cursor']}"
    )
    assert len(body["data"]) == 5
