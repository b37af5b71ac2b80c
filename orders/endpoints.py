"""`GET /api/v2/platform/ambassadors/{id}/orders`, from the request to the body: parse, select,
page, render."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone
from rest_framework import exceptions
from rest_framework.request import Request

from ambassadors.models import ApiToken
from ambassadors.selectors import AMBASSADOR_NOT_FOUND
from orders.cursor_rendering import render_visible_cursor_page
from orders.keyset import position_from_cursor
from orders.query import read_orders_query
from orders.selectors import (
    OrderSelection,
    select_ambassador_orders,
    visible_ambassador_order_total,
)
from orders.sql_rendering import render_visible_page
from platform_api.cursor_pagination import (
    CURSOR_PARAM,
    LaravelCursorPagination,
    cursor_links,
    decode_cursor,
)
from platform_api.db_router import reading_from_replica
from platform_api.laravel_request import laravel_query
from platform_api.pagination import laravel_page, resolve_page
from platform_api.views import found_before_query_errors


def ambassador_orders_body(
    request: Request, *, token: ApiToken, ambassador_id: int | None
) -> dict[str, Any]:
    """The page of the ambassador's orders the request asks for, in Laravel's envelope: the
    length-aware one, or the cursor one when the query has a `cursor` (empty for the start).

    Raises NotFound when the caller may not see the ambassador (`ambassador_id` None: the path
    names nothing), and the query errors (400/422) only for an ambassador it may see.
    """
    now = timezone.now()
    with reading_from_replica():
        if ambassador_id is None:
            raise exceptions.NotFound(AMBASSADOR_NOT_FOUND)
        pk = ambassador_id
        parameters = laravel_query(request)  # after TrimStrings and ConvertEmptyStringsToNull
        with found_before_query_errors(
            lambda: (
                visible_ambassador_order_total(token=token, ambassador_id=pk, orders=None)
                is not None
            ),
            AMBASSADOR_NOT_FOUND,
        ):
            query = read_orders_query(parameters)
            orders = select_ambassador_orders(
                ambassador_id=pk, filters=query.filters, ordering=query.ordering
            )
        if CURSOR_PARAM in parameters:
            return _cursor_page(request, token, orders, parameters, query.per_page, now)
        visible = render_visible_page(
            token, orders, number=resolve_page(parameters), per_page=query.per_page, now=now
        )
        if visible is None:
            raise exceptions.NotFound(AMBASSADOR_NOT_FOUND)
    return laravel_page(
        request,
        per_page=query.per_page,
        total=visible.total,
        data=visible.page.data,
        item_count=visible.page.item_count,
    )


def _cursor_page(
    request: Request,
    token: ApiToken,
    orders: OrderSelection,
    parameters: dict[str, Any],
    per_page: int,
    now: datetime,
) -> dict[str, Any]:
    """The cursor page `parameters` point at, in Laravel's CursorPaginator envelope."""
    cursor = decode_cursor(parameters[CURSOR_PARAM])
    position = position_from_cursor(orders.ordering, cursor)
    if position is None:
        cursor = None  # undecodable, or a cursor of another sort: the first page, as in Laravel
    page = render_visible_cursor_page(token, orders, position=position, per_page=per_page, now=now)
    if page is None:
        raise exceptions.NotFound(AMBASSADOR_NOT_FOUND)
    links = cursor_links(
        cursor, has_more=page.has_more, first_item=page.first_item, last_item=page.last_item
    )
    pagination = LaravelCursorPagination(request, per_page=per_page)
    return pagination.envelope(page.page.data, links)
