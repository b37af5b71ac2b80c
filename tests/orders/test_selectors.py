"""The selection's compiled SQL (count and page ids) answers what its queryset answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from orders.models import Order
from orders.query import ORDER_PARAMETERS, read_orders_query
from orders.selectors import select_ambassador_orders, visible_ambassador_order_total
from platform_api.php_query import parse_str
from tests.factories import AmbassadorFactory, ApiTokenFactory, OrderFactory

START = datetime(2025, 3, 1, tzinfo=UTC)

QUERIES = [
    "",
    "sort=total_amount",
    "sort=-date_update,total_paid",
    "filter[placed_between]=2025-03-02,2025-03-05",
    "filter[placed_between]=2025-03-04,",
    "filter[placed_between]=,2025-03-03T12:00:00Z",
    "filter[last_status]=OK,CANCELLED&sort=id_order",
    "filter[last_status]=PENDING",
    "filter[currency]=GBP&filter[type]=STORE,WEB",
    "filter[id_chatroom]=7,8,9&filter[assignment]=unassigned",
    "filter[updated_since]=2025-03-06T00:00:00Z&filter[source]=shopify",
    "filter[last_status]=",
]


@pytest.fixture
def seller(brand):
    seller = AmbassadorFactory(brand=brand)
    statuses = [Order.Status.OK, Order.Status.CANCELLED, Order.Status.PENDING]
    for n in range(24):
        OrderFactory(
            ambassador=seller,
            date_order=START + timedelta(hours=7 * n),
            date_update=START + timedelta(hours=11 * n),
            last_status=statuses[n % 3],
            currency="GBP" if n % 4 == 0 else "EUR",
            type=Order.Type.STORE if n % 5 == 0 else Order.Type.WEB,
            id_chatroom=7 + n % 4,
            total_amount=n % 6,
            total_paid=n % 5,
        )
    OrderFactory(date_order=START)  # another ambassador's
    return seller


def selection_for(seller, query_string: str):
    query = read_orders_query(parse_str(query_string))
    return select_ambassador_orders(
        ambassador_id=seller.pk, filters=query.filters, ordering=query.ordering
    )


@pytest.mark.parametrize("query_string", QUERIES)
@pytest.mark.parametrize(("offset", "limit"), [(0, 5), (5, 5), (20, 10), (30, 5)])
def test_ids_sql_pages_as_the_querysets_page(seller, query_string, offset, limit):
    # given
    selection = selection_for(seller, query_string)
    # when: paged as its callers page it, by appending LIMIT and OFFSET
    sql, params = selection.ids_sql("default")
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} LIMIT %s OFFSET %s", [*params, limit, offset])
        ids = [row[0] for row in cursor.fetchall()]
    # then
    expected = list(selection.page(offset=offset, limit=limit).values_list("pk", flat=True))
    assert ids == expected
    assert len(ids) == min(limit, max(selection.queryset().count() - offset, 0))


# Every sort the route allows, each way, and keys mixing directions.
EVERY_SORT = [
    *[f"sort={sign}{name}" for name in ORDER_PARAMETERS.sorts for sign in ("", "-")],
    "sort=-total_amount,date_order",
    "sort=total_paid,-date_update",
    "sort=id_order,-total_amount",
    "filter[currency]=EUR&sort=-total_paid",
]


@pytest.mark.parametrize("query_string", ["", *EVERY_SORT])
def test_the_reversed_selection_reads_the_exact_reverse(seller, query_string):
    # given: amounts repeat (n % 6, n % 5), so only the tie-breaker orders those rows
    selection = selection_for(seller, query_string)
    # when
    forward = list(selection.queryset().values_list("pk", flat=True))
    backward = list(selection.reversed().queryset().values_list("pk", flat=True))
    # then
    assert len(forward) > 1
    assert backward == forward[::-1]


@pytest.mark.parametrize("query_string", ["", *EVERY_SORT])
def test_the_reversed_ids_sql_flips_every_key_and_leaves_nulls_to_the_default(seller, query_string):
    # ASC puts NULLs last and DESC first by default: flipping keys without a NULLS clause is
    # the exact reverse (the sort keys are NOT NULL anyway).
    selection = selection_for(seller, query_string)
    sql, _ = selection.ids_sql("default")
    reversed_sql, _ = selection.reversed().ids_sql("default")
    swapped = sql.replace(" ASC", " \0").replace(" DESC", " ASC").replace(" \0", " DESC")
    assert "NULLS" not in sql.upper()
    assert reversed_sql == swapped != sql
    assert selection.reversed().reversed() == selection


@pytest.mark.parametrize("query_string", QUERIES)
def test_the_total_counts_the_selection(seller, query_string, django_assert_num_queries):
    # given
    token = ApiTokenFactory(brand=seller.brand)
    selection = selection_for(seller, query_string)
    expected = selection.queryset().count()
    # when
    with django_assert_num_queries(1):
        total = visible_ambassador_order_total(
            token=token, ambassador_id=seller.pk, orders=selection
        )
    # then
    assert total == expected


def test_empty_filter_values_filter_nothing(seller):
    assert selection_for(seller, "filter[last_status]=&filter[placed_between]=").filters == {}


def test_the_total_is_none_for_an_ambassador_the_token_may_not_see(seller):
    selection = selection_for(seller, "filter[last_status]=OK")
    other_brand = ApiTokenFactory()
    own_ambassador = ApiTokenFactory(for_ambassador=True, ambassador=seller, brand=seller.brand)
    assert (
        visible_ambassador_order_total(token=other_brand, ambassador_id=seller.pk, orders=selection)
        is None
    )
    assert (
        visible_ambassador_order_total(
            token=own_ambassador, ambassador_id=seller.pk, orders=selection
        )
        == 8
    )
    assert (
        visible_ambassador_order_total(token=own_ambassador, ambassador_id=seller.pk, orders=None)
        == 0
    )
    assert (
        visible_ambassador_order_total(token=own_ambassador, ambassador_id=10**12, orders=None)
        is None
    )
