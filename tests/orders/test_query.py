"""`per_page`, `sort` and the names of `filter[...]`: read as Laravel and spatie read them."""

from __future__ import annotations

import pytest

from orders.query import ORDER_PARAMETERS, read_orders_query
from platform_api.errors import BadQuery, UnprocessableQuery
from platform_api.query import DEFAULT_PER_PAGE, read_per_page
from tests.factories import OrderFactory

ALLOWED_SORTS = ["date_order", "id_order", "total_amount", "total_paid", "date_update"]
read_filters = ORDER_PARAMETERS.read_filters
read_ordering = ORDER_PARAMETERS.read_ordering
ALLOWED_FILTER_NAMES = [
    "placed_between",
    "last_status",
    "type",
    "source",
    "currency",
    "assignment",
    "id_chatroom",
    "id_buyer",
    "updated_since",
]
MUST_BE_INTEGER = "The per page field must be an integer."
AT_LEAST_1 = "The per page field must be at least 1."
AT_MOST_100 = "The per page field must not be greater than 100."


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, DEFAULT_PER_PAGE),
        ({"per_page": "1"}, 1),
        ({"per_page": "100"}, 100),
        ({"per_page": " 7 "}, 7),
        ({"per_page": "+7"}, 7),
    ],
)
def test_per_page_in_range(query, expected):
    assert read_per_page(query) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0", AT_LEAST_1),
        ("-1", AT_LEAST_1),
        ("101", AT_MOST_100),
        ("9223372036854775807", AT_MOST_100),
        ("9223372036854775808", MUST_BE_INTEGER),
        ("abc", MUST_BE_INTEGER),
        ("1.5", MUST_BE_INTEGER),
        ("05", MUST_BE_INTEGER),
        ("", MUST_BE_INTEGER),
        ({"0": "5"}, MUST_BE_INTEGER),
    ],
)
def test_per_page_out_of_range_is_laravels_422(value, message):
    with pytest.raises(UnprocessableQuery) as raised:
        read_per_page({"per_page": value})

    assert raised.value.errors == {"per_page": [message]}
    assert raised.value.detail == message
    assert raised.value.status_code == 422


@pytest.mark.parametrize(
    ("sort", "ordering"),
    [
        (None, ["-date_order", "-id_order"]),
        ("", ["-date_order", "-id_order"]),
        ("date_order", ["date_order", "id_order"]),
        ("-total_amount", ["-total_amount", "-id_order"]),
        ("id_order", ["id_order"]),
        ("-id_order", ["-id_order"]),
        ("total_paid,-date_update", ["total_paid", "-date_update", "id_order"]),
        ("-total_paid,id_order,date_update", ["-total_paid", "id_order", "date_update"]),
        # A key named twice counts once, the first time.
        ("date_order,-date_order", ["date_order", "id_order"]),
        # spatie drops empty parts of the list.
        ("date_order,", ["date_order", "id_order"]),
        (",-total_amount", ["-total_amount", "-id_order"]),
        (",", ["-date_order", "-id_order"]),
        # ... and "0" (PHP's filter() drops falsy strings).
        ("0", ["-date_order", "-id_order"]),
        ("total_paid,0", ["total_paid", "id_order"]),
        # spatie's name is ltrim($part, '-'), descending when the part starts with "-".
        ("--date_order", ["-date_order", "-id_order"]),
        ("---total_amount,date_order", ["-total_amount", "date_order", "-id_order"]),
    ],
)
def test_read_ordering(sort, ordering):
    query = {} if sort is None else {"sort": sort}

    assert read_ordering(query) == ordering


@pytest.mark.parametrize(
    "sort", ["nope", "-nope", "date_order,nope", "buyer", "-", "-0", "date_order, -id_order"]
)
def test_unknown_sorts_are_400_naming_what_is_allowed(sort):
    with pytest.raises(BadQuery) as raised:
        read_ordering({"sort": sort})

    message = str(raised.value.detail)
    assert raised.value.status_code == 400
    assert "is not allowed" in message
    assert all(name in message for name in ALLOWED_SORTS)


@pytest.mark.parametrize(
    ("sort", "named"),
    [
        # InvalidSortQuery lists spatie's names: ltrim($part, '-'), duplicates kept.
        ("-nope", "nope"),
        ("-", ""),
        ("nope,--nope,date_order", "nope, nope"),
        # Parts are not trimmed: a space after a comma is part of the name.
        ("date_order, -id_order", " -id_order"),
    ],
)
def test_unknown_sorts_are_named_as_spatie_names_them(sort, named):
    with pytest.raises(BadQuery) as raised:
        read_ordering({"sort": sort})

    assert str(raised.value.detail) == (
        f"Requested sort(s) `{named}` is not allowed. Allowed sort(s) are "
        f"`{', '.join(ALLOWED_SORTS)}`."
    )


def test_unknown_filters_are_400_naming_what_is_allowed():
    with pytest.raises(BadQuery) as raised:
        read_filters({"filter": {"type": "WEB", "nope": "1", "other": ""}})

    assert str(raised.value.detail) == (
        "Requested filter(s) `nope, other` are not allowed. "
        f"Allowed filter(s) are `{', '.join(ALLOWED_FILTER_NAMES)}`."
    )


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, {}),
        ({"filter": "x"}, {}),  # a plain `filter=x` is ignored, as spatie does
        ({"filter": {"type": "WEB"}}, {"type": "WEB"}),
        ({"filter": {"type": "", "currency": "EUR"}}, {"type": "", "currency": "EUR"}),
    ],
)
def test_read_filters(query, expected):
    assert read_filters(query) == expected


def test_read_orders_query_combines_the_three():
    query = read_orders_query(
        {"per_page": "5", "sort": "total_paid", "filter": {"type": "WEB"}, "page": "2"}
    )

    assert query.per_page == 5
    assert query.ordering == ["total_paid", "id_order"]
    assert query.filters == {"type": "WEB"}


# --- Through the endpoint ---------------------------------------------------------------------
def orders_url(ambassador) -> str:
    return f"/api/v2/platform/ambassadors/{ambassador.pk}/orders"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("0", AT_LEAST_1),
        ("101", AT_MOST_100),
        ("abc", MUST_BE_INTEGER),
        ("", MUST_BE_INTEGER),
        ("1.0", MUST_BE_INTEGER),
    ],
)
def test_per_page_422_body(brand_client, ambassador, raw, message):
    response = brand_client.get(f"{orders_url(ambassador)}?per_page={raw}")

    assert response.status_code == 422
    assert response.json() == {"message": message, "errors": {"per_page": [message]}}


@pytest.mark.parametrize(("per_page", "rows"), [(None, 15), ("1", 1), ("100", 100), ("7", 7)])
def test_per_page_sizes_the_page(brand_client, ambassador, per_page, rows):
    OrderFactory.create_batch(101, ambassador=ambassador, buyer=ambassador)
    query = {} if per_page is None else {"per_page": per_page}

    body = brand_client.get(orders_url(ambassador), query).json()

    assert body["per_page"] == rows
    assert len(body["data"]) == rows


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("sort=nope", "`nope`"),
        ("sort=-date_order,buyer", "`buyer`"),
    ],
)
def test_unknown_sort_400_body(brand_client, ambassador, query, names):
    response = brand_client.get(f"{orders_url(ambassador)}?{query}")

    assert response.status_code == 400
    body = response.json()
    assert list(body) == ["message"]
    assert body["message"] == (
        f"Requested sort(s) {names} is not allowed. "
        f"Allowed sort(s) are `{', '.join(ALLOWED_SORTS)}`."
    )


def test_unknown_filter_400_body(brand_client, ambassador):
    response = brand_client.get(f"{orders_url(ambassador)}?filter[nope]=1&filter[type]=WEB")

    assert response.status_code == 400
    assert response.json() == {
        "message": "Requested filter(s) `nope` are not allowed. "
        f"Allowed filter(s) are `{', '.join(ALLOWED_FILTER_NAMES)}`."
    }


def test_sort_as_an_array_is_422(brand_client, ambassador):
    response = brand_client.get(f"{orders_url(ambassador)}?sort[]=date_order")

    assert response.status_code == 422
    assert response.json()["errors"] == {"sort": ["The sort field must be a string."]}
