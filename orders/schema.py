"""OpenAPI description of `GET /api/v2/platform/ambassadors/{id}/orders` (drf-spectacular).

The 200 body is documented by walking `shape.py`, the same lists the renderers walk; what every
route shares (scheme, envelope, errors, page parameters) comes from `platform_api.schema`.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers

from ambassadors.selectors import AMBASSADOR_NOT_FOUND
from ambassadors.shape import ONLINE_WINDOW_SECONDS
from orders import shape
from orders.filters import OrderFilterSet
from orders.models import I18nContent, Order
from orders.query import ORDER_PARAMETERS
from platform_api.ids import INT32_MAX, INT64_MAX
from platform_api.schema import (
    DATETIME_DESCRIPTION,
    HEADER_PARAMETERS,
    TEXT_ITEM,
    WHOLE_OR_FLOAT_DESCRIPTION,
    WholeOrFloatField,
    error_responses,
    filter_parameter,
    id_parameter,
    page_component,
    page_parameters,
    shape_component,
    sort_parameter,
)

# --- The 200 body, from shape.py ------------------------------------------------------------

ORDER_DETAILS = shape_component(
    "OrderDetails",
    shape.ORDER_DETAILS,
    {
        "total_price": lambda: WholeOrFloatField(
            help_text=f"unit_price * quantity. {WHOLE_OR_FLOAT_DESCRIPTION}"
        )
    },
)
IMAGE = shape_component("Image", shape.IMAGE, {}, choices={"lang": list(I18nContent.Lang.values)})
PRODUCT = shape_component(
    "Product",
    shape.PRODUCT,
    {
        "images": lambda: IMAGE.__class__(
            many=True, help_text="The product's image contents, one per language."
        ),
        "order_details": lambda: ORDER_DETAILS.__class__(
            help_text="The order line of this product."
        ),
    },
)
BUYER = shape_component(
    "Buyer",
    shape.BUYER,
    {
        "online": lambda: serializers.BooleanField(
            help_text="true: when last_action_date is less than "
            f"{ONLINE_WINDOW_SECONDS // 60} minutes ago"
        )
    },
)
ORDER = shape_component(
    "Order",
    shape.ORDER,
    {
        "buyer": lambda: BUYER.__class__(help_text="The ambassador who placed the order."),
        "products": lambda: PRODUCT.__class__(
            many=True, help_text="One entry per order line, in line order."
        ),
        "total_products_quantity": lambda: serializers.IntegerField(
            help_text="Total quantity of products in the order"
        ),
    },
    choices={"assignment": list(Order.Assignment.values)},
    descriptions={
        "date_order": DATETIME_DESCRIPTION,
        "date_insert": DATETIME_DESCRIPTION,
        "date_update": DATETIME_DESCRIPTION,
    },
)
PAGE = page_component("AmbassadorOrdersPage", ORDER, "order")


# --- Query parameters -----------------------------------------------------------------------

_FILTER_DESCRIPTIONS: dict[str, tuple[Any, str]] = {
    "placed_between": (
        str,
        "`<start>,<end>`: orders whose `date_order` lies in the inclusive range. Each bound is an "
        "ISO 8601 date or date-time (naive date-times are UTC); a date-only end covers its whole "
        "day; either bound may be empty (`2025-01-01,` or `,2025-01-31`).",
    ),
    "last_status": ({**TEXT_ITEM, "maxLength": 32}, "Any of these statuses."),
    "type": ({**TEXT_ITEM, "maxLength": 16}, "Any of these order types."),
    "source": ({**TEXT_ITEM, "maxLength": 64}, "Any of these sources."),
    "currency": (
        {"type": "string", "pattern": "^[A-Z]{3}$"},
        "Any of these ISO 4217 currency codes (`EUR,USD`).",
    ),
    "assignment": (
        {"type": "string", "enum": list(Order.Assignment.values)},
        "Any of these assignments.",
    ),
    "id_chatroom": (
        {"type": "integer", "minimum": 1, "maximum": INT32_MAX},
        "Any of these chatroom ids.",
    ),
    "id_buyer": (
        {"type": "integer", "format": "int64", "minimum": 1, "maximum": INT64_MAX},
        "Any of these buyers (`buyer.id_ambassador`).",
    ),
    "updated_since": (
        str,
        "Orders whose `date_update` is at or after this ISO 8601 date or date-time (naive "
        "date-times are UTC): for tools that sync incrementally.",
    ),
}
if set(_FILTER_DESCRIPTIONS) != set(OrderFilterSet.base_filters):
    raise ValueError("orders.schema: document every filter of OrderFilterSet, and only those")

PARAMETERS = [
    id_parameter("ambassador_id", "The ambassador id"),
    *page_parameters("orders"),
    sort_parameter(ORDER_PARAMETERS, ("largest first", "-total_amount,date_order")),
    *(filter_parameter(name, *_FILTER_DESCRIPTIONS[name]) for name in OrderFilterSet.base_filters),
    *HEADER_PARAMETERS,
]


# --- Responses ------------------------------------------------------------------------------

RESPONSES = {
    200: OpenApiResponse(PAGE, description="returns all ambassadors (paginated)"),
    **error_responses(
        forbidden="a guest token, or an ambassador token asking for another ambassador's orders",
        not_found=(
            "The ambassador does not exist, belongs to another brand, or the id is not a "
            "positive 64-bit integer.",
            AMBASSADOR_NOT_FOUND,
        ),
        parameters=ORDER_PARAMETERS,
    ),
}

ambassador_orders_schema = extend_schema(
    operation_id="platform_ambassador_orders",
    summary="Get ambassador orders (Platform)",
    description=(
        "The orders credited to ambassador `{id}` (the seller credited with the order), newest "
        "first, in Laravel's paginated envelope. Brand tokens may read the ambassadors of their "
        "brand; ambassador tokens only their own id; guest tokens nothing. Checks run in this "
        "order: 401, 403, 404. Filters follow spatie/laravel-query-builder: `filter[name]=a,b` "
        "means any of `a`, `b`. Every page URL in the body keeps the request's other query "
        "parameters, `page` last. As in a default Laravel application, values are trimmed "
        "(TrimStrings) and empty ones are null (ConvertEmptyStringsToNull) before anything reads "
        "them, and bodies are PHP `json_encode` bytes (`\\/`, `\\uXXXX`)."
    ),
    tags=["Platform"],
    parameters=PARAMETERS,
    responses=RESPONSES,
)
