"""`GET /api/v2/platform/ambassadors` and `GET /api/v2/platform/ambassadors/{id}`, from the
request to the body: parse, select, page, render."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from rest_framework import exceptions
from rest_framework.request import Request

from ambassadors.models import ApiToken
from ambassadors.query import AMBASSADOR_PARAMETERS
from ambassadors.rendering import render_ambassadors
from ambassadors.selectors import AMBASSADOR_NOT_FOUND, select_ambassadors, visible_ambassador
from ambassadors.sql_rendering import render_ambassador_page
from platform_api.db_router import reading_from_replica
from platform_api.laravel_request import laravel_query
from platform_api.pagination import laravel_page, resolve_page


def ambassador_list_body(request: Request, *, token: ApiToken) -> dict[str, Any]:
    """The page of the brand's ambassadors the request asks for, in Laravel's envelope."""
    now = timezone.now()
    parameters = laravel_query(request)  # after TrimStrings and ConvertEmptyStringsToNull
    query = AMBASSADOR_PARAMETERS.read(parameters)
    with reading_from_replica():
        selection = select_ambassadors(token=token, filters=query.filters, ordering=query.ordering)
        rendered = render_ambassador_page(
            selection, number=resolve_page(parameters), per_page=query.per_page, now=now
        )
    return laravel_page(
        request,
        per_page=query.per_page,
        total=rendered.total,
        data=rendered.page.data,
        item_count=rendered.page.item_count,
    )


def ambassador_body(*, token: ApiToken, ambassador_id: int | None) -> dict[str, Any]:
    """The ambassador, or NotFound when the path names nothing the caller may see."""
    if ambassador_id is None:
        raise exceptions.NotFound(AMBASSADOR_NOT_FOUND)
    with reading_from_replica():
        rendered = render_ambassadors(
            visible_ambassador(token=token, ambassador_id=ambassador_id), now=timezone.now()
        )
    if not rendered:
        raise exceptions.NotFound(AMBASSADOR_NOT_FOUND)
    return rendered[0]
