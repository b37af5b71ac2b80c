"""OpenAPI description of `GET /api/v2/platform/ambassadors/{id}/orders` (drf-spectacular).

The 200 body is documented by walking `shape.py`, the same lists the renderer walks, so the
schema cannot drift from what the endpoint writes. The serializers below exist only to describe
that body to drf-spectacular; nothing renders through them (`rendering.py` does).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
    inline_serializer,
)
from rest_framework import serializers

from orders import shape
from orders.filters import INT32_MAX, INT64_MAX, OrderFilterSet
from orders.models import I18nContent, Order
from orders.query import (
    ALLOWED_SORTS,
    DEFAULT_PER_PAGE,
    DEFAULT_SORT,
    MAX_PER_PAGE,
    read_ordering,
    read_per_page,
)
from platform_api.errors import (
    UNAUTHORIZED_MESSAGE,
    UNAVAILABLE_MESSAGE,
    BadQuery,
    UnprocessableQuery,
)
from platform_api.ids import ID_MAX
from platform_api.permissions import FORBIDDEN_MESSAGE

SECURITY_SCHEME = "bearerAuth"

# The URL pattern names the id `ambassador_id`; the published page calls it `{id}`.
PUBLISHED_PATH_PARAMETERS = {"ambassador_id": "id"}


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """`Authorization: Bearer pat_…`, as an OpenAPI http/bearer security scheme."""

    target_class = "platform_api.authentication.BearerTokenAuthentication"
    name = SECURITY_SCHEME

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return build_bearer_security_scheme_object(
            header_name="Authorization",
            token_prefix="Bearer",  # noqa: S106 (the scheme's name, not a secret)
            bearer_format="pat_…",
        )


# --- The 200 body, from shape.py ------------------------------------------------------------


@extend_schema_field(OpenApiTypes.FLOAT)
class _FloatField(serializers.FloatField):
    """`number(float)`: DRF's FloatField would be documented as `double`."""


WHOLE_OR_FLOAT_DESCRIPTION = (
    "A number. The published page types it `integer(float)`: whole values are written as "
    "integers (`42`), other values keep their fraction (`19.99`)."
)


@extend_schema_field({"type": "number", "format": "float"})
class _WholeOrFloatField(serializers.FloatField):
    """`integer(float)` in the published page: a JSON number that may or may not be whole."""


_FIELDS: dict[shape.Kind, Callable[..., serializers.Field]] = {
    shape.Kind.INT: serializers.IntegerField,
    shape.Kind.TEXT: serializers.CharField,
    shape.Kind.FLOAT: _FloatField,
    shape.Kind.WHOLE_OR_FLOAT: _WholeOrFloatField,
    shape.Kind.DATETIME: serializers.DateTimeField,
    shape.Kind.BOOL: serializers.BooleanField,
}

# Columns whose values are one of the model's choices.
_CHOICES: dict[tuple[str, str], list[str]] = {
    ("Order", "assignment"): list(Order.Assignment.values),
    ("Image", "lang"): list(I18nContent.Lang.values),
}

_DESCRIPTIONS: dict[tuple[str, str], str] = {
    ("Order", "date_order"): "ISO 8601, UTC (`2025-05-04T09:42:00Z`).",
    ("Order", "date_insert"): "ISO 8601, UTC (`2025-05-04T09:42:00Z`).",
    ("Order", "date_update"): "ISO 8601, UTC (`2025-05-04T09:42:00Z`).",
}


def _column_field(component: str, column: shape.Column) -> serializers.Field:
    choices = _CHOICES.get((component, column.key))
    help_text = _DESCRIPTIONS.get((component, column.key), "")
    if column.kind == shape.Kind.WHOLE_OR_FLOAT:
        help_text = WHOLE_OR_FLOAT_DESCRIPTION
    if choices is not None:
        return serializers.ChoiceField(
            choices=choices, allow_null=column.nullable, help_text=help_text or None
        )
    return _FIELDS[column.kind](allow_null=column.nullable, help_text=help_text or None)


_FieldFactory = Callable[[], serializers.Field]


def _component(
    name: str, spec: list[shape.Column | shape.Computed], computed: dict[str, _FieldFactory]
) -> serializers.Serializer[Any]:
    """A serializer with the keys of `spec` in order; `computed` documents its Computed keys.

    Fields are built in key order because DRF orders declared fields by creation.
    """
    undocumented = {item.key for item in spec if isinstance(item, shape.Computed)} - set(computed)
    unknown = set(computed) - {item.key for item in spec if isinstance(item, shape.Computed)}
    if undocumented or unknown:
        # shape.py gained or lost a computed key: document it here, the schema must not lie.
        raise ValueError(f"{name}: undocumented {sorted(undocumented)}, unknown {sorted(unknown)}")
    fields = {
        item.key: computed[item.key]()
        if isinstance(item, shape.Computed)
        else _column_field(name, item)
        for item in spec
    }
    return inline_serializer(name=name, fields=fields)


ORDER_DETAILS = _component(
    "OrderDetails",
    shape.ORDER_DETAILS,
    {
        "total_price": lambda: _WholeOrFloatField(
            help_text=f"unit_price * quantity. {WHOLE_OR_FLOAT_DESCRIPTION}"
        )
    },
)
IMAGE = _component("Image", shape.IMAGE, {})
PRODUCT = _component(
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
BUYER = _component(
    "Buyer",
    shape.BUYER,
    {
        "online": lambda: serializers.BooleanField(
            help_text="true: when last_action_date is less than "
            f"{shape.ONLINE_WINDOW_SECONDS // 60} minutes ago"
        )
    },
)
ORDER = _component(
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
)

PAGE_LINK = inline_serializer(
    name="PageLink",
    fields={
        "url": serializers.URLField(
            allow_null=True, help_text="null for a `...` separator and at either end of the list."
        ),
        "label": serializers.CharField(
            help_text="`&laquo; Previous`, a page number, `...`, or `Next &raquo;`."
        ),
        "active": serializers.BooleanField(help_text="true only for the current page."),
    },
)


# Laravel's LengthAwarePaginator::toArray(), keys in its order (platform_api/pagination.py).
PAGE = inline_serializer(
    name="AmbassadorOrdersPage",
    fields={
        "current_page": serializers.IntegerField(
            help_text="The requested page, even past the end."
        ),
        "data": ORDER.__class__(many=True),
        "first_page_url": serializers.URLField(),
        "from": serializers.IntegerField(
            allow_null=True, help_text="Position of the page's first order; null on an empty page."
        ),
        "last_page": serializers.IntegerField(),
        "last_page_url": serializers.URLField(),
        "links": PAGE_LINK.__class__(
            many=True, help_text="Laravel's URL window: 3 pages on each side of the current one."
        ),
        "next_page_url": serializers.URLField(allow_null=True, help_text="null on the last page."),
        "path": serializers.URLField(help_text="The page URL without its query string."),
        "per_page": serializers.IntegerField(),
        "prev_page_url": serializers.URLField(allow_null=True, help_text="null on the first page."),
        "to": serializers.IntegerField(
            allow_null=True, help_text="Position of the page's last order; null on an empty page."
        ),
        "total": serializers.IntegerField(),
    },
)
# The route is a list action, but its body is one envelope object, not an array.
extend_schema_serializer(many=False)(PAGE.__class__)

MESSAGE = inline_serializer(name="Message", fields={"message": serializers.CharField()})
VALIDATION_ERRORS = inline_serializer(
    name="ValidationErrors",
    fields={
        "message": serializers.CharField(help_text="The first error, as Laravel words it."),
        "errors": serializers.DictField(
            child=serializers.ListField(child=serializers.CharField()),
            help_text="Every error, per query parameter (`per_page`, `filter.<name>`, `sort`).",
        ),
    },
)


# --- Query parameters -----------------------------------------------------------------------

# Text items: NUL never reaches PostgreSQL (it rejects NUL in text); the server answers 422.
_TEXT = {"type": "string", "pattern": "^[^\\x00]*$"}

_FILTER_DESCRIPTIONS: dict[str, tuple[Any, str]] = {
    "placed_between": (
        str,
        "`<start>,<end>`: orders whose `date_order` lies in the inclusive range. Each bound is an "
        "ISO 8601 date or date-time (naive date-times are UTC); a date-only end covers its whole "
        "day; either bound may be empty (`2025-01-01,` or `,2025-01-31`).",
    ),
    "last_status": ({**_TEXT, "maxLength": 32}, "Any of these statuses."),
    "type": ({**_TEXT, "maxLength": 16}, "Any of these order types."),
    "source": ({**_TEXT, "maxLength": 64}, "Any of these sources."),
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


def _filter_parameter(name: str) -> OpenApiParameter:
    item, description = _FILTER_DESCRIPTIONS[name]
    if isinstance(item, dict):
        # A comma-separated list, spatie's "any of": form style without explode writes exactly
        # `filter[type]=WEB,STORE`.
        return OpenApiParameter(
            f"filter[{name}]",
            {"type": "array", "items": item},
            description=f"{description} Comma-separated; an empty value is no filter. "
            "A malformed value is a 422 naming `filter." + name + "`.",
            style="form",
            explode=False,
        )
    return OpenApiParameter(
        f"filter[{name}]",
        item,
        description=f"{description} A malformed value is a 422 naming `filter.{name}`.",
    )


_SORT_NAMES = ", ".join(f"`{name}`, `-{name}`" for name in ALLOWED_SORTS)
_SORT_NAME_RE = "|".join(ALLOWED_SORTS)

PARAMETERS = [
    OpenApiParameter(
        "ambassador_id",
        {"type": "integer", "format": "int64", "minimum": 1, "maximum": ID_MAX},
        OpenApiParameter.PATH,
        required=True,
        description="The ambassador id",
    ),
    # Declared as a string on purpose: the server accepts any value (Laravel reads anything
    # that is not an integer >= 1 as page 1), so an integer type would tell fuzzers and
    # clients that `page=abc` is rejected when it is not.
    OpenApiParameter(
        "page",
        {"type": "string", "default": "1"},
        description="The page number, an integer >= 1. As in Laravel, any other value (empty, "
        "`abc`, `0`, `-3`, `1.5`, `02`, beyond 64 bits) means page 1, never an error. A page past "
        "the end answers 200 with an empty `data` and `from`/`to` null.",
        examples=[OpenApiExample("second page", value="2")],
    ),
    OpenApiParameter(
        "per_page",
        {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": DEFAULT_PER_PAGE},
        description=f"Orders per page, 1 to {MAX_PER_PAGE}. Anything else is a 422 naming "
        "`per_page`.",
    ),
    OpenApiParameter(
        "sort",
        {
            "type": "string",
            "default": ",".join(DEFAULT_SORT),
            # What read_ordering() accepts: empty parts are dropped, as spatie does.
            "pattern": rf"^\s*(-?({_SORT_NAME_RE})\s*)?(,\s*(-?({_SORT_NAME_RE})\s*)?)*$",
        },
        description=f"One or more of {_SORT_NAMES}, comma-separated, the first one first; `-` "
        f"means descending. Default `{','.join(DEFAULT_SORT)}`; `id_order` always breaks ties "
        "(in the first key's direction), so pages never overlap or skip. An unknown name is a "
        "400 listing the allowed ones.",
        examples=[OpenApiExample("largest first", value="-total_amount,date_order")],
    ),
    *(_filter_parameter(name) for name in OrderFilterSet.base_filters),
    OpenApiParameter(
        "WWW-Authenticate",
        str,
        OpenApiParameter.HEADER,
        response=[401],
        description="`Bearer`: the scheme this route expects.",
    ),
    OpenApiParameter(
        "Retry-After",
        int,
        OpenApiParameter.HEADER,
        response=[429, 503],
        description="Seconds to wait before retrying.",
    ),
]


# --- Responses ------------------------------------------------------------------------------


def _raised(call: Callable[[], object]) -> dict[str, Any]:
    """The body the exception handler writes for what `call` raises: examples from the code."""
    try:
        call()
    except UnprocessableQuery as exc:
        return {"message": str(exc.detail), "errors": exc.errors}
    except BadQuery as exc:
        return {"message": str(exc.detail)}
    raise AssertionError("expected a query error")


def _message(status: int, description: str, message: str) -> OpenApiResponse:
    return OpenApiResponse(
        MESSAGE,
        description=description,
        examples=[OpenApiExample(str(status), value={"message": message}, status_codes=[status])],
    )


RESPONSES = {
    200: OpenApiResponse(PAGE, description="returns all ambassadors (paginated)"),
    400: OpenApiResponse(
        MESSAGE,
        description="An unknown `filter[...]` or `sort` name; the message lists the allowed ones.",
        examples=[
            OpenApiExample(
                "unknown sort",
                value=_raised(lambda: read_ordering({"sort": "price"})),
                status_codes=[400],
            )
        ],
    ),
    401: _message(
        401,
        "Unauthorized. Missing, malformed, unknown, expired or revoked token.",
        UNAUTHORIZED_MESSAGE,
    ),
    403: _message(
        403,
        "Forbidden - You don't have permission to access this route (a guest token, or an "
        "ambassador token asking for another ambassador's orders).",
        FORBIDDEN_MESSAGE,
    ),
    404: _message(
        404,
        "The ambassador does not exist, belongs to another brand, or the id is not a positive "
        "64-bit integer.",
        "The ambassador does not exist.",
    ),
    422: OpenApiResponse(
        VALIDATION_ERRORS,
        description="A malformed query parameter, in Laravel's validation shape.",
        examples=[
            OpenApiExample(
                "per_page out of range",
                value=_raised(lambda: read_per_page({"per_page": "0"})),
                status_codes=[422],
            )
        ],
    ),
    429: _message(429, "Too many requests for this token.", "Too Many Attempts."),
    503: _message(503, "The database is unreachable; retry later.", UNAVAILABLE_MESSAGE),
    500: _message(500, "An unhandled error, without details (Laravel's words).", "Server Error"),
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


def publish_path_parameter_names(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """POSTPROCESSING_HOOKS: path parameters under their published names (`{id}`)."""
    paths: dict[str, Any] = {}
    for path, operations in result.get("paths", {}).items():
        for internal, published in PUBLISHED_PATH_PARAMETERS.items():
            path = path.replace(f"{{{internal}}}", f"{{{published}}}")
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "path" and parameter["name"] in PUBLISHED_PATH_PARAMETERS:
                    parameter["name"] = PUBLISHED_PATH_PARAMETERS[parameter["name"]]
        paths[path] = operations
    result["paths"] = paths
    return result
