"""The page's `data` array rendered by PostgreSQL, in one statement, as the final JSON bytes.

Why the SQL is shaped this way (measured on the benchmark's 2-core machine, see issue 4):

- ONE statement builds the whole page's JSON. Python then neither builds rows nor serialises them:
  the text is wrapped in an `orjson.Fragment` and spliced into Laravel's envelope as it is. That is
  what brought the service close to PostgreSQL's own floor; per-row Python work did not.
- The same statement checks that the caller may see the ambassador and finds the total (the
  selector's compiled query, in a CTE: the trigger-kept counter when unfiltered, a count when
  filtered), and that total bounds the page's LIMIT: one round trip per request instead of two,
  and a page past the end is `LIMIT 0`, which reads nothing.
- A deferred join. The page's ids are paged first — the selector's own filtered and ordered
  query, compiled by Django once per sort and filter shape (`OrderSelection.ids_sql`, with
  the page's bounds as parameters), so filters and sort stay defined in one place — which walks
  the index (id_ambassador, date_order DESC, id_order DESC) without touching the heap rows it
  skips. Only the page's rows are then joined to their buyer, lines, products and images. Joining
  the buyer before the OFFSET made a deep page cost a heap and a buyer visit per skipped row.
- A page in the second half reads from the nearer end: past page 1 the statement holds the ids
  query twice in a `CASE` on the total, as written and with every ORDER BY key reversed
  (`OrderSelection.reversed()`: the exact reverse, since the sort ends with the unique id and
  no key is nullable or has a NULLS clause). When `offset > total / 2` the reversed one skips
  `total - offset - size` ids and its ids are put back in order by position, descending: the
  whale's last page reads 10 index entries instead of 100,000 (docs/scaling.md, "Deep pages").
  Only the branch taken runs (each is an InitPlan); page 1 keeps the forward query alone.
- `ARRAY(<page ids>)` keeps the ids in the page's order, and `unnest ... WITH ORDINALITY` numbers
  them, so the aggregate can order by position: the order is guaranteed, not a plan's accident.
- Lines are aggregated per order in a LATERAL subquery (in line id order, over the index on
  (id_order, id_order_product)), images per product in a scalar subquery (in id order, over the
  unique (id_product, lang) index).
- The JSON is concatenated text rather than `json_build_object`/`json_agg`: those write
  `{"a" : 1, "b" : 2}` and `[1, 2]` (with spaces), while the Python path (orjson) writes compact
  JSON, and both paths must produce identical bytes. `to_json(text)` escapes strings exactly as
  orjson does (`\\"`, `\\\\`, `\\b \\f \\n \\r \\t`, other controls as lowercase `\\u00xx`,
  everything else — non-ASCII, emoji, U+2028, DEL — as raw UTF-8);
  tests/orders/test_sql_rendering.py pins it for every character. Both paths' bytes are then
  rewritten once, on the whole body, into PHP's `json_encode` bytes (`platform_api/php_json.py`:
  `\\/`, `\\uXXXX`), so they stay identical to each other and to Laravel's.
- Numbers are written as the Python path writes them: `Kind.FLOAT` always with a fraction
  (`42.0`, `19.9`), `Kind.WHOLE_OR_FLOAT` whole values as integers (`42`, `19.99`). They agree for
  every value the columns can hold (12 digits, 2 decimals); only a computed `total_price` that is
  not whole and at least 1e16 would differ (orjson then writes an exponent), which no order
  reaches.

The statement is generated from `shape.py` and the models' column names, so the JSON shape stays
defined in one place; each `Computed` key has its SQL here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache, lru_cache
from typing import Any

import orjson
from django.db import connections, router

from ambassadors.models import Ambassador, ApiToken
from ambassadors.shape import ONLINE_WINDOW_SECONDS
from orders import shape
from orders.models import I18nContent, Order, OrderProduct, Product
from orders.rendering import render_orders_page
from orders.selectors import (
    OrderSelection,
    visible_ambassador_order_total,
    visible_ambassador_order_total_sql,
)
from platform_api.pagination import PHP_INT_MAX, Page
from platform_api.shape import Kind
from platform_api.sql_json import (
    EMPTY_PAGE,
    RenderedPage,
    column_sql,
    json_object_sql,
    json_value_sql,
    renders_in_sql,
    table_sql,
)


@dataclass(frozen=True)
class VisiblePage:
    """How many orders the selection holds, and one page of them."""

    total: int
    page: RenderedPage


def render_visible_page(
    token: ApiToken, orders: OrderSelection, *, number: int, per_page: int, now: datetime
) -> VisiblePage | None:
    """Page `number` of `orders` and their total, or None when the caller may not see the
    ambassador: one statement on PostgreSQL, which renders the page; two queries elsewhere."""
    # The router answers the replica's alias inside `reading_from_replica()`.
    alias = router.db_for_read(Order)
    if renders_in_sql(alias):
        return _render_visible_page_sql(
            alias, token, orders, number=number, per_page=per_page, now=now
        )
    total = visible_ambassador_order_total(
        token=token, ambassador_id=orders.ambassador_id, orders=orders
    )
    if total is None:
        return None
    page = Page(number=number, per_page=per_page, total=total)
    if not page.size:
        return VisiblePage(total=total, page=EMPTY_PAGE)
    data = render_orders_page(orders.page(offset=page.offset, limit=page.per_page), now=now)
    return VisiblePage(total=total, page=RenderedPage(data=data, item_count=len(data)))


def _render_visible_page_sql(
    alias: str,
    token: ApiToken,
    orders: OrderSelection,
    *,
    number: int,
    per_page: int,
    now: datetime,
) -> VisiblePage | None:
    sql, params = visible_page_sql(alias, token, orders, number=number, per_page=per_page, now=now)
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    total, item_count, data = row
    return VisiblePage(
        total=total, page=RenderedPage(data=orjson.Fragment(data), item_count=item_count)
    )


def visible_page_sql(
    alias: str,
    token: ApiToken,
    orders: OrderSelection,
    *,
    number: int,
    per_page: int,
    now: datetime,
) -> tuple[str, list[Any]]:
    """PostgreSQL's one statement for `render_visible_page`, and its parameters: a row (total,
    item count, the page's JSON), or no row when the caller may not see the ambassador."""
    visible_sql, visible_params = visible_ambassador_order_total_sql(
        alias, token=token, ambassador_id=orders.ambassador_id, orders=orders
    )
    ids_sql, ids_params = orders.ids_sql(alias)
    # A page number can be any integer up to PHP's; past bigint, OFFSET would be an error.
    offset = min(Page(number=number, per_page=per_page, total=0).offset, PHP_INT_MAX)
    head = [*visible_params, _online_since(now)]
    forward = [*ids_params, per_page, offset, offset]
    if offset == 0:
        # Page 1 is never in the second half: no reversed query to plan.
        return _visible_page_statement(visible_sql, ids_sql, None), [*head, *forward]
    reversed_sql, reversed_params = orders.reversed().ids_sql(alias)
    backward = [offset, offset, *reversed_params, per_page, offset, offset, per_page]
    return _visible_page_statement(visible_sql, ids_sql, reversed_sql), [
        *head,
        *backward,
        *forward,
    ]


@lru_cache(maxsize=512)
def _visible_page_statement(visible_sql: str, ids_sql: str, reversed_sql: str | None) -> str:
    """The caller-visible total and the page's JSON in one statement (one round trip).

    `visible` holds the total, or no row when the caller may not see the ambassador: then the
    statement returns no row. The total also bounds the page's LIMIT: a page past the end is
    `LIMIT 0`, which PostgreSQL answers without reading the index, so a huge page number
    costs nothing, as when the total was known before the page was asked for.

    With `reversed_sql` (the same ids with every key's direction flipped: the exact reverse),
    a page in the second half (`offset > total / 2`, before the end) is read from the nearer
    end: the reversed query skips `total - offset - size` ids instead of `offset`, and its ids
    are put back in the sort's order by position, descending. Only the CASE branch taken runs
    (each ARRAY is an InitPlan, evaluated when first needed); the bounds are parameters.
    """
    head, tail = page_statement()
    total = "(SELECT total FROM visible)"
    ids = f"ARRAY({ids_sql} LIMIT least(%s, greatest({total} - %s, 0)) OFFSET %s)"
    if reversed_sql is not None:
        ids = (
            f"CASE WHEN %s > {total} / 2 AND %s < {total}"  # noqa: S608
            " THEN ARRAY(SELECT nearer.id FROM unnest(ARRAY("
            f"{reversed_sql} LIMIT least(%s, {total} - %s) OFFSET greatest({total} - %s - %s, 0)"
            ")) WITH ORDINALITY AS nearer(id, position) ORDER BY nearer.position DESC)"
            f" ELSE {ids} END"
        )
    return (
        f"WITH visible(total) AS MATERIALIZED ({visible_sql})"  # noqa: S608
        f" SELECT visible.total, rendered.* FROM visible CROSS JOIN ({head}{ids}{tail}) AS rendered"
    )


def _online_since(now: datetime) -> datetime:
    return now - timedelta(seconds=ONLINE_WINDOW_SECONDS)


# --- The statement, generated from shape.py -----------------------------------------------------


@cache
def page_statement() -> tuple[str, str]:
    """The statement around the page's ids, an array expression: (head, tail); the head holds
    the one `%s` (the online threshold), the ids bring their own parameters."""
    o, b, line, p, i = "o", "b", "l", "p", "i"
    col = column_sql

    image = json_object_sql(shape.IMAGE, I18nContent, i, {})
    # Every name below comes from the models and passes `_quote`; values travel as parameters.
    images = (
        f"'[' || coalesce((SELECT string_agg({image}, ','"  # noqa: S608
        f" ORDER BY {i}.{col(I18nContent, 'pk')}) "
        f"FROM {table_sql(I18nContent)} {i} "
        f"WHERE {i}.{col(I18nContent, 'product')} = {p}.{col(Product, 'pk')}), '') || ']'"
    )
    details = json_object_sql(
        shape.ORDER_DETAILS,
        OrderProduct,
        line,
        {
            "total_price": json_value_sql(
                Kind.WHOLE_OR_FLOAT,
                f"({line}.{col(OrderProduct, 'unit_price')} "
                f"* {line}.{col(OrderProduct, 'quantity')})",
            )
        },
    )
    product = json_object_sql(
        shape.PRODUCT, Product, p, {"images": images, "order_details": details}
    )
    buyer = json_object_sql(
        shape.BUYER,
        Ambassador,
        b,
        {"online": f"({b}.{col(Ambassador, 'last_action_date')} > %s)::text"},
    )
    order = json_object_sql(
        shape.ORDER,
        Order,
        o,
        {
            "buyer": buyer,
            "products": "'[' || coalesce(lines.products, '') || ']'",
            "total_products_quantity": "coalesce(lines.quantity, 0)::text",
        },
    )
    head = (
        f"SELECT count(*), '[' || coalesce(string_agg({order},"  # noqa: S608
        f" ',' ORDER BY page.position), '')"
        f" || ']' FROM unnest("
    )
    tail = (
        f") WITH ORDINALITY AS page(id, position)"  # noqa: S608
        f" JOIN {table_sql(Order)} {o} ON {o}.{col(Order, 'pk')} = page.id"
        f" JOIN {table_sql(Ambassador)} {b}"
        f" ON {b}.{col(Ambassador, 'pk')} = {o}.{col(Order, 'buyer')}"
        f" LEFT JOIN LATERAL (SELECT"
        f" string_agg({product}, ',' ORDER BY {line}.{col(OrderProduct, 'pk')}) AS products,"
        f" sum({line}.{col(OrderProduct, 'quantity')}) AS quantity"
        f" FROM {table_sql(OrderProduct)} {line}"
        f" JOIN {table_sql(Product)} {p}"
        f" ON {p}.{col(Product, 'pk')} = {line}.{col(OrderProduct, 'product')}"
        f" WHERE {line}.{col(OrderProduct, 'order')} = {o}.{col(Order, 'pk')}) AS lines ON true"
    )
    if head.count("%s") != 1 or "%s" in tail:
        raise ValueError("the statement must hold exactly one parameter, in its head")
    return head, tail
