"""`GET /api/v2/platform/ambassadors/{id}/orders`."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from rest_framework import exceptions, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from orders import schema
from orders.cursor_rendering import render_visible_cursor_page
from orders.keyset import position_from_cursor
from orders.query import read_orders_query
from orders.selectors import select_ambassador_orders, visible_ambassador_order_total
from orders.sql_rendering import render_visible_page
from platform_api.cursor_pagination import (
    CURSOR_PARAM,
    LaravelCursorPagination,
    cursor_links,
    decode_cursor,
)
from platform_api.db_router import reading_from_replica
from platform_api.errors import BadQuery, UnprocessableQuery
from platform_api.ids import parse_id
from platform_api.negotiation import JsonOnlyNegotiation
from platform_api.pagination import LaravelPagination, resolve_page
from platform_api.permissions import CanReadAmbassadorOrders, caller_token
from platform_api.php_query import parse_str, raw_query_string

AMBASSADOR_NOT_FOUND = "The ambassador does not exist."


class AmbassadorOrderViewSet(viewsets.GenericViewSet[Any]):
    """The orders credited to one ambassador, newest first, in Laravel's paginated envelope."""

    permission_classes = [CanReadAmbassadorOrders]
    content_negotiation_class = JsonOnlyNegotiation
    pagination_class = LaravelPagination
    http_method_names = ["get", "head"]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        # Laravel matches the method with the route before any middleware runs: another
        # method is 405 for everyone, never 401 for an anonymous caller.
        if (request.method or "").lower() not in self.http_method_names:
            raise exceptions.MethodNotAllowed(request.method or "")
        super().initial(request, *args, **kwargs)

    @schema.ambassador_orders_schema
    def list(self, request: Request, ambassador_id: str) -> Response:
        token = caller_token(request)
        assert token is not None  # the permission class let an authenticated caller through
        now = timezone.now()
        pk = parse_id(ambassador_id)
        with reading_from_replica():
            try:
                if pk is None:
                    raise exceptions.NotFound(AMBASSADOR_NOT_FOUND)
                parameters = parse_str(raw_query_string(request))
                query = read_orders_query(parameters)
                orders = select_ambassador_orders(
                    ambassador_id=pk, filters=query.filters, ordering=query.ordering
                )
            except (BadQuery, UnprocessableQuery):
                # As in Laravel, the ambassador is resolved before the query is validated.
                if (
                    pk is None
                    or visible_ambassador_order_total(token=token, ambassador_id=pk, orders=None)
                    is None
                ):
                    raise exceptions.NotFound(AMBASSADOR_NOT_FOUND) from None
                raise
            if CURSOR_PARAM in parameters:
                return self._cursor_page(request, token, orders, parameters, query.per_page, now)
            visible = render_visible_page(
                token, orders, number=resolve_page(parameters), per_page=query.per_page, now=now
            )
            if visible is None:
                raise exceptions.NotFound(AMBASSADOR_NOT_FOUND)
        paginator = LaravelPagination()
        paginator.start(request, per_page=query.per_page, total=visible.total, query=parameters)
        return Response(paginator.envelope(visible.page.data, item_count=visible.page.item_count))

    def _cursor_page(
        self,
        request: Request,
        token: Any,
        orders: Any,
        parameters: dict[str, Any],
        per_page: int,
        now: Any,
    ) -> Response:
        cursor = decode_cursor(parameters[CURSOR_PARAM])
        position = position_from_cursor(orders.ordering, cursor)
        if position is None:
            cursor = None  # an undecodable cursor, or one of another sort: the first page
        page = render_visible_cursor_page(
            token, orders, position=position, per_page=per_page, now=now
        )
        if page is None:
            raise exceptions.NotFound(AMBASSADOR_NOT_FOUND)
        links = cursor_links(
            cursor, has_more=page.has_more, first_item=page.first_item, last_item=page.last_item
        )
        paginator = LaravelCursorPagination(request, per_page=per_page, query=parameters)
        return Response(paginator.envelope(page.page.data, links))
