"""The OpenAPI pieces every platform route shares (drf-spectacular): the bearer scheme, bodies
documented from shapes, Laravel's page envelope, the error responses and the common parameters.

A route's own `schema.py` declares what differs: its shapes' descriptions, its filters, its
examples. Bodies are documented by walking the same shape lists the renderers walk, so the schema
cannot drift from what a route writes. The serializers exist only to describe bodies to
drf-spectacular; nothing renders through them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema_field,
    extend_schema_serializer,
    inline_serializer,
)
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework import serializers
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response

from platform_api.errors import (
    SERVER_ERROR_MESSAGE,
    TOO_MANY_ATTEMPTS_MESSAGE,
    UNAUTHORIZED_MESSAGE,
    UNAVAILABLE_MESSAGE,
    BadQuery,
    UnprocessableQuery,
)
from platform_api.ids import ID_MAX
from platform_api.negotiation import PreferredOrFirstNegotiation
from platform_api.permissions import FORBIDDEN_MESSAGE
from platform_api.query import DEFAULT_PER_PAGE, MAX_PER_PAGE, ListParameters, read_per_page
from platform_api.renderers import PhpJsonRenderer
from platform_api.shape import Column, Computed, Kind, Shape

SECURITY_SCHEME = "bearerAuth"

# URL patterns name ids for what they are (`ambassador_id`); the published pages call them `{id}`.
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


# --- Bodies, from shapes ----------------------------------------------------------------------


@extend_schema_field(OpenApiTypes.FLOAT)
class _FloatField(serializers.FloatField):
    """`number(float)`: DRF's FloatField would be documented as `double`."""


WHOLE_OR_FLOAT_DESCRIPTION = (
    "A number. The published page types it `integer(float)`: whole values are written as "
    "integers (`42`), other values keep their fraction (`19.99`)."
)
DATETIME_DESCRIPTION = "ISO 8601, UTC (`2025-05-04T09:42:00Z`)."


@extend_schema_field({"type": "number", "format": "float"})
class WholeOrFloatField(serializers.FloatField):
    """`integer(float)` in the published page: a JSON number that may or may not be whole."""


_FIELDS: dict[Kind, Callable[..., serializers.Field]] = {
    Kind.INT: serializers.IntegerField,
    Kind.TEXT: serializers.CharField,
    Kind.FLOAT: _FloatField,
    Kind.WHOLE_OR_FLOAT: WholeOrFloatField,
    Kind.DATETIME: serializers.DateTimeField,
    Kind.BOOL: serializers.BooleanField,
}

FieldFactory = Callable[[], serializers.Field]


def _column_field(column: Column, choices: list[str] | None, description: str) -> serializers.Field:
    help_text = WHOLE_OR_FLOAT_DESCRIPTION if column.kind == Kind.WHOLE_OR_FLOAT else description
    if choices is not None:
        return serializers.ChoiceField(
            choices=choices, allow_null=column.nullable, help_text=help_text or None
        )
    return _FIELDS[column.kind](allow_null=column.nullable, help_text=help_text or None)


def shape_component(
    name: str,
    spec: Shape,
    computed: Mapping[str, FieldFactory],
    *,
    choices: Mapping[str, list[str]] | None = None,
    descriptions: Mapping[str, str] | None = None,
) -> serializers.Serializer[Any]:
    """A serializer with the keys of `spec` in order; `computed` documents its Computed keys,
    `choices` and `descriptions` its columns (by key).

    Fields are built in key order because DRF orders declared fields by creation.
    """
    computed_keys = {item.key for item in spec if isinstance(item, Computed)}
    undocumented, unknown = computed_keys - set(computed), set(computed) - computed_keys
    if undocumented or unknown:
        # The shape gained or lost a computed key: document it, the schema must not lie.
        raise ValueError(f"{name}: undocumented {sorted(undocumented)}, unknown {sorted(unknown)}")
    choices, descriptions = choices or {}, descriptions or {}
    fields = {
        item.key: computed[item.key]()
        if isinstance(item, Computed)
        else _column_field(item, choices.get(item.key), descriptions.get(item.key, ""))
        for item in spec
    }
    return inline_serializer(name=name, fields=fields)


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


def page_component(
    name: str, item: serializers.Serializer[Any], noun: str
) -> serializers.Serializer[Any]:
    """Laravel's LengthAwarePaginator::toArray() around `item`s, keys in its order
    (platform_api/pagination.py); `noun` names one item in the descriptions."""
    page = inline_serializer(
        name=name,
        fields={
            "current_page": serializers.IntegerField(
                help_text="The requested page, even past the end."
            ),
            "data": item.__class__(many=True),
            "first_page_url": serializers.URLField(),
            "from": serializers.IntegerField(
                allow_null=True,
                help_text=f"Position of the page's first {noun}; null on an empty page.",
            ),
            "last_page": serializers.IntegerField(),
            "last_page_url": serializers.URLField(),
            "links": PAGE_LINK.__class__(
                many=True,
                help_text="Laravel's URL window: 3 pages on each side of the current one.",
            ),
            "next_page_url": serializers.URLField(
                allow_null=True, help_text="null on the last page."
            ),
            "path": serializers.URLField(help_text="The page URL without its query string."),
            "per_page": serializers.IntegerField(),
            "prev_page_url": serializers.URLField(
                allow_null=True, help_text="null on the first page."
            ),
            "to": serializers.IntegerField(
                allow_null=True,
                help_text=f"Position of the page's last {noun}; null on an empty page.",
            ),
            "total": serializers.IntegerField(),
        },
    )
    # A list route's body is one envelope object, not an array.
    extend_schema_serializer(many=False)(page.__class__)
    return page


def cursor_page_component(
    name: str, item: serializers.Serializer[Any], noun: str
) -> serializers.Serializer[Any]:
    """Laravel's CursorPaginator::toArray() around `item`s, keys in its order
    (platform_api/cursor_pagination.py); `noun` names one item in the descriptions."""
    page = inline_serializer(
        name=name,
        fields={
            "data": item.__class__(many=True),
            "path": serializers.URLField(help_text="The page URL without its query string."),
            "per_page": serializers.IntegerField(),
            "next_cursor": serializers.CharField(
                allow_null=True,
                help_text=f"The cursor of the page after this one; null when no {noun} follows.",
            ),
            "next_page_url": serializers.URLField(
                allow_null=True, help_text="This URL with `cursor=<next_cursor>`, or null."
            ),
            "prev_cursor": serializers.CharField(
                allow_null=True,
                help_text="The cursor of the page before this one; null on the first page.",
            ),
            "prev_page_url": serializers.URLField(
                allow_null=True, help_text="This URL with `cursor=<prev_cursor>`, or null."
            ),
        },
    )
    extend_schema_serializer(many=False)(page.__class__)
    return page


def cursor_parameter(noun: str) -> OpenApiParameter:
    """`cursor`: its presence selects cursor pages."""
    return OpenApiParameter(
        "cursor",
        {"type": "string"},
        description=f"Cursor pagination, for tools that walk all the {noun}: present (empty for "
        "the first page), the body is Laravel's CursorPaginator envelope instead, keyset pages "
        "over the same sort and filters, without a count, at the same cost at any depth; "
        "follow `next_page_url` (or pass `next_cursor`). Cursors are opaque (Laravel's "
        "encoding); one that does not decode, or was made for another sort, is the first "
        "page. `page` is then ignored.",
        examples=[OpenApiExample("first cursor page", value="")],
    )


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


# --- Parameters -------------------------------------------------------------------------------

# Text items: NUL never reaches PostgreSQL (it rejects NUL in text); the server answers 422.
TEXT_ITEM = {"type": "string", "pattern": "^[^\\x00]*$"}


def id_parameter(name: str, description: str) -> OpenApiParameter:
    """A path id: a positive 64-bit integer (anything else names nothing: 404)."""
    return OpenApiParameter(
        name,
        {"type": "integer", "format": "int64", "minimum": 1, "maximum": ID_MAX},
        OpenApiParameter.PATH,
        required=True,
        description=description,
    )


def filter_parameter(name: str, item: Any, description: str) -> OpenApiParameter:
    """`filter[name]`: a comma-separated list when `item` is a JSON schema, else one value."""
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


def page_parameters(noun: str) -> list[OpenApiParameter]:
    """`page` and `per_page`, as every list route reads them; `noun` is the items' plural."""
    return [
        # Declared as a string on purpose: the server accepts any value (Laravel reads anything
        # that is not an integer >= 1 as page 1), so an integer type would tell fuzzers and
        # clients that `page=abc` is rejected when it is not.
        OpenApiParameter(
            "page",
            {"type": "string", "default": "1"},
            description="The page number, an integer >= 1. As in Laravel, any other value "
            "(empty, `abc`, `0`, `-3`, `1.5`, `02`, beyond 64 bits) means page 1, never an "
            "error. A page past the end answers 200 with an empty `data` and `from`/`to` null.",
            examples=[OpenApiExample("second page", value="2")],
        ),
        OpenApiParameter(
            "per_page",
            {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_PER_PAGE,
                "default": DEFAULT_PER_PAGE,
            },
            description=f"{noun.capitalize()} per page, 1 to {MAX_PER_PAGE}. Anything else is a "
            "422 naming `per_page`.",
        ),
    ]


def sort_parameter(parameters: ListParameters, example: tuple[str, str]) -> OpenApiParameter:
    """`sort`, with the names `parameters` allows; `example` is (its name, its value)."""
    names = ", ".join(f"`{name}`, `-{name}`" for name in parameters.sorts)
    name_re = "|".join(parameters.sorts)
    default = ",".join(parameters.default_sort)
    return OpenApiParameter(
        "sort",
        {
            "type": "string",
            "default": default,
            # What ListParameters.read_ordering() accepts, as spatie does: empty and "0" parts
            # are dropped, leading dashes are one `-`, spaces only around the whole value.
            "pattern": rf"^\s*(0|-*({name_re}))?(,(0|-*({name_re}))?)*\s*$",
        },
        description=f"One or more of {names}, comma-separated, the first one first; `-` "
        f"means descending. Default `{default}`; `{parameters.tie_breaker}` always breaks ties "
        "(in the first key's direction), so pages never overlap or skip. An unknown name is a "
        "400 listing the allowed ones.",
        examples=[OpenApiExample(example[0], value=example[1])],
    )


HEADER_PARAMETERS = [
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


# --- Responses --------------------------------------------------------------------------------


def raised_body(call: Callable[[], object]) -> dict[str, Any]:
    """The body the exception handler writes for what `call` raises: examples from the code."""
    try:
        call()
    except UnprocessableQuery as exc:
        return {"message": str(exc.detail), "errors": exc.errors}
    except BadQuery as exc:
        return {"message": str(exc.detail)}
    raise AssertionError("expected a query error")


def message_response(status: int, description: str, message: str) -> OpenApiResponse:
    """A `{"message": ...}` response with its example."""
    return OpenApiResponse(
        MESSAGE,
        description=description,
        examples=[OpenApiExample(str(status), value={"message": message}, status_codes=[status])],
    )


def error_responses(
    *, forbidden: str, not_found: tuple[str, str] | None, parameters: ListParameters | None
) -> dict[int, OpenApiResponse]:
    """The error statuses of a route: 401, 403 (`forbidden` says who), 404 when the route has
    an object to find (description, message), 400 and 422 when it reads list `parameters`,
    429, 503 and 500."""
    responses: dict[int, OpenApiResponse] = {}
    if parameters is not None:
        responses[400] = OpenApiResponse(
            MESSAGE,
            description="An unknown `filter[...]` or `sort` name; the message lists the allowed "
            "ones.",
            examples=[
                OpenApiExample(
                    "unknown sort",
                    value=raised_body(lambda: parameters.read_ordering({"sort": "price"})),
                    status_codes=[400],
                )
            ],
        )
    responses[401] = message_response(
        401,
        "Unauthorized. Missing, malformed, unknown, expired or revoked token.",
        UNAUTHORIZED_MESSAGE,
    )
    responses[403] = message_response(
        403,
        f"Forbidden - You don't have permission to access this route ({forbidden}).",
        FORBIDDEN_MESSAGE,
    )
    if not_found is not None:
        responses[404] = message_response(404, *not_found)
    if parameters is not None:
        responses[422] = OpenApiResponse(
            VALIDATION_ERRORS,
            description="A malformed query parameter, in Laravel's validation shape.",
            examples=[
                OpenApiExample(
                    "per_page out of range",
                    value=raised_body(lambda: read_per_page({"per_page": "0"})),
                    status_codes=[422],
                )
            ],
        )
    responses[429] = message_response(
        429, "Too many requests for this token.", TOO_MANY_ATTEMPTS_MESSAGE
    )
    responses[503] = message_response(
        503, "The database is unreachable; retry later.", UNAVAILABLE_MESSAGE
    )
    responses[500] = message_response(
        500, "An unhandled error, without details (Laravel's words).", SERVER_ERROR_MESSAGE
    )
    return responses


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


class _SchemaPage:
    """What the schema and its docs page share with the API: GET and HEAD only (OPTIONS was
    DRF's metadata, a 500 through the docs page's template renderer), and errors in the API's
    JSON rather than in YAML or as a bare text/html line. Their own representation otherwise
    follows the client where it names one (`?format=json`), else the first."""

    http_method_names: Sequence[str] = ["get", "head"]
    content_negotiation_class: type[BaseContentNegotiation] = PreferredOrFirstNegotiation

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        if getattr(response, "exception", False):
            response.accepted_renderer = PhpJsonRenderer()
            response.accepted_media_type = PhpJsonRenderer.media_type
        return response


class SchemaView(_SchemaPage, SpectacularAPIView):
    """`/api/v2/schema/`: the OpenAPI schema (YAML; `?format=json`)."""


class SchemaDocsView(_SchemaPage, SpectacularSwaggerView):
    """`/api/v2/docs/`: the schema's Swagger UI page."""
