"""`filter[...]`: each filter on matching and non-matching data, bounds, lists, malformed input."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import pytest

from orders.filters import ALLOWED_FILTERS, OrderFilterSet, clean_order_filters
from orders.models import Order
from platform_api.filters import parse_instant
from platform_api.ids import INT32_MAX
from tests.factories import AmbassadorFactory, OrderFactory

ASSIGNMENT_MESSAGE = (
    "The filter.assignment field must be one or more of: "
    "conversation_assigned, affiliation_assigned, unassigned."
)


def orders_url(ambassador) -> str:
    return f"/api/v2/platform/ambassadors/{ambassador.pk}/orders"


@pytest.fixture
def seller(brand):
    return AmbassadorFactory(brand=brand)


@pytest.fixture
def buyers(brand):
    return AmbassadorFactory.create_batch(2, brand=brand)


@pytest.fixture
def fetch(brand_client, seller):
    """The ids of the orders `filter[name]=value` returns (value sent percent-encoded)."""

    def fetch(name: str, value: str) -> set[int]:
        response = brand_client.get(
            f"{orders_url(seller)}?filter[{name}]={quote(value, safe='')}&per_page=100"
        )
        assert response.status_code == 200, response.json()
        body = response.json()
        assert body["total"] == len(body["data"])
        return {order["id_order"] for order in body["data"]}

    return fetch


@pytest.fixture
def reject(brand_client, seller):
    """The 422 body of `filter[name]=value`; `raw` is sent as it is."""

    def reject(name: str, value: str | None = None, *, raw: str | None = None) -> list[str]:
        query = raw if raw is not None else f"filter[{name}]={quote(value or '', safe='')}"
        response = brand_client.get(f"{orders_url(seller)}?{query}")
        assert response.status_code == 422, response.json()
        body = response.json()
        assert list(body) == ["message", "errors"]
        assert list(body["errors"]) == [f"filter.{name}"]
        assert body["message"] == body["errors"][f"filter.{name}"][0]
        assert body["message"].startswith(f"The filter.{name} field must ")
        return body["errors"][f"filter.{name}"]

    return reject


def order_id(**fields: Any) -> int:
    order: Any = OrderFactory(**fields)  # factory_boy types instances as the factory
    return int(order.id_order)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# --- placed_between -------------------------------------------------------------------------
@pytest.fixture
def january(seller, buyers):
    """Orders around January 2024, named by when they were placed."""
    moments = {
        "dec31_last": "2023-12-31T23:59:59.999999",
        "jan1_first": "2024-01-01T00:00:00",
        "jan15_noon": "2024-01-15T12:00:00",
        "jan31_last": "2024-01-31T23:59:59.999999",
        "feb1_first": "2024-02-01T00:00:00",
    }
    orders = {
        name: order_id(ambassador=seller, buyer=buyers[0], date_order=at(moment))
        for name, moment in moments.items()
    }
    # Another seller's order in range: never returned.
    OrderFactory(date_order=at("2024-01-15T12:00:00"))
    return orders


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-01-01,2024-01-31", {"jan1_first", "jan15_noon", "jan31_last"}),
        # A date-only end covers its whole day; a date-only start begins at midnight.
        ("2024-01-15,2024-01-15", {"jan15_noon"}),
        ("2024-01-31,2024-01-31", {"jan31_last"}),
        # Open ranges.
        ("2024-01-01,", {"jan1_first", "jan15_noon", "jan31_last", "feb1_first"}),
        (",2024-01-31", {"dec31_last", "jan1_first", "jan15_noon", "jan31_last"}),
        # Date-time bounds are inclusive to the microsecond.
        (
            "2024-01-01T00:00:00Z,2024-01-31T23:59:59.999999Z",
            {"jan1_first", "jan15_noon", "jan31_last"},
        ),
        ("2024-01-01T00:00:00.000001Z,2024-01-31T23:59:59.999998Z", {"jan15_noon"}),
        ("2024-01-01T00:00:00Z,2024-01-31T23:59:59Z", {"jan1_first", "jan15_noon"}),
        ("2024-01-15T12:00:00Z,2024-01-15T12:00:00Z", {"jan15_noon"}),
        ("2024-01-15T12:00,2024-01-15T12:00", {"jan15_noon"}),  # naive means UTC
        ("2024-01-15 12:00:00,2024-01-15 12:00:00", {"jan15_noon"}),
        ("2024-01-15T14:00:00+02:00,2024-01-15T14:00:00+02:00", {"jan15_noon"}),
        ("2024-01-15T07:00:00-0500,2024-01-15t07:00:00-0500", {"jan15_noon"}),
        # Mixed: a date-time start and a date end.
        ("2024-01-15T12:00:00Z,2024-01-31", {"jan15_noon", "jan31_last"}),
        (" 2024-01-15 , 2024-01-15 ", {"jan15_noon"}),
        ("2025-01-01,2025-12-31", set()),
        ("9999-12-31,9999-12-31", set()),
    ],
)
def test_placed_between(fetch, january, value, expected):
    assert fetch("placed_between", value) == {january[name] for name in expected}


@pytest.mark.parametrize("value", ["", ",", " , "])
def test_placed_between_empty_is_no_filter(fetch, january, value):
    assert fetch("placed_between", value) == set(january.values())


@pytest.mark.parametrize(
    "value",
    [
        "2024-01-01",  # one bound without the comma
        "2024-01-01,2024-01-31,2024-02-01",
        "2024-01-31,2024-01-01",  # start after end
        "2024-01-02,2024-01-01",
        "2024-01-15T12:00:00.000001Z,2024-01-15T12:00:00Z",
        "2024-13-01,",
        "2024-02-30,",
        ",2024-02-30",
        "20240101,",
        "abc,",
        ",abc",
        "yesterday,today",
        "2024-01-01T25:00:00Z,",
        "2024-01-01T10:00:00+25:00,",
        "2024-01-01\x00,",
    ],
)
def test_placed_between_malformed_is_422(reject, january, value):
    reject("placed_between", value)


@pytest.mark.parametrize(
    "raw",
    [
        "filter[placed_between][]=2024-01-01",
        "filter[placed_between][start]=2024-01-01",
        "filter[placed_between]=%FF,",
        # A raw "+" is a space: the offset is lost, as in PHP.
        "filter[placed_between]=2024-01-15T14:00:00+02:00,",
    ],
)
def test_placed_between_malformed_raw_is_422(reject, january, raw):
    reject("placed_between", raw=raw)


# --- updated_since ----------------------------------------------------------------------------
@pytest.fixture
def updates(seller, buyers):
    moments = {
        "before": "2024-01-14T23:59:59.999999",
        "midnight": "2024-01-15T00:00:00",
        "noon": "2024-01-15T12:00:00",
        "later": "2024-03-01T00:00:00",
    }
    return {
        name: order_id(ambassador=seller, buyer=buyers[0], date_update=at(moment))
        for name, moment in moments.items()
    }


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-01-15", {"midnight", "noon", "later"}),
        ("2024-01-15T00:00:00Z", {"midnight", "noon", "later"}),
        ("2024-01-14T23:59:59.999999Z", {"before", "midnight", "noon", "later"}),
        ("2024-01-15T12:00:00Z", {"noon", "later"}),  # inclusive
        ("2024-01-15T12:00:00.000001Z", {"later"}),
        ("2024-01-15T13:00:00+01:00", {"noon", "later"}),
        ("2024-03-01T00:00:01Z", set()),
        ("", {"before", "midnight", "noon", "later"}),  # empty: no filter
    ],
)
def test_updated_since(fetch, updates, value, expected):
    assert fetch("updated_since", value) == {updates[name] for name in expected}


@pytest.mark.parametrize(
    "value", ["yesterday", "2024-01-32", "2024-01-15,2024-01-16", "15/01/2024", "1705276800"]
)
def test_updated_since_malformed_is_422(reject, updates, value):
    assert reject("updated_since", value) == [
        "The filter.updated_since field must be an ISO 8601 date or date-time."
    ]


# --- The list filters ----------------------------------------------------------------------------
@pytest.fixture
def assorted(seller, buyers):
    """Three orders that differ in every listed attribute."""
    rows = {
        "a": {
            "last_status": "OK",
            "type": "WEB",
            "source": "shopify",
            "currency": "EUR",
            "assignment": "conversation_assigned",
            "id_chatroom": 7,
            "buyer": buyers[0],
        },
        "b": {
            "last_status": "PENDING",
            "type": "STORE",
            "source": "store-pos",
            "currency": "USD",
            "assignment": "affiliation_assigned",
            "id_chatroom": 8,
            "buyer": buyers[1],
        },
        "c": {
            "last_status": "CANCELLED",
            "type": "MAG",
            "source": "",
            "currency": "GBP",
            "assignment": "unassigned",
            "id_chatroom": 0,
            "buyer": buyers[1],
        },
    }
    orders = {name: order_id(ambassador=seller, **fields) for name, fields in rows.items()}
    # Another seller's order that every filter below would match: never returned.
    OrderFactory(buyer=buyers[0], last_status="OK", type="WEB", currency="EUR", id_chatroom=7)
    return orders


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("last_status", "OK", {"a"}),
        ("last_status", "OK,CANCELLED", {"a", "c"}),
        ("last_status", " OK , PENDING ", {"a", "b"}),
        ("last_status", "OK,,", {"a"}),
        ("last_status", "FULFILLED", set()),
        ("last_status", "ok", set()),  # values are case-sensitive, as in SQL
        ("type", "WEB", {"a"}),
        ("type", "STORE,MAG", {"b", "c"}),
        ("type", "NOPE", set()),
        ("source", "shopify", {"a"}),
        ("source", "store-pos,shopify", {"a", "b"}),
        ("source", "amazon", set()),
        ("currency", "EUR", {"a"}),
        ("currency", "USD,GBP", {"b", "c"}),
        ("currency", "JPY", set()),
        ("assignment", "conversation_assigned", {"a"}),
        ("assignment", "affiliation_assigned,unassigned", {"b", "c"}),
        ("id_chatroom", "7", {"a"}),
        ("id_chatroom", "7,8", {"a", "b"}),
        ("id_chatroom", "9", set()),
        ("id_chatroom", str(INT32_MAX), set()),
    ],
)
def test_list_filters(fetch, assorted, name, value, expected):
    assert fetch(name, value) == {assorted[key] for key in expected}


def test_id_buyer(fetch, assorted, buyers):
    assert fetch("id_buyer", str(buyers[0].pk)) == {assorted["a"]}
    assert fetch("id_buyer", f"{buyers[0].pk},{buyers[1].pk}") == set(assorted.values())
    assert fetch("id_buyer", "9223372036854775807") == set()


@pytest.mark.parametrize(
    "name",
    ["last_status", "type", "source", "currency", "assignment", "id_chatroom", "id_buyer"],
)
@pytest.mark.parametrize("value", ["", " ", ","])
def test_an_empty_list_is_no_filter(fetch, assorted, name, value):
    assert fetch(name, value) == set(assorted.values())


def test_filters_combine_with_and(brand_client, seller, assorted):
    response = brand_client.get(
        f"{orders_url(seller)}?filter[type]=WEB,STORE&filter[currency]=USD,GBP"
    )

    assert [order["id_order"] for order in response.json()["data"]] == [assorted["b"]]


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (
            "assignment",
            "nope",
            ASSIGNMENT_MESSAGE,
        ),
        (
            "assignment",
            "unassigned,nope",
            ASSIGNMENT_MESSAGE,
        ),
        ("currency", "eur", "The filter.currency field must be ISO 4217 codes"),
        ("currency", "EURO", "The filter.currency field must be ISO 4217 codes"),
        ("currency", "EUR,1", "The filter.currency field must be ISO 4217 codes"),
        ("last_status", "X" * 33, "The filter.last_status field must not have items longer"),
        ("type", "X" * 17, "The filter.type field must not have items longer"),
        ("source", "X" * 65, "The filter.source field must not have items longer"),
        ("id_chatroom", "abc", "The filter.id_chatroom field must be a comma-separated list"),
        ("id_chatroom", "7,x", "The filter.id_chatroom field must be a comma-separated list"),
        ("id_chatroom", "-1", "The filter.id_chatroom field must be a comma-separated list"),
        ("id_chatroom", "1.5", "The filter.id_chatroom field must be a comma-separated list"),
        ("id_chatroom", "٣", "The filter.id_chatroom field must be a comma-separated list"),
        ("id_chatroom", "0", "The filter.id_chatroom field must contain integers between 1"),
        ("id_chatroom", str(INT32_MAX + 1), "The filter.id_chatroom field must contain"),
        ("id_buyer", "abc", "The filter.id_buyer field must be a comma-separated list"),
        ("id_buyer", "9223372036854775808", "The filter.id_buyer field must contain"),
        ("type", "WE\x00B", "The filter.type field must not contain NUL characters"),
    ],
)
def test_list_filters_malformed_is_422(reject, assorted, name, value, message):
    errors = reject(name, value)

    assert len(errors) == 1
    assert errors[0].startswith(message)


@pytest.mark.parametrize(
    "name",
    ["last_status", "type", "source", "currency", "assignment", "id_chatroom", "id_buyer"],
)
def test_list_filters_as_arrays_are_422(reject, assorted, name):
    assert reject(name, raw=f"filter[{name}][]=1") == [f"The filter.{name} field must be a string."]


def test_invalid_utf8_is_422_not_500(reject, assorted):
    assert reject("source", raw="filter[source]=%FF") == [
        "The filter.source field must be valid UTF-8."
    ]


def test_two_malformed_filters_are_reported_together(brand_client, seller):
    response = brand_client.get(f"{orders_url(seller)}?filter[currency]=eur&filter[id_chatroom]=x")

    assert response.status_code == 422
    body = response.json()
    assert set(body["errors"]) == {"filter.currency", "filter.id_chatroom"}
    assert body["message"] == body["errors"]["filter.currency"][0] + " (and 1 more error)"


# --- parse_instant, directly ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "end_of_day", "expected"),
    [
        ("2024-01-15", False, "2024-01-15T00:00:00+00:00"),
        ("2024-01-15", True, "2024-01-16T00:00:00+00:00"),
        ("2024-12-31", True, "2025-01-01T00:00:00+00:00"),
        ("2024-01-15T12:34", False, "2024-01-15T12:34:00+00:00"),
        ("2024-01-15T12:34:56.5Z", False, "2024-01-15T12:34:56.500000+00:00"),
        ("2024-01-15T12:34:56+0130", False, "2024-01-15T11:04:56+00:00"),
        ("2024-01-15t12:34:56z", False, "2024-01-15T12:34:56+00:00"),
    ],
)
def test_parse_instant(text, end_of_day, expected):
    assert parse_instant(text, end_of_day=end_of_day).isoformat() == expected


@pytest.mark.parametrize("text", ["", "2024", "2024-1-5", "2024-01-15T", "now", "2024-01-15T12"])
def test_parse_instant_refuses(text):
    with pytest.raises(ValueError, match=r".*"):
        parse_instant(text)


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"placed_between": "2025-01-01,2025-01-31"},
        {"placed_between": ",2025-01-31T10:00:00+02:00", "last_status": "OK, PENDING"},
        {"placed_between": "2025-02-01,2025-01-01", "currency": "eur"},
        {"placed_between": "", "last_status": "", "id_buyer": ","},
        {"id_chatroom": "1,2,3", "id_buyer": "9223372036854775807", "assignment": "unassigned"},
        {"id_chatroom": "0", "assignment": "nobody", "type": "x" * 17},
        {"updated_since": "2025-05-04T09:42:00Z", "source": "shopify,web"},
        {"updated_since": "yesterday", "last_status": {"0": "OK"}},
        {"source": "a\x00b"},
    ],
)
def test_cleaning_answers_what_the_filtersets_form_answers(db, data):
    # given: the FilterSet and its form as django-filter runs them
    filterset = OrderFilterSet(data=data, queryset=Order.objects.none())
    valid = filterset.is_valid()
    # when
    values, errors = clean_order_filters(data)
    # then
    assert errors == {name: list(messages) for name, messages in filterset.errors.items()}
    assert valid == (not errors)
    if valid:
        expected = {
            name: value
            for name, value in filterset.form.cleaned_data.items()
            if value is not None and value != []
        }
        assert values == expected
        assert list(values) == [name for name in ALLOWED_FILTERS if name in values]
