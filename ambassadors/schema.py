"""OpenAPI description of `GET /api/v2/platform/ambassadors` and `.../ambassadors/{id}`.

The bodies are documented by walking `shape.AMBASSADOR`, the list the renderer walks; what every
route shares comes from `platform_api.schema`.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers

from ambassadors import shape
from ambassadors.filters import (
    ACTIVE_MAX,
    ACTIVE_MIN,
    STATUS_MAX,
    STATUS_MIN,
    AmbassadorFilterSet,
)
from ambassadors.query import AMBASSADOR_PARAMETERS
from ambassadors.selectors import AMBASSADOR_NOT_FOUND
from platform_api.ids import INT64_MAX
from platform_api.schema import (
    DATETIME_DESCRIPTION,
    HEADER_PARAMETERS,
    TEXT_ITEM,
    error_responses,
    filter_parameter,
    id_parameter,
    page_component,
    page_parameters,
    shape_component,
    sort_parameter,
)

AMBASSADOR = shape_component(
    "Ambassador",
    shape.AMBASSADOR,
    {
        "full_name": lambda: serializers.CharField(
            help_text="firstname and lastname joined by one space, trimmed."
        ),
        "online": lambda: serializers.BooleanField(
            help_text="true: when last_action_date is less than "
            f"{shape.ONLINE_WINDOW_SECONDS // 60} minutes ago"
        ),
    },
    descriptions={
        "id_brand": "The ambassador's brand.",
        "date_insert": DATETIME_DESCRIPTION,
        "gender": "Empty when unknown.",
        "active": "-3 unsubscribed by brand, -2 unsubscribed, -1 blocked, 0 not activated, "
        "1 active.",
        "status": "The role: 0 ambassador, 1 employee, 2 administrator, 3 seller, 4 shop "
        "manager, 5 manager, 6 expert, 7 client, 8 temporary.",
    },
)
PAGE = page_component("AmbassadorsPage", AMBASSADOR, "ambassador")

_FILTER_DESCRIPTIONS: dict[str, tuple[Any, str]] = {
    "name": (
        {**TEXT_ITEM, "maxLength": 255},
        "Any of these texts, as a case-insensitive substring of `firstname`, `lastname` or "
        "`full_name`.",
    ),
    "id_referrer": (
        {"type": "integer", "format": "int64", "minimum": 1, "maximum": INT64_MAX},
        "Ambassadors referred by any of these ambassadors.",
    ),
    "active": (
        {"type": "integer", "minimum": ACTIVE_MIN, "maximum": ACTIVE_MAX},
        "Any of these `active` values.",
    ),
    "status": (
        {"type": "integer", "minimum": STATUS_MIN, "maximum": STATUS_MAX},
        "Any of these roles (`status`), e.g. `7,8`.",
    ),
}
if set(_FILTER_DESCRIPTIONS) != set(AmbassadorFilterSet.base_filters):
    raise ValueError("ambassadors.schema: document every filter of AmbassadorFilterSet, only those")

_NOT_FOUND = (
    "The ambassador does not exist, belongs to another brand, or the id is not a positive "
    "64-bit integer.",
    AMBASSADOR_NOT_FOUND,
)

ambassador_list_schema = extend_schema(
    operation_id="platform_ambassadors",
    summary="Get ambassadors (Platform)",
    description=(
        "The brand's ambassadors, by id unless sorted by `last_action_date`, in Laravel's "
        "paginated envelope; each item in the shape of `GET /platform/ambassadors/{id}`. Brand "
        "tokens only (ambassador and guest tokens: 403). Filters follow "
        "spatie/laravel-query-builder: `filter[name]=a,b` means any of `a`, `b`. Every page URL "
        "in the body keeps the request's other query parameters, `page` last."
    ),
    tags=["Platform"],
    parameters=[
        *page_parameters("ambassadors"),
        sort_parameter(AMBASSADOR_PARAMETERS, ("last active first", "-last_action_date")),
        *(
            filter_parameter(name, *_FILTER_DESCRIPTIONS[name])
            for name in AmbassadorFilterSet.base_filters
        ),
        *HEADER_PARAMETERS,
    ],
    responses={
        200: OpenApiResponse(PAGE, description="returns the brand's ambassadors (paginated)"),
        **error_responses(
            forbidden="an ambassador or guest token",
            not_found=None,
            parameters=AMBASSADOR_PARAMETERS,
        ),
    },
)

ambassador_schema = extend_schema(
    operation_id="platform_ambassador",
    summary="Get an ambassador (Platform)",
    description=(
        "Ambassador `{id}`. Brand tokens may read the ambassadors of their brand; ambassador "
        "tokens only their own id; guest tokens nothing. Checks run in this order: 401, 403, 404."
    ),
    tags=["Platform"],
    parameters=[id_parameter("ambassador_id", "The ambassador id"), *HEADER_PARAMETERS],
    responses={
        200: OpenApiResponse(AMBASSADOR, description="returns the ambassador"),
        **error_responses(
            forbidden="a guest token, or an ambassador token asking for another ambassador",
            not_found=_NOT_FOUND,
            parameters=None,
        ),
    },
)
