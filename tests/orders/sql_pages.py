"""The PostgreSQL renderer applied to any sliced queryset of orders: what the tests compare
with the Python renderer (the service only renders its own selection, `render_visible_page`)."""

from __future__ import annotations

from datetime import datetime, timedelta

import orjson
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import QuerySet

from ambassadors.shape import ONLINE_WINDOW_SECONDS
from orders.models import Order
from orders.sql_rendering import EMPTY_PAGE, RenderedPage, page_statement


def render_orders_page_sql(page: QuerySet[Order], *, now: datetime, using: str) -> RenderedPage:
    """The `data` array of a sliced, ordered queryset of orders, as JSON built by PostgreSQL:
    byte-identical to `orjson.dumps` of `render_orders_page(page, now=now)`."""
    try:
        ids_sql, ids_params = page.values("id_order").query.get_compiler(using=using).as_sql()
    except EmptyResultSet:  # `queryset.none()`: a page past the end
        return EMPTY_PAGE
    head, tail = page_statement()
    online_since = now - timedelta(seconds=ONLINE_WINDOW_SECONDS)
    with connections[using].cursor() as cursor:
        cursor.execute(f"{head}ARRAY({ids_sql}){tail}", (online_since, *ids_params))
        row = cursor.fetchone()
    assert row is not None  # an aggregate without GROUP BY always returns one row
    item_count, data = row
    return RenderedPage(data=orjson.Fragment(data), item_count=item_count)
