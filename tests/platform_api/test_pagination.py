"""The paginator against an independent model of Laravel's LengthAwarePaginator.

`laravel_envelope` below is written from Laravel's source (`LengthAwarePaginator::toArray`,
`linkCollection`, `elements`, `UrlWindow::get`, `AbstractPaginator::url`), not from the code under
test, and the service's answers are compared with it field for field.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient, APIRequestFactory

from orders.models import Order
from platform_api.pagination import (
    LaravelPagination,
    Page,
    QuerySetNotOrdered,
    php_int,
    resolve_page,
    url_window,
)
from tests.conftest import bearer
from tests.factories import AmbassadorFactory, ApiTokenFactory, OrderFactory

ON_EACH_SIDE = 3  # Laravel's default `onEachSide`


# --- The reference model -------------------------------------------------------------------
def laravel_window(current: int, last: int) -> list[list[int] | str]:
    """`AbstractPaginator::elements()` over `UrlWindow::get()`: page groups and "..." markers."""
    if last < ON_EACH_SIDE * 2 + 8:
        first, slider, finish = list(range(1, last + 1)), None, None
    else:
        window = ON_EACH_SIDE + 4
        has_pages = current != 1 or current < last
        if not has_pages:
            first, slider, finish = None, None, None
        elif current <= window:
            first, slider, finish = (
                list(range(1, window + ON_EACH_SIDE + 1)),
                None,
                [last - 1, last],
            )
        elif current > last - window:
            first, slider = [1, 2], None
            finish = list(range(last - (window + (ON_EACH_SIDE - 1)), last + 1))
        else:
            first = [1, 2]
            slider = list(range(current - ON_EACH_SIDE, current + ON_EACH_SIDE + 1))
            finish = [last - 1, last]
    elements = [
        first,
        "..." if isinstance(slider, list) else None,
        slider,
        "..." if isinstance(finish, list) else None,
        finish,
    ]
    # PHP's array_filter drops nulls and empty arrays.
    return [element for element in elements if element]


def laravel_envelope(
    *, path: str, other_query: str, current: int, per_page: int, total: int
) -> dict[str, Any]:
    """`LengthAwarePaginator::toArray()` without `data`; `other_query` is already encoded."""

    def url(page: int) -> str:
        page = max(page, 1)
        return f"{path}?{other_query}{'&' if other_query else ''}page={page}"

    last_page = max(-(-total // per_page), 1)
    count = max(0, min(per_page, total - (current - 1) * per_page))
    first_item = (current - 1) * per_page + 1 if count > 0 else None
    last_item = first_item + count - 1 if first_item is not None else None
    next_url = url(current + 1) if current < last_page else None
    prev_url = url(current - 1) if current > 1 else None
    links: list[dict[str, Any]] = [{"url": prev_url, "label": "&laquo; Previous", "active": False}]
    for element in laravel_window(current, last_page):
        if isinstance(element, str):
            links.append({"url": None, "label": "...", "active": False})
        else:
            links.extend(
                {"url": url(page), "label": str(page), "active": page == current}
                for page in element
            )
    links.append({"url": next_url, "label": "Next &raquo;", "active": False})
    return {
        "current_page": current,
        "first_page_url": url(1),
        "from": first_item,
        "last_page": last_page,
        "last_page_url": url(last_page),
        "links": links,
        "next_page_url": next_url,
        "path": path,
        "per_page": per_page,
        "prev_page_url": prev_url,
        "to": last_item,
        "total": total,
    }


ENVELOPE_KEYS = [
    "current_page",
    "data",
    "first_page_url",
    "from",
    "last_page",
    "last_page_url",
    "links",
    "next_page_url",
    "path",
    "per_page",
    "prev_page_url",
    "to",
    "total",
]


# --- Unit: the window, the page arithmetic, PHP's integer validation --------------------------
@pytest.mark.parametrize("last", [*range(1, 30), 49, 50, 51, 100])
def test_url_window_matches_laravel_for_every_current_page(last):
    for current in range(1, last + 3):
        expected = [
            None if element == "..." else element for element in laravel_window(current, last)
        ]
        assert url_window(current, last) == expected, (current, last)


@pytest.mark.parametrize(
    ("current", "last", "expected"),
    [
        (1, 1, [[1]]),
        (5, 13, [list(range(1, 14))]),
        (1, 14, [list(range(1, 11)), None, [13, 14]]),
        (7, 14, [list(range(1, 11)), None, [13, 14]]),
        (8, 14, [[1, 2], None, list(range(5, 15))]),
        (7, 50, [list(range(1, 11)), None, [49, 50]]),
        (8, 50, [[1, 2], None, list(range(5, 12)), None, [49, 50]]),
        (25, 50, [[1, 2], None, list(range(22, 29)), None, [49, 50]]),
        (43, 50, [[1, 2], None, list(range(40, 47)), None, [49, 50]]),
        (44, 50, [[1, 2], None, list(range(41, 51))]),
        (200, 50, [[1, 2], None, list(range(41, 51))]),
    ],
)
def test_url_window_known_answers(current, last, expected):
    assert url_window(current, last) == expected


@pytest.mark.parametrize(
    ("number", "per_page", "total", "last_page", "offset", "past_the_end", "size"),
    [
        (1, 15, 0, 1, 0, True, 0),
        (1, 15, 1, 1, 0, False, 1),
        (1, 15, 15, 1, 0, False, 15),
        (2, 15, 15, 1, 15, True, 0),
        (2, 15, 16, 2, 15, False, 1),
        (3, 10, 25, 3, 20, False, 5),
        (4, 10, 25, 3, 30, True, 0),
        (2**63 - 1, 100, 5, 1, (2**63 - 2) * 100, True, 0),
    ],
)
def test_page_arithmetic(number, per_page, total, last_page, offset, past_the_end, size):
    page = Page(number=number, per_page=per_page, total=total)

    assert page.last_page == last_page
    assert page.offset == offset
    assert page.is_past_the_end is past_the_end
    assert page.size == size


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1", 1),
        ("0", 0),
        ("-3", -3),
        ("+3", 3),
        (" 3 ", 3),
        ("\t\n3\r\v", 3),
        ("9223372036854775807", 2**63 - 1),
        ("-9223372036854775808", -(2**63)),
        ("9223372036854775808", None),
        ("-9223372036854775809", None),
        ("", None),
        (" ", None),
        ("abc", None),
        ("1.5", None),
        ("1e3", None),
        ("02", None),
        ("0x1A", None),
        ("3 3", None),
        ("\f3", None),  # form feed is not among PHP's trimmed characters
        ("٣", None),  # a non-ASCII digit
        (None, None),
        ({"0": "1"}, None),
    ],
)
def test_php_int_is_filter_validate_int(value, expected):
    assert php_int(value) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, 1),
        ({"page": "3"}, 3),
        ({"page": " 3 "}, 3),
        ({"page": "+3"}, 3),
        ({"page": "0"}, 1),
        ({"page": "-3"}, 1),
        ({"page": "abc"}, 1),
        ({"page": {"0": "2"}}, 1),
        ({"page": "9223372036854775807"}, 2**63 - 1),
    ],
)
def test_resolve_page(query, expected):
    assert resolve_page(query) == expected


@pytest.mark.django_db
def test_the_paginator_refuses_an_unordered_queryset():
    request = APIRequestFactory().get("/anything")

    with pytest.raises(QuerySetNotOrdered):
        LaravelPagination().paginate_queryset(Order.objects.order_by(), request)


@pytest.mark.django_db
def test_the_paginator_counts_when_no_total_is_given():
    # given
    OrderFactory.create_batch(3)
    request = APIRequestFactory().get("/orders", {"page": "2"})
    paginator = LaravelPagination()

    # when
    rows = list(
        paginator.paginate_queryset(Order.objects.order_by("id_order"), request, per_page=2)
    )

    # then
    assert len(rows) == 1
    envelope = paginator.envelope([], item_count=len(rows))
    assert list(envelope) == ENVELOPE_KEYS
    assert {k: v for k, v in envelope.items() if k != "data"} == laravel_envelope(
        path="http://testserver/orders", other_query="", current=2, per_page=2, total=3
    )


# --- Through the endpoint ---------------------------------------------------------------------
@pytest.fixture
def seller(brand):
    return AmbassadorFactory(brand=brand)


@pytest.fixture
def client(brand):
    client = APIClient()
    client.credentials(**bearer(ApiTokenFactory(brand=brand)))
    return client


def make_orders(seller, count: int, *, newest: datetime | None = None) -> list[Order]:
    """`count` orders of `seller` an hour apart, returned newest first (the default sort)."""
    buyer = AmbassadorFactory(brand=seller.brand)
    newest = newest or timezone.now()
    orders = Order.objects.bulk_create(
        OrderFactory.build(ambassador=seller, buyer=buyer, date_order=newest - timedelta(hours=n))
        for n in range(count)
    )
    return sorted(orders, key=lambda order: (order.date_order, order.id_order), reverse=True)


def orders_url(seller) -> str:
    return f"/api/v2/platform/ambassadors/{seller.pk}/orders"


def assert_matches_laravel(body, *, seller, other_query="", current, per_page, total, expected_ids):
    assert list(body) == ENVELOPE_KEYS
    assert [order["id_order"] for order in body["data"]] == expected_ids
    assert {k: v for k, v in body.items() if k != "data"} == laravel_envelope(
        path=f"http://testserver{orders_url(seller)}",
        other_query=other_query,
        current=current,
        per_page=per_page,
        total=total,
    )


@pytest.mark.parametrize(
    ("total", "per_page", "page"),
    [
        (0, 15, 1),  # no results: one page, "1" active, from/to null
        (0, 15, 2),  # no results, past the end
        (1, 15, 1),
        (5, 5, 1),  # exactly one full page
        (6, 5, 2),  # one row on the second page
        (13, 1, 1),  # 13 pages: shown whole
        (13, 1, 13),
        (14, 1, 1),  # 14 pages: the window starts
        (14, 1, 7),
        (14, 1, 8),
        (14, 1, 14),
        (15, 1, 1),
        (15, 1, 8),
        (15, 1, 9),
        (15, 1, 15),
        (50, 1, 1),
        (50, 1, 7),
        (50, 1, 8),
        (50, 1, 25),
        (50, 1, 43),
        (50, 1, 44),
        (50, 1, 50),
        (50, 1, 51),
        (50, 1, 200),
        (100, 10, 10),
    ],
)
@pytest.mark.django_db
def test_envelope_matches_laravel(client, seller, total, per_page, page):
    # given
    orders = make_orders(seller, total)

    # when
    response = client.get(orders_url(seller), {"per_page": per_page, "page": page})

    # then
    assert response.status_code == 200
    offset = (page - 1) * per_page
    assert_matches_laravel(
        response.json(),
        seller=seller,
        other_query=f"per_page={per_page}",
        current=page,
        per_page=per_page,
        total=total,
        expected_ids=[order.id_order for order in orders[offset : offset + per_page]],
    )


@pytest.mark.parametrize(
    ("raw_page", "current"),
    [
        ("", 1),
        ("abc", 1),
        ("1.5", 1),
        ("02", 1),
        ("0", 1),
        ("-3", 1),
        ("%203%20", 3),  # " 3 ": PHP ignores surrounding whitespace
        ("%2B3", 3),  # "+3"
        ("+3", 3),  # a raw "+" is a space: " 3"
        ("9223372036854775808", 1),
        ("99999999999999999999999", 1),
        ("3&page[]=1", 1),  # the last `page` wins, and an array is not an integer
        ("1&page=3", 3),
    ],
)
@pytest.mark.django_db
def test_invalid_page_values_mean_page_one(client, seller, raw_page, current):
    orders = make_orders(seller, 12)

    response = client.get(f"{orders_url(seller)}?per_page=2&page={raw_page}")

    assert response.status_code == 200
    assert_matches_laravel(
        response.json(),
        seller=seller,
        other_query="per_page=2",
        current=current,
        per_page=2,
        total=12,
        expected_ids=[order.id_order for order in orders[(current - 1) * 2 : current * 2]],
    )


@pytest.mark.parametrize("page", ["2", "1000", "9223372036854775807"])
@pytest.mark.django_db
def test_a_page_past_the_end_runs_no_page_query(client, seller, page, django_assert_num_queries):
    # given
    make_orders(seller, 3)
    client.get(orders_url(seller))  # warm-up: the token's first use is recorded once

    # when: the token and the ambassador with its count; no page, no lines
    with django_assert_num_queries(2) as captured:
        response = client.get(orders_url(seller), {"per_page": 3, "page": page})

    # then
    assert response.status_code == 200
    if connection.vendor != "postgresql":
        assert not any("OFFSET" in query["sql"].upper() for query in captured.captured_queries)
    # PostgreSQL's one statement holds the page, with LIMIT 0 past the end: that it reads no
    # index entry is tests/orders/test_sql_rendering.py's.
    body = response.json()
    assert body["data"] == []
    assert body["from"] is None
    assert body["to"] is None
    assert body["current_page"] == int(page)
    assert body["next_page_url"] is None
    assert body["prev_page_url"] == (
        f"http://testserver{orders_url(seller)}?per_page=3&page={int(page) - 1}"
    )


@pytest.mark.parametrize(
    ("query", "other_query"),
    [
        # Request order, `page` last, RFC 3986.
        (
            "filter[placed_between]=2024-01-01,2024-01-31&page=2&per_page=1",
            "filter%5Bplaced_between%5D=2024-01-01%2C2024-01-31&per_page=1",
        ),
        ("page=2&per_page=1&sort=-date_order", "per_page=1&sort=-date_order"),
        # Spaces, raw or as "+", are written %20; unknown parameters are kept.
        ("per_page=1&note=a+b%20c&page=2", "per_page=1&note=a%20b%20c"),
        # Repeated keys: the last value wins, at the first key's position.
        ("per_page=5&sort=id_order&per_page=1&page=2", "per_page=1&sort=id_order"),
        # filter[...] keys are grouped under `filter` at its first appearance, as PHP does.
        (
            "filter[type]=WEB&per_page=1&filter[currency]=EUR&page=2",
            "filter%5Btype%5D=WEB&filter%5Bcurrency%5D=EUR&per_page=1",
        ),
        ("per_page=1&x=%C3%A9*~&page=2", "per_page=1&x=%C3%A9%2A~"),
        # ConvertEmptyStringsToNull: an empty value is null, and http_build_query skips nulls.
        ("per_page=1&flag&page=2", "per_page=1"),
        ("per_page=1&flag=&page=2", "per_page=1"),
        # TrimStrings: values lose surrounding whitespace (NBSP too) before anything sees them.
        ("per_page=1&q=%20x%C2%A0&page=%C2%A02", "per_page=1&q=x"),
        # PHP's array_merge renumbers integer top-level keys.
        ("1=b&0=c&per_page=1&page=2", "0=b&1=c&per_page=1"),
    ],
)
@pytest.mark.django_db
def test_every_url_keeps_the_query_string(client, seller, query, other_query):
    orders = make_orders(seller, 20, newest=datetime(2024, 1, 31, 12, tzinfo=UTC))

    response = client.get(f"{orders_url(seller)}?{query}")

    assert response.status_code == 200
    body = response.json()
    assert_matches_laravel(
        body,
        seller=seller,
        other_query=other_query,
        current=2,
        per_page=1,
        total=20,
        expected_ids=[orders[1].id_order],
    )
    # Following next_page_url keeps the filters and moves one page on.
    follow = client.get(body["next_page_url"]).json()
    assert follow["current_page"] == 3
    assert follow["next_page_url"] == body["next_page_url"].replace("page=3", "page=4")


@pytest.mark.django_db
def test_the_path_is_absolute_from_the_request_host(client, seller, settings):
    settings.ALLOWED_HOSTS = ["api.example.com"]
    make_orders(seller, 1)

    body = client.get(orders_url(seller), HTTP_HOST="api.example.com").json()

    assert body["path"] == f"http://api.example.com{orders_url(seller)}"
    assert body["first_page_url"] == f"http://api.example.com{orders_url(seller)}?page=1"
