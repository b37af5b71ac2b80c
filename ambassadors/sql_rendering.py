"""A page of the brand's ambassadors and their total: one statement on PostgreSQL, which writes
the page's JSON, two queries elsewhere (the count, then the rows rendered in Python).

The statement is the orders' (`orders/sql_rendering.py`, where the measurements are): the
selection's count in a CTE, which bounds the page's LIMIT (a page past the end reads nothing),
then a deferred join: the page's ids first, in order, on the (brand_id, id_ambassador) or
(brand_id, last_action_date, id_ambassador) index, then only those rows, written as JSON
generated from `shape.AMBASSADOR` (`platform_api.sql_json`), byte for byte what the Python path
writes. Its two parts are the selection's own querysets compiled by Django per request, so the
filters and the sort stay defined in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import orjson
from django.db import connections, router

from ambassadors import shape
from ambassadors.models import Ambassador
from ambassadors.rendering import render_ambassadors
from ambassadors.selectors import AmbassadorSelection
from platform_api.pagination import PHP_INT_MAX, Page
from platform_api.sql_json import (
    EMPTY_PAGE,
    RenderedPage,
    column_sql,
    json_object_sql,
    renders_in_sql,
    table_sql,
)

# PHP's trim() characters but NUL, which PostgreSQL text cannot hold (shape.FULL_NAME_TRIMMED).
_TRIMMED_SQL = " || ".join(
    f"chr({ord(char)})" for char in shape.FULL_NAME_TRIMMED if char != "\x00"
)


@dataclass(frozen=True)
class AmbassadorPage:
    """How many ambassadors the selection holds, and one page of them."""

    total: int
    page: RenderedPage


def render_ambassador_page(
    selection: AmbassadorSelection, *, number: int, per_page: int, now: datetime
) -> AmbassadorPage:
    """Page `number` of `selection` and its total."""
    # The router answers the replica's alias inside `reading_from_replica()`.
    alias = router.db_for_read(Ambassador)
    ambassadors = selection.queryset()
    if renders_in_sql(alias):
        sql, params = page_sql(selection, alias, number=number, per_page=per_page, now=now)
        with connections[alias].cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        assert row is not None  # a count always has its row
        total, item_count, data = row
        return AmbassadorPage(
            total=total, page=RenderedPage(data=orjson.Fragment(data), item_count=item_count)
        )
    page = Page(number=number, per_page=per_page, total=ambassadors.count())
    if not page.size:
        return AmbassadorPage(total=page.total, page=EMPTY_PAGE)
    data = render_ambassadors(ambassadors[page.offset : page.offset + page.per_page], now=now)
    return AmbassadorPage(total=page.total, page=RenderedPage(data=data, item_count=len(data)))


def page_sql(
    selection: AmbassadorSelection, alias: str, *, number: int, per_page: int, now: datetime
) -> tuple[str, list[Any]]:
    """PostgreSQL's one statement for a page of `selection` and its parameters: a row (total,
    item count, the page's JSON)."""
    ambassadors = selection.queryset()
    ids_sql, ids_params = ambassadors.values("pk").query.get_compiler(using=alias).as_sql()
    count_sql, count_params = (
        ambassadors.order_by().values("pk").query.get_compiler(using=alias).as_sql()
    )
    # A page number can be any integer up to PHP's; past bigint, OFFSET would be an error.
    offset = min(Page(number=number, per_page=per_page, total=0).offset, PHP_INT_MAX)
    online_since = now - timedelta(seconds=shape.ONLINE_WINDOW_SECONDS)
    head, tail = _statement()
    sql = (
        f"WITH visible(total) AS MATERIALIZED (SELECT count(*) FROM ({count_sql}) AS counted)"  # noqa: S608
        f" SELECT visible.total, rendered.* FROM visible CROSS JOIN ({head}{ids_sql}"
        " LIMIT least(%s, greatest((SELECT total FROM visible) - %s, 0)) OFFSET %s"
        f"{tail}) AS rendered"
    )
    return sql, [*count_params, online_since, *ids_params, per_page, offset, offset]


@cache
def _statement() -> tuple[str, str]:
    """The statement around the page-ids query: (head, tail); the head holds one `%s` (the
    online threshold)."""
    a = "a"
    ambassador = json_object_sql(
        shape.AMBASSADOR,
        Ambassador,
        a,
        {
            "full_name": f"to_json(btrim({a}.{column_sql(Ambassador, 'firstname')} || ' ' || "
            f"{a}.{column_sql(Ambassador, 'lastname')}, {_TRIMMED_SQL}))::text",
            "online": f"({a}.{column_sql(Ambassador, 'last_action_date')} > %s)::text",
        },
    )
    head = (
        f"SELECT count(*), '[' || coalesce(string_agg({ambassador},"  # noqa: S608
        " ',' ORDER BY page.position), '') || ']' FROM unnest(ARRAY("
    )
    tail = (
        ")) WITH ORDINALITY AS page(id, position)"
        f" JOIN {table_sql(Ambassador)} {a} ON {a}.{column_sql(Ambassador, 'pk')} = page.id"
    )
    if head.count("%s") != 1 or "%s" in tail:
        raise ValueError("the statement must hold exactly one parameter, in its head")
    return head, tail
