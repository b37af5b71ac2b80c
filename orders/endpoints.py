"""`GET /api/v2/platform/ambassadors/{id}/orders`, from the request to the body: parse, select,
page, render."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from rest_framework import exceptions
from rest_framework.request import Request

from ambassadors.models import ApiToken
from ambassadors.selectors import AMBASSADOR_NOT_FOUND
from orders.query import read_orders_query
from orders.selectors import select_ambassador_orders, visible_ambassador_order_total
from orders.sql_rendering import render_visible_page
from platform_api.db_router import reading_from_replica
from platform_api.laravel_request import laravel_query
from platform_api.pagination import laravel_page, resolve_page
from platform_api.views import found_before_query_errors


def ambassador_orders_body(
    request: Request, *, token: ApiToken, ambassador_id: int | None
) -> dict[str, Any]:
    """The page of the ambassador's orders the request asks for, in Laravel's envelope.

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
