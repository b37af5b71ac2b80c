"""One cursor page of an ambassador's orders: no count, the same cost at any depth.

PostgreSQL answers it in one statement (the caller's visibility, the page's ids by keyset, the
page's JSON as `sql_rendering` builds it, the sort keys of the page's two ends); elsewhere the
Python path reads the ids, then renders them as length-aware pages do. Both write the same bytes.

The page reads `per_page + 1` ids: the extra one only says whether there is more in the reading
direction (`hasMore` in Laravel's CursorPaginator) and is not rendered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import orjson
from django.db import connections, router

from ambassadors.models import ApiToken
from ambassadors.shape import ONLINE_WINDOW_SECONDS
from orders.keyset import KeysetPosition, cursor_parameters, sort_fields
from orders.models import Order
from orders.rendering import render_orders_page
from orders.selectors import (
    OrderSelection,
    visible_ambassador_order_total,
    visible_ambassador_order_total_sql,
)
from orders.sql_rendering import RenderedPage, page_statement, renders_in_sql
from platform_api.sql_json import column_sql, table_sql


@dataclass(frozen=True)
class CursorPage:
    """A cursor page's `data`, whether more items lie beyond it in the reading direction, and
    the cursor parameters of its first and last items as it shows them (None when empty)."""

    page: RenderedPage
    has_more: bool
    first_item: dict[str, Any] | None
    last_item: dict[str, Any] | None


def render_visible_cursor_page(
    token: ApiToken,
    orders: OrderSelection,
    *,
    position: KeysetPosition | None,
    per_page: int,
    now: datetime,
) -> CursorPage | None:
    """The page of `orders` past `position` (the first page for None), or None when the caller
    may not see the ambassador: one statement on PostgreSQL, three queries elsewhere."""
    alias = router.db_for_read(Order)
    if renders_in_sql(alias):
        return _render_sql(alias, token, orders, position=position, per_page=per_page, now=now)
    visible = visible_ambassador_order_total(
        token=token, ambassador_id=orders.ambassador_id, orders=None
    )
    if visible is None:
        return None
    fields = sort_fields(orders.ordering)
    rows = list(orders.keyset(position).values_list("pk", *fields)[: per_page + 1])
    fetched = len(rows)
    rows = rows[:per_page]
    if rows:
        shown = orders.queryset().filter(pk__in=[row[0] for row in rows])
        data = render_orders_page(shown, now=now)
    else:
        data = []
    ends = (tuple(rows[0][1:]), tuple(rows[-1][1:])) if rows else None
    return _cursor_page(
        orders, position, RenderedPage(data=data, item_count=len(data)), fetched, per_page, ends
    )


def visible_cursor_page_sql(
    alias: str,
    token: ApiToken,
    orders: OrderSelection,
    *,
    position: KeysetPosition | None,
    per_page: int,
    now: datetime,
) -> tuple[str, list[Any]]:
    """PostgreSQL's one statement for `render_visible_cursor_page`, and its parameters: a row
    (ids read, item count, the page's JSON, the sort keys of the first id read, then of the
    last one shown), or no row when the caller may not see the ambassador."""
    visible_sql, visible_params = visible_ambassador_order_total_sql(
        alias, token=token, ambassador_id=orders.ambassador_id, orders=None
    )
    ids_sql, ids_params = orders.keyset_ids_sql(alias, position)
    forward = position is None or position.forward
    statement = _cursor_page_statement(
        visible_sql, ids_sql, tuple(sort_fields(orders.ordering)), forward
    )
    online_since = now - timedelta(seconds=ONLINE_WINDOW_SECONDS)
    params = [*visible_params, *ids_params, per_page + 1, per_page, online_since, per_page]
    return statement, params


def _render_sql(
    alias: str,
    token: ApiToken,
    orders: OrderSelection,
    *,
    position: KeysetPosition | None,
    per_page: int,
    now: datetime,
) -> CursorPage | None:
    sql, params = visible_cursor_page_sql(
        alias, token, orders, position=position, per_page=per_page, now=now
    )
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    fetched, item_count, data, *keys = row
    half = len(keys) // 2
    ends = (tuple(keys[:half]), tuple(keys[half:])) if item_count else None
    page = RenderedPage(data=orjson.Fragment(data), item_count=item_count)
    return _cursor_page(orders, position, page, fetched, per_page, ends)


def _cursor_page(
    orders: OrderSelection,
    position: KeysetPosition | None,
    page: RenderedPage,
    fetched: int,
    per_page: int,
    ends: tuple[tuple[Any, ...], tuple[Any, ...]] | None,
) -> CursorPage:
    """`ends`: the sort keys of the first row read and of the last one shown, in reading order;
    a backwards page is shown in the sort's order, so its ends swap."""
    if ends is None:
        return CursorPage(page=page, has_more=fetched > per_page, first_item=None, last_item=None)
    first, last = ends
    if not (position is None or position.forward):
        first, last = last, first
    return CursorPage(
        page=page,
        has_more=fetched > per_page,
        first_item=cursor_parameters(orders.ordering, first),
        last_item=cursor_parameters(orders.ordering, last),
    )


@lru_cache(maxsize=512)
def _cursor_page_statement(
    visible_sql: str, ids_sql: str, fields: tuple[str, ...], forward: bool
) -> str:
    """The visibility, the keyset's ids and the page's JSON in one statement.

    `fetched` holds the ids read (one more than the page, to know whether more follow), or no
    row when the caller may not see the ambassador: then the statement returns no row. The page
    shows the first `per_page` of them, in the sort's order (reversed back when reading
    backwards); `ends` picks the first id read and the last one shown, whose sort keys make the
    page's cursors.
    """
    head, tail = page_statement()
    order = table_sql(Order)
    pk = column_sql(Order, "pk")
    shown = (
        "ARRAY(SELECT shown.id FROM unnest((SELECT ids FROM fetched)[1:%s]) WITH ORDINALITY"  # noqa: S608
        f" AS shown(id, position) ORDER BY shown.position {'ASC' if forward else 'DESC'})"
    )
    keys = [
        f"(SELECT k.{column_sql(Order, field)} FROM {order} k"  # noqa: S608
        f" WHERE k.{pk} = ends.{end})"
        for end in ("first_id", "last_id")
        for field in fields
    ]
    return (
        f"WITH visible(total) AS MATERIALIZED ({visible_sql}),"  # noqa: S608
        f" fetched(ids) AS MATERIALIZED (SELECT ARRAY({ids_sql} LIMIT %s) FROM visible),"
        " ends(first_id, last_id) AS (SELECT ids[1], ids[least(cardinality(ids), %s)]"
        " FROM fetched)"
        f" SELECT cardinality(fetched.ids), rendered.*, {', '.join(keys)}"
        f" FROM fetched CROSS JOIN ends CROSS JOIN ({head}{shown}{tail}) AS rendered"
    )
