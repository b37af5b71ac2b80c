"""The PostgreSQL render path writes the same bytes as the Python path, on the same data.

Everything here but the render-switch test needs PostgreSQL (the SQL path uses PostgreSQL's
functions); on SQLite those tests are skipped, and the Python path is the only one.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import cycle

import orjson
import pytest
from django.db import connection
from rest_framework.test import APIClient

from orders import sql_rendering
from orders.models import I18nContent, Order
from orders.query import read_orders_query
from orders.rendering import render_orders_page
from orders.selectors import select_ambassador_orders
from orders.sql_rendering import EMPTY_PAGE, render_visible_page, visible_page_sql
from platform_api.php_query import parse_str
from platform_api.settings.base import database_config
from tests.conftest import bearer
from tests.factories import (
    AmbassadorFactory,
    ApiTokenFactory,
    I18nContentFactory,
    OrderFactory,
    OrderProductFactory,
    ProductFactory,
)
from tests.orders.sql_pages import render_orders_page_sql

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the SQL render path is PostgreSQL-only; set DATABASE_URL=postgres://… to run it",
)
pytestmark = [pytest.mark.postgres]

NOW = datetime(2025, 5, 4, 9, 42, 0, 123456, tzinfo=UTC)
ROUTE = "/api/v2/platform/ambassadors/{id}/orders"

TRICKY = [
    "plain",
    "quote \" and ' apostrophe",
    "back\\slash \\n \\u0041 literal",
    "controls \x01\x07\x08\t\n\x0b\x0c\r\x1b\x1f and DEL \x7f",
    "é ñ ü ß — “curly” 中文 العربية",
    "emoji 😀👍🏽 family 👨\u200d👩\u200d👧",
    "separators \u2028 \u2029 \u0085 \ufeff",
    "</script><!-- %s %(x)s {} [] ,:",
    "",
]
MONEY = ["0", "0.01", "19.9", "19.99", "42", "9999999999.99", "0.10", "100.5"]
PERCENT = ["0", "0.01", "19.9", "19.99", "42", "100"]
STOCK = ["0", "-0.5", "-42", "12.34", "7"]
# Around the 5-minute online window, relative to NOW (seconds before it; negative: after).
LAST_ACTION = [300, 299.999999, 300.000001, 0, -60, 86400, 299]


def orders_sliced(ambassador_id: int, query_string: str, *, page: int, per_page: int):
    """The page's queryset exactly as the view builds it (query parsing, selector, slice)."""
    query = read_orders_query(parse_str(query_string))
    orders = select_ambassador_orders(
        ambassador_id=ambassador_id, filters=query.filters, ordering=query.ordering
    ).queryset()
    offset = (page - 1) * per_page
    return orders[offset : offset + per_page]


def assert_same_bytes(page) -> int:
    python = orjson.dumps(render_orders_page(page, now=NOW))
    rendered = render_orders_page_sql(page, now=NOW, using="default")
    assert isinstance(rendered.data, orjson.Fragment)
    assert orjson.dumps(rendered.data) == python
    assert rendered.item_count == len(orjson.loads(python))
    return rendered.item_count


@pytest.fixture
def seller(db):
    """An ambassador with 31 orders covering every awkward value, and a stranger's order."""
    seller = AmbassadorFactory()
    buyers = [
        AmbassadorFactory(
            brand=seller.brand,
            firstname=text,
            lastname=TRICKY[-1 - n],
            email=f"{n}{text}@example.com",
            email_tmp=text,
            image=text,
            customer_id=text,
            active=[-3, 0, 1][n % 3],
            status=n % 9,
            anonymized=n % 2 == 0,
            last_action_date=NOW - timedelta(seconds=LAST_ACTION[n % len(LAST_ACTION)]),
        )
        for n, text in enumerate(TRICKY)
    ]
    products = []
    for n in range(10):
        nullable = n % 2 == 0
        product = ProductFactory(
            name=None if nullable else TRICKY[n % len(TRICKY)],
            type=None if nullable else "physical",
            sku=None if n == 4 else f"SKU-{n}",
            youtube_id=None if nullable else "dQw4w9WgXcQ",
            url=None if nullable else f'https://shop.example.com/p/{n}?a=1&b="2"',
            description=None if nullable else TRICKY[(n + 3) % len(TRICKY)],
            old_image=None if nullable else "https://cdn.example.com/old.jpg",
            discount_percentage=Decimal(PERCENT[n % len(PERCENT)]),
            price_catalog=Decimal(MONEY[n % len(MONEY)]),
            reference_unit_price=Decimal(MONEY[(n + 1) % len(MONEY)]),
            price=Decimal(MONEY[(n + 2) % len(MONEY)]),
            stock=[0, -1, 12, 2**31 - 1][n % 4],
            stock_available=Decimal(STOCK[n % len(STOCK)]),
        )
        # 0..4 images; created in reverse language order so id order differs from lang order.
        for lang in reversed(list(I18nContent.Lang.values)[: n % 5]):
            I18nContentFactory(product=product, lang=lang, content=TRICKY[n % len(TRICKY)])
        products.append(product)
    base = datetime(2025, 4, 30, 12, 0, 0, 999999, tzinfo=UTC)
    money, status, kind = cycle(MONEY), cycle(Order.Status.values), cycle(Order.Type.values)
    assignment = cycle(Order.Assignment.values)
    for n in range(31):
        # Orders come in pairs placed at the same instant: ties break on id_order.
        placed = base - timedelta(days=n // 2 * 3)
        order = OrderFactory(
            ambassador=seller,
            buyer=buyers[n % len(buyers)],
            id_order_external=None if n % 4 == 0 else TRICKY[n % len(TRICKY)],
            id_meeting_external=None if n % 3 else f"MEET-{n}",
            total_amount=Decimal(next(money)),
            total_paid=Decimal(next(money)),
            total_ws=Decimal(next(money)),
            source=["shopify", "store", TRICKY[1]][n % 3],
            last_status=next(status),
            type=next(kind),
            assignment=next(assignment),
            currency=["EUR", "USD", "GBP"][n % 3],
            id_chatroom=n % 4,
            customer_id=TRICKY[(n + 2) % len(TRICKY)],
            order_info=TRICKY[(n + 5) % len(TRICKY)],
            date_order=placed,
            date_insert=placed,
            date_update=base + timedelta(hours=n % 7, seconds=0.5),
        )
        # 0..4 lines (every fifth order has none), money values and quantities mixed.
        for m in range(n % 5):
            OrderProductFactory(
                order=order,
                product=products[(n + m) % len(products)],
                quantity=[1, 3, 7, 2][m % 4],
                unit_price=Decimal(MONEY[(n + m) % len(MONEY)]),
                sku=TRICKY[m],
            )
    OrderProductFactory(order__buyer=buyers[0])  # another ambassador's order, never shown
    return seller


SORTS = [
    "",
    *[
        f"{sign}{name}"
        for name in ["date_order", "id_order", "total_amount", "total_paid", "date_update"]
        for sign in ("", "-")
    ],
    "-total_amount,date_order",
]
PAGES = [(1, 1), (2, 1), (31, 1), (1, 15), (2, 15), (3, 15), (1, 100)]


@postgres_only
@pytest.mark.parametrize("sort", SORTS)
def test_every_sort_and_page_renders_the_same_bytes(seller, sort):
    # when / then
    counts = [
        assert_same_bytes(orders_sliced(seller.pk, f"sort={sort}", page=page, per_page=per_page))
        for page, per_page in PAGES
    ]
    assert counts == [1, 1, 1, 15, 15, 1, 31]


@postgres_only
@pytest.mark.parametrize(
    ("query_string", "expected"),
    [
        ("filter[placed_between]=2025-04-01,2025-04-30", 20),
        ("filter[placed_between]=,2025-04-10T00:00:00Z", 17),
        ("filter[last_status]=OK,PENDING", 9),
        ("filter[type]=STORE", 10),
        ("filter[source]=store", 10),
        ("filter[currency]=USD,GBP", 20),
        ("filter[assignment]=unassigned", 10),
        ("filter[id_chatroom]=1,3", 15),
        ("filter[updated_since]=2025-04-30T15:00:00Z", 16),
        ("filter[type]=WEB&filter[currency]=EUR&sort=-total_paid", 11),
        ("filter[source]=nothing-matches", 0),
    ],
)
def test_filtered_pages_render_the_same_bytes(seller, query_string, expected):
    assert assert_same_bytes(orders_sliced(seller.pk, query_string, page=1, per_page=100)) == (
        expected
    )


@postgres_only
def test_filter_by_buyer_renders_the_same_bytes(seller):
    buyer_id = Order.objects.filter(ambassador=seller).values_list("buyer_id", flat=True)[0]
    page = orders_sliced(seller.pk, f"filter[id_buyer]={buyer_id}", page=1, per_page=15)
    assert assert_same_bytes(page) == 4


@postgres_only
def test_values_are_rendered_as_the_published_page_types(seller):
    # A spot check of the SQL path alone, so that a shared mistake of both paths shows too.
    order = OrderFactory(
        ambassador=seller,
        total_amount=Decimal("42.00"),
        total_paid=Decimal("19.90"),
        total_ws=Decimal("0.01"),
        date_order=datetime(2030, 1, 2, 3, 4, 5, 999999, tzinfo=UTC),
        buyer__last_action_date=NOW - timedelta(seconds=299),
    )
    OrderProductFactory(
        order=order, quantity=3, unit_price=Decimal("19.99"), product__price_catalog=Decimal("42")
    )
    page = orders_sliced(seller.pk, "", page=1, per_page=1)
    [rendered] = orjson.loads(
        orjson.dumps(render_orders_page_sql(page, now=NOW, using="default").data)
    )
    raw = orjson.dumps(render_orders_page_sql(page, now=NOW, using="default").data)
    assert b'"total_amount":42.0,"total_paid":19.9,"total_ws":0.01,' in raw
    assert rendered["date_order"] == "2030-01-02T03:04:05Z"
    assert rendered["buyer"]["online"] is True
    [line] = rendered["products"]
    assert line["price_catalog"] == 42
    assert b'"price_catalog":42,' in raw
    assert line["order_details"]["total_price"] == 59.97
    assert rendered["total_products_quantity"] == 3


@postgres_only
def test_page_past_the_end_renders_nothing_without_a_query(seller, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert render_orders_page_sql(Order.objects.none(), now=NOW, using="default") == EMPTY_PAGE


@postgres_only
def test_one_query_whatever_the_page_size(seller, django_assert_num_queries):
    for per_page in (1, 100):
        page = orders_sliced(seller.pk, "", page=1, per_page=per_page)
        with django_assert_num_queries(1):
            render_orders_page_sql(page, now=NOW, using="default")


@postgres_only
def test_strings_are_escaped_exactly_as_orjson_escapes_them(db):
    # Every Unicode scalar value PostgreSQL text can hold (no NUL, no surrogates), in one query.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT string_agg(to_json(chr(n))::text, '' ORDER BY n)"
            " FROM generate_series(1, 1114111) AS n WHERE n NOT BETWEEN 55296 AND 57343"
        )
        [(escaped,)] = cursor.fetchall()
    expected = "".join(
        orjson.dumps(chr(n)).decode() for n in range(1, 0x110000) if not 0xD800 <= n <= 0xDFFF
    )
    assert escaped == expected


def test_render_switch_follows_the_read_database(seller, django_assert_num_queries):
    # given
    token = ApiTokenFactory(brand=seller.brand)
    page = orders_sliced(seller.pk, "", page=1, per_page=15)
    selection = select_ambassador_orders(
        ambassador_id=seller.pk, filters={}, ordering=["-date_order", "-id_order"]
    )
    # when
    # PostgreSQL: one statement; elsewhere the count, the page, its lines
    with django_assert_num_queries(1 if connection.vendor == "postgresql" else 3):
        visible = render_visible_page(token, selection, number=1, per_page=15, now=NOW)
    # then
    assert visible is not None
    assert visible.total == 31
    assert visible.page.item_count == 15
    python = orjson.dumps(render_orders_page(page, now=NOW))
    assert orjson.dumps(visible.page.data) == python
    assert isinstance(visible.page.data, orjson.Fragment) == (connection.vendor == "postgresql")


def selection_of(seller, query_string: str):
    query = read_orders_query(parse_str(query_string))
    return select_ambassador_orders(
        ambassador_id=seller.pk, filters=query.filters, ordering=query.ordering
    )


@postgres_only
@pytest.mark.parametrize(
    "query_string",
    ["", "sort=total_amount", "filter[currency]=EUR,GBP&sort=-date_update", "filter[type]=NONE"],
)
@pytest.mark.parametrize(
    ("number", "per_page"), [(1, 15), (2, 15), (3, 15), (4, 15), (1, 100), (7, 5), (2**62, 100)]
)
def test_one_statement_answers_what_the_two_queries_answer(
    seller, monkeypatch, query_string, number, per_page
):
    # given
    token = ApiTokenFactory(brand=seller.brand)
    selection = selection_of(seller, query_string)
    # when
    in_sql = render_visible_page(token, selection, number=number, per_page=per_page, now=NOW)
    monkeypatch.setattr(sql_rendering, "renders_in_sql", lambda alias: False)
    in_python = render_visible_page(token, selection, number=number, per_page=per_page, now=NOW)
    # then
    assert in_sql is not None
    assert in_python is not None
    assert in_sql.total == in_python.total == selection.queryset().count()
    assert in_sql.page.item_count == in_python.page.item_count
    assert orjson.dumps(in_sql.page.data) == orjson.dumps(in_python.page.data)


@pytest.mark.parametrize("renders_in_sql", [True, False])
def test_an_ambassador_the_caller_may_not_see_has_no_page(seller, monkeypatch, renders_in_sql):
    if renders_in_sql and connection.vendor != "postgresql":
        pytest.skip("the SQL render path is PostgreSQL-only")
    monkeypatch.setattr(sql_rendering, "renders_in_sql", lambda alias: renders_in_sql)
    selection = selection_of(seller, "")
    stranger = select_ambassador_orders(ambassador_id=10**12, filters={}, ordering=["-date_order"])
    own = ApiTokenFactory(for_ambassador=True, ambassador=seller, brand=seller.brand)

    def page(token, orders):
        return render_visible_page(token, orders, number=1, per_page=15, now=NOW)

    assert page(ApiTokenFactory(), selection) is None  # another brand's token
    assert page(ApiTokenFactory(brand=seller.brand), stranger) is None  # no such ambassador
    visible = page(own, selection)
    assert visible is not None
    assert (visible.total, visible.page.item_count) == (31, 15)


def nodes(plan: dict, *, outside: str):
    """The plan's nodes, except those under the subplan named `outside`."""
    if plan.get("Subplan Name") == outside:
        return
    yield plan
    for child in plan.get("Plans", []):
        yield from nodes(child, outside=outside)


def page_scans(sql: str, params: list) -> list[dict]:
    """What each of the statement's page-ids queries read (page 1's statement has only the
    forward one): per Limit node outside the total's CTE, how often its child ran, the rows it
    handed over (as many as the LIMIT skipped and kept, whatever the plan) and whether it read
    orders."""
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params)
        [(explained,)] = cursor.fetchall()
    plan = (orjson.loads(explained) if isinstance(explained, str) else explained)[0]["Plan"]
    limits = [node for node in nodes(plan, outside="CTE visible") if node["Node Type"] == "Limit"]
    return [
        {
            "loops": source["Actual Loops"],
            "rows": source["Actual Rows"],
            "orders": any(
                node.get("Relation Name") == Order._meta.db_table and node["Actual Loops"] > 0
                for node in nodes(source, outside="")
            ),
        }
        for limit in limits
        for source in [next(p for p in limit["Plans"] if p.get("Subplan Name") is None)]
    ]


@postgres_only
@pytest.mark.parametrize(
    ("number", "walked"),
    [
        # 31 orders, 10 per page: pages 1 and 2 read from the start (offset + size entries),
        # pages 3 and 4 (offset > 15) from the end (total - offset entries); past the end, none
        (1, 10),
        (2, 20),
        (3, 11),
        (4, 1),
        (5, 0),
        (2**62, 0),
    ],
)
def test_a_page_reads_from_the_nearer_end_and_past_the_end_reads_nothing(seller, number, walked):
    # given: the statement of page `number`
    token = ApiTokenFactory(brand=seller.brand)
    sql, params = visible_page_sql(
        "default", token, selection_of(seller, ""), number=number, per_page=10, now=NOW
    )
    # when
    scans = page_scans(sql, params)
    # then: one query ran at most, and it read `walked` ids (the count is in the CTE)
    assert len(scans) == (1 if number == 1 else 2), scans  # page 1 has no reversed query
    ran = [scan for scan in scans if scan["loops"] > 0 and scan["orders"]]
    assert sum(scan["rows"] for scan in ran) == walked, scans
    assert len(ran) == (1 if walked else 0), scans


ENDS = [
    "",
    *[
        f"sort={sign}{name}"
        for name in ["date_order", "id_order", "total_amount", "total_paid", "date_update"]
        for sign in ("", "-")
    ],
    "sort=-total_amount,date_order",
    "sort=total_paid,-date_update",
    "filter[placed_between]=2025-04-10,2025-04-30",
    "filter[placed_between]=,2025-04-20T00:00:00Z&sort=total_amount",
    "filter[last_status]=OK,PENDING",
    "filter[type]=STORE,MAG&sort=-date_update",
    "filter[source]=store",
    "filter[currency]=USD,GBP&sort=id_order",
    "filter[assignment]=unassigned",
    "filter[id_chatroom]=1,2&sort=-total_paid",
    "filter[id_buyer]={buyer}",
    "filter[updated_since]=2025-04-30T13:00:00Z",
    "filter[type]=WEB&filter[currency]=EUR&sort=total_amount,-date_order",
    "filter[source]=nothing-matches",
]


@pytest.fixture
def ties(db):
    """An ambassador with 50 orders whose sort keys tie in threes and fours (date placed,
    amounts, update time), created out of date order: only the id breaks the ties."""
    seller = AmbassadorFactory()
    buyers = [AmbassadorFactory(brand=seller.brand) for _ in range(3)]
    product = ProductFactory()
    base = datetime(2025, 4, 30, 12, 0, 0, 250000, tzinfo=UTC)
    statuses, kinds = cycle(Order.Status.values), cycle(Order.Type.values)
    assignments = cycle(Order.Assignment.values)
    for n in ((k * 17) % 50 for k in range(50)):
        order = OrderFactory(
            ambassador=seller,
            buyer=buyers[n % 3],
            date_order=base - timedelta(days=n // 3),
            date_insert=base - timedelta(days=n // 3),
            date_update=base + timedelta(hours=n % 4),
            total_amount=Decimal(MONEY[n % 4]),
            total_paid=Decimal(MONEY[n % 3]),
            last_status=next(statuses),
            type=next(kinds),
            source=["shopify", "store"][n % 2],
            currency=["EUR", "USD", "GBP"][n % 3],
            assignment=next(assignments),
            id_chatroom=n % 4,
        )
        for m in range(n % 3):
            OrderProductFactory(order=order, product=product, quantity=m + 1)
    OrderFactory(buyer=buyers[0], date_order=base)  # another ambassador's order, never shown
    return seller


@postgres_only
@pytest.mark.parametrize("query_string", ENDS)
def test_every_page_from_either_end_is_the_page_read_from_the_start(
    ties, monkeypatch, query_string
):
    # given
    token = ApiTokenFactory(brand=ties.brand)
    buyer = Order.objects.filter(ambassador=ties).values_list("buyer_id", flat=True)[0]
    selection = selection_of(ties, query_string.format(buyer=buyer))
    total = selection.queryset().count()
    pages = [
        (number, per_page)
        for per_page in (1, 7, 15, 25, 100)
        for number in [*range(1, -(-total // per_page) + 3), 2**62]
    ]

    def rendered(number: int, per_page: int):
        visible = render_visible_page(token, selection, number=number, per_page=per_page, now=NOW)
        assert visible is not None
        return visible.total, visible.page.item_count, orjson.dumps(visible.page.data)

    # when: the SQL path (second-half pages read backwards), then the Python path (the ORM's
    # OFFSET from the start)
    in_sql = [rendered(number, per_page) for number, per_page in pages]
    monkeypatch.setattr(sql_rendering, "renders_in_sql", lambda alias: False)
    in_python = [rendered(number, per_page) for number, per_page in pages]
    # then
    assert in_sql == in_python
    assert [count for _, count, _ in in_sql] == [
        max(0, min(per_page, total - (number - 1) * per_page)) for number, per_page in pages
    ]
    assert total > 1 or query_string == "filter[source]=nothing-matches"


@pytest.fixture
def seller_client(seller):
    client = APIClient()
    client.credentials(**bearer(ApiTokenFactory(brand=seller.brand)))
    return client


@postgres_only
# Page 1, page 2 (read forward) and page 30 of 31 (read from the end) at one per page.
@pytest.mark.parametrize(
    ("per_page", "page", "count"), [(1, 1, 1), (1, 2, 1), (1, 30, 1), (100, 1, 31)]
)
@pytest.mark.parametrize(
    "filters",
    [{}, {"filter[placed_between]": "2000-01-01,2100-12-31", "filter[currency]": "EUR,GBP,USD"}],
)
def test_endpoint_makes_two_queries_on_postgresql(
    seller, seller_client, per_page, page, count, filters, django_assert_num_queries
):
    # given: the token was used a moment ago (its first use records the time: one write)
    seller_client.get(ROUTE.format(id=seller.pk))
    # when / then: the token, then the ambassador's visibility, the count and the page's JSON
    with django_assert_num_queries(2):
        response = seller_client.get(
            ROUTE.format(id=seller.pk), {"per_page": per_page, "page": page, **filters}
        )
    assert response.status_code == 200
    body = response.json()
    assert len(body["data"]) == body["to"] - body["from"] + 1 == count
    assert body["from"] == (page - 1) * per_page + 1


@postgres_only
@pytest.mark.parametrize(
    "query",
    [
        {"per_page": 15, "page": 3},
        {"per_page": 100, "sort": "-total_amount"},
        {"filter[currency]": "USD", "per_page": 4, "page": 2},
        {"page": 99},
        {"per_page": 4, "page": 7, "sort": "total_paid"},
        {"per_page": 10, "page": 4},
    ],
)
def test_endpoint_answers_the_same_bytes_on_both_paths(seller, seller_client, monkeypatch, query):
    # `online` is computed against the request's own clock, so the two requests may differ only
    # if a buyer crossed the 5-minute line between them; none is near it relative to the real now.
    sql_body = seller_client.get(ROUTE.format(id=seller.pk), query).content
    monkeypatch.setattr(sql_rendering, "renders_in_sql", lambda alias: False)
    python_body = seller_client.get(ROUTE.format(id=seller.pk), query).content
    assert sql_body == python_body


def test_server_side_binding_also_prepares_statements(monkeypatch):
    # Django leaves psycopg's preparation off; server-side binding alone measured no faster.
    monkeypatch.setenv("DATABASE_SERVER_SIDE_BINDING", "1")
    options = database_config("postgres://app:pw@db.internal:5432/platform_api")["OPTIONS"]
    assert (options["server_side_binding"], options["prepare_threshold"]) == (True, 5)

    monkeypatch.setenv("DATABASE_SERVER_SIDE_BINDING", "0")
    options = database_config("postgres://app:pw@db.internal:5432/platform_api")["OPTIONS"]
    assert "prepare_threshold" not in options
