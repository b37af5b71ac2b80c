"""The OpenAPI schema against the published page and against what the endpoint really answers."""

from __future__ import annotations

import copy
import json
import re
from datetime import datetime
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.db import OperationalError
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from ambassadors.shape import ONLINE_WINDOW_SECONDS
from orders import shape
from orders.models import I18nContent, Order
from orders.query import ORDER_PARAMETERS
from platform_api import shape as platform_shape
from platform_api.errors import BadQuery
from platform_api.laravel_request import laravel_trim
from tests.conftest import bearer
from tests.factories import (
    AmbassadorFactory,
    ApiTokenFactory,
    I18nContentFactory,
    OrderFactory,
    OrderProductFactory,
    ProductFactory,
)
from tests.spec import documented_attributes, nullable_paths, published_example

ROUTE = "/api/v2/platform/ambassadors/{id}/orders"
SCHEMA_URL = "/api/v2/schema/"
DOCS_URL = "/api/v2/docs/"

# Null on some pages although the published page does not say "(nullable)": Laravel's paginator
# writes null for `from`/`to` on an empty page, `next_page_url` on the last page, and the `url`
# of a "..." separator or of Previous/Next at either end.
ENVELOPE_NULLABLE = {("from",), ("to",), ("next_page_url",), ("links", "url")}


@pytest.fixture(scope="module")
def openapi() -> dict[str, Any]:
    return SchemaGenerator().get_schema(request=None, public=True)


def operation(openapi: dict[str, Any]) -> dict[str, Any]:
    return openapi["paths"][ROUTE]["get"]


def resolve(openapi: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """A schema with its `$ref` (or spectacular's single-`allOf` wrapper) followed."""
    if "$ref" in node:
        return resolve(openapi, openapi["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]])
    if len(node.get("allOf", [])) == 1:
        return {
            **resolve(openapi, node["allOf"][0]),
            **{k: v for k, v in node.items() if k != "allOf"},
        }
    return node


def response_schema(openapi: dict[str, Any], status: int) -> dict[str, Any]:
    return operation(openapi)["responses"][str(status)]["content"]["application/json"]["schema"]


def page_schema(openapi: dict[str, Any], *, cursor: bool = False) -> dict[str, Any]:
    """The 200's length-aware page, or its cursor page: the two alternatives of its oneOf."""
    alternatives = resolve(openapi, response_schema(openapi, 200))["oneOf"]
    return resolve(openapi, alternatives[1 if cursor else 0])


# --- OpenAPI 3.0 -> JSON Schema, to validate real bodies with jsonschema ---------------------


def to_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 `nullable` as JSON Schema `null`; objects closed, so extra keys fail too."""
    if isinstance(node, list):
        return [to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: to_json_schema(value) for key, value in node.items()}
    if converted.get("type") == "object" and "properties" in converted:
        converted.setdefault("additionalProperties", False)
    if converted.pop("nullable", False):
        if "type" in converted and "enum" not in converted:
            converted["type"] = [converted["type"], "null"]
        else:
            converted = {"anyOf": [converted, {"type": "null"}]}
    return converted


_API_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
format_checker = jsonschema.FormatChecker()


@format_checker.checks("date-time")
def _is_api_datetime(value: object) -> bool:
    # The published example's form exactly: UTC, to the second, `Z`.
    return not isinstance(value, str) or bool(
        _API_DATETIME.fullmatch(value) and datetime.fromisoformat(value.replace("Z", "+00:00"))
    )


@format_checker.checks("uri")
def _is_absolute_url(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return parts.scheme in {"http", "https"} and bool(parts.netloc)


def assert_valid(openapi: dict[str, Any], schema: dict[str, Any], body: Any) -> None:
    document = {**to_json_schema(schema), "components": to_json_schema(openapi["components"])}
    jsonschema.Draft202012Validator(document, format_checker=format_checker).validate(body)


# --- The schema itself ---------------------------------------------------------------------


def test_spectacular_validates_without_warnings(tmp_path):
    target = tmp_path / "openapi.yaml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))

    assert yaml.safe_load(target.read_text())["paths"]


def test_schema_is_served_without_authentication_as_yaml_and_json(openapi):
    client = APIClient()

    as_yaml = client.get(SCHEMA_URL)
    as_json = client.get(SCHEMA_URL, {"format": "json"})

    assert as_yaml.status_code == 200
    assert as_yaml["Content-Type"].startswith("application/vnd.oai.openapi")
    assert as_json.status_code == 200
    assert as_json["Content-Type"].startswith("application/vnd.oai.openapi+json")
    assert yaml.safe_load(as_yaml.content) == json.loads(as_json.content)
    assert json.loads(as_json.content)["paths"].keys() == {
        "/api/v2/platform/ambassadors",
        "/api/v2/platform/ambassadors/{id}",
        ROUTE,
    }


class _AssetLinks(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value for name, value in attrs if name in {"src", "href"} and value]


def test_docs_page_uses_only_local_assets_and_they_are_served(settings, tmp_path):
    # given: the static files collected as a deployment does, served by WhiteNoise
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    call_command("collectstatic", "--noinput", verbosity=0)
    client = APIClient()

    # when
    response = client.get(DOCS_URL)

    # then
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    parser = _AssetLinks()
    parser.feed(page)
    assert len(parser.urls) >= 4  # favicon, stylesheet, two scripts
    for url in parser.urls:
        assert url.startswith("/static/drf_spectacular_sidecar/"), url
        assert finders.find(url.removeprefix("/static/")) is not None
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert asset.getvalue(), url  # WhiteNoise streams the file
    assert f'url: "{SCHEMA_URL}"' in page
    assert not re.search(r"https?://", page)  # no CDN, nothing fetched from elsewhere


def test_operation_is_the_published_one(openapi):
    op = operation(openapi)

    assert op["summary"] == "Get ambassador orders (Platform)"
    assert op["operationId"] == "platform_ambassador_orders"
    assert op["security"] == [{"bearerAuth": []}]
    assert openapi["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "pat_…",
    }
    assert sorted(op["responses"]) == [
        "200",
        "400",
        "401",
        "403",
        "404",
        "422",
        "429",
        "500",
        "503",
    ]
    assert op["responses"]["401"]["headers"].keys() == {"WWW-Authenticate"}
    for status in ("429", "503"):
        assert op["responses"][status]["headers"].keys() == {"Retry-After"}


def test_every_query_parameter_is_documented(openapi):
    parameters = {(p["in"], p["name"]): p for p in operation(openapi)["parameters"]}

    assert parameters[("path", "id")]["schema"]["type"] == "integer"
    assert parameters[("path", "id")]["required"] is True
    assert set(parameters) == {
        ("path", "id"),
        ("query", "page"),
        ("query", "per_page"),
        ("query", "cursor"),
        ("query", "sort"),
        *(
            ("query", f"filter[{name}]")
            for name in (
                "placed_between",
                "last_status",
                "type",
                "source",
                "currency",
                "assignment",
                "id_chatroom",
                "id_buyer",
                "updated_since",
            )
        ),
    }
    assert parameters[("query", "per_page")]["schema"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 100,
        "default": 15,
    }
    assignment = parameters[("query", "filter[assignment]")]
    assert assignment["schema"]["items"]["enum"] == list(Order.Assignment.values)
    assert (assignment["style"], assignment["explode"]) == ("form", False)


def _server_accepts_sort(value: str) -> bool:
    try:
        # The value as the server reads it: trimmed by TrimStrings, empty is null.
        ORDER_PARAMETERS.read_ordering({"sort": laravel_trim(value) or None})
    except BadQuery:
        return False
    return True


def _sort_pattern(openapi: dict[str, Any]) -> str:
    return next(p for p in operation(openapi)["parameters"] if p["name"] == "sort")["schema"][
        "pattern"
    ]


@pytest.mark.parametrize(
    "value",
    [
        "-date_order",
        "total_amount,-id_order",
        " date_update , -total_paid",
        "date_order,",
        "",
        "price",
        "--date_order",
        "- date_order",
        "date_order,price",
    ],
)
def test_sort_pattern_matches_what_the_server_accepts(openapi, value):
    assert bool(re.search(_sort_pattern(openapi), value)) is _server_accepts_sort(value)


_SORT_PARTS = [
    *ORDER_PARAMETERS.sorts,
    *(f"-{name}" for name in ORDER_PARAMETERS.sorts),
    "",
    " ",
    "-",
    "--id_order",
]
_SORT_VALUES = st.one_of(
    st.lists(
        st.tuples(st.sampled_from(["", " ", "\t"]), st.sampled_from(_SORT_PARTS)).map("".join),
        max_size=4,
    ).map(",".join),
    st.text(alphabet=" ,-\t" + "".join(sorted(set("".join(ORDER_PARAMETERS.sorts)))), max_size=30),
)


@hypothesis_settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=_SORT_VALUES)
def test_sort_pattern_agrees_with_the_server_on_fuzzed_input(openapi, value):
    # A pattern stricter than the server would make negative fuzzing report false failures.
    assert bool(re.search(_sort_pattern(openapi), value)) is _server_accepts_sort(value)


# --- The 200 body against the published page -----------------------------------------------

# Documented type -> the OpenAPI types it may be described as.
_DOCUMENTED = {
    "integer": {"integer"},
    "integer(int32)": {"integer"},
    "number(float)": {"number"},
    # "integer(float)": a number, written whole when it is whole; values like 19.99 occur.
    # `stock` holds only whole values (an integer column), so `integer` is compatible too.
    "integer(float)": {"number", "integer"},
    "string": {"string"},
    "string(nullable)": {"string"},
    "string(date-time)": {"string"},
    "boolean": {"boolean"},
    "object": {"object"},
    "array[object]": {"array"},
}


def _walk(
    openapi: dict[str, Any], schema: dict[str, Any], example: Any, path: tuple[str, ...]
) -> list[tuple[tuple[str, ...], dict[str, Any], Any]]:
    """(path, schema, example value) for every node; paths skip arrays, as the page's do."""
    schema = resolve(openapi, schema)
    nodes = [(path, schema, example)]
    if isinstance(example, dict):
        assert list(schema["properties"]) == list(example), path
        for key, value in example.items():
            nodes += _walk(openapi, schema["properties"][key], value, (*path, key))
    elif isinstance(example, list):
        assert schema["type"] == "array", path
        nodes += _walk(openapi, schema["items"], example[0], path)[1:]
    return nodes


def test_200_schema_has_the_published_keys_in_the_published_order(openapi):
    nodes = _walk(openapi, page_schema(openapi), published_example(), ())

    assert len(nodes) > 70


def test_200_schema_types_are_compatible_with_the_published_page(openapi):
    documented = documented_attributes()
    for path, schema, example in _walk(openapi, page_schema(openapi), published_example(), ()):
        if isinstance(example, list):
            continue  # the array itself; its items are walked
        kind = schema["type"]
        if path in documented:
            assert kind in _DOCUMENTED[documented[path]], (path, documented[path], kind)
        if isinstance(example, bool):
            assert kind == "boolean", path
        elif isinstance(example, int):
            # An integer example for a number only where the page says `integer(float)`.
            assert kind == "integer" or documented.get(path) == "integer(float)", path
        elif isinstance(example, float):
            assert kind == "number", path
        elif isinstance(example, str):
            assert kind == "string", path
            if "enum" in schema:
                assert example in schema["enum"], path
        elif isinstance(example, dict):
            assert kind == "object", path


def test_200_schema_formats_follow_shape(openapi):
    nodes = {
        path: schema
        for path, schema, _ in _walk(openapi, page_schema(openapi), published_example(), ())
    }
    expected_format = {
        shape.Kind.INT: None,
        shape.Kind.TEXT: None,
        shape.Kind.FLOAT: "float",
        shape.Kind.WHOLE_OR_FLOAT: "float",
        shape.Kind.DATETIME: "date-time",
        shape.Kind.BOOL: None,
    }
    prefixes = {
        ("data",): shape.ORDER,
        ("data", "buyer"): shape.BUYER,
        ("data", "products"): shape.PRODUCT,
        ("data", "products", "images"): shape.IMAGE,
        ("data", "products", "order_details"): shape.ORDER_DETAILS,
    }
    for prefix, spec in prefixes.items():
        for column in platform_shape.columns(spec):
            assert nodes[(*prefix, column.key)].get("format") == expected_format[column.kind]
            assert nodes[(*prefix, column.key)].get("nullable", False) is column.nullable


def test_200_schema_nullable_fields_are_the_published_ones_plus_the_envelopes(openapi):
    nullable = {
        path
        for path, schema, _ in _walk(openapi, page_schema(openapi), published_example(), ())
        if schema.get("nullable")
    }

    assert nullable == nullable_paths() | ENVELOPE_NULLABLE


def test_200_schema_enumerates_assignment_and_lang(openapi):
    nodes = {
        path: schema
        for path, schema, _ in _walk(openapi, page_schema(openapi), published_example(), ())
    }

    assert nodes[("data", "assignment")]["enum"] == [
        "conversation_assigned",
        "affiliation_assigned",
        "unassigned",
    ]
    assert nodes[("data", "products", "images", "lang")]["enum"] == [
        "en_GB",
        "fr_FR",
        "es_ES",
        "de_DE",
    ]


# --- Real bodies against the schema --------------------------------------------------------


@pytest.fixture
def ambassador_with_orders(ambassador):
    """15 orders, the first with every nullable field filled and fractional prices."""
    rich = ProductFactory(
        price_catalog=Decimal("19.99"),
        reference_unit_price=Decimal("42.00"),
        youtube_id="dQw4w9WgXcQ",
        old_image="https://cdn.example.com/old.jpg",
    )
    bare = ProductFactory(name=None, type=None, sku=None, url=None, description=None)
    for lang in I18nContent.Lang.values:
        I18nContentFactory(product=rich, lang=lang)
    first = OrderFactory(
        ambassador=ambassador,
        id_meeting_external="M-1",
        assignment=Order.Assignment.CONVERSATION_ASSIGNED,
        buyer=AmbassadorFactory(brand=ambassador.brand, online=True),
    )
    OrderProductFactory(order=first, product=rich, unit_price=Decimal("19.99"), quantity=3)
    OrderProductFactory(order=first, product=bare, unit_price=Decimal("5.00"))
    for _ in range(14):
        OrderFactory(ambassador=ambassador, id_order_external=None)
    return ambassador


@pytest.mark.parametrize(
    ("query", "data_size"),
    [
        ({}, 15),
        ({"per_page": "1"}, 1),  # first of 15 pages: "..." separators, prev null
        ({"per_page": "1", "page": "8"}, 1),  # the middle: two "..." separators
        ({"per_page": "1", "page": "15"}, 1),  # the last: next null
        ({"per_page": "4", "page": "99"}, 0),  # past the end: from/to null
    ],
)
def test_real_200_bodies_validate_against_the_schema(
    openapi, brand_client, ambassador_with_orders, query, data_size
):
    response = brand_client.get(ROUTE.format(id=ambassador_with_orders.pk), query)

    assert response.status_code == 200
    body = response.json()
    assert len(body["data"]) == data_size
    assert_valid(openapi, response_schema(openapi, 200), body)
    assert list(body) == list(page_schema(openapi)["properties"])


@pytest.mark.parametrize(
    "query",
    [
        {"cursor": ""},
        {"cursor": "", "per_page": "4", "sort": "total_amount"},  # a next cursor, no previous
        {"cursor": "not a cursor", "per_page": "100"},  # the first page, alone
    ],
)
def test_real_cursor_pages_validate_against_the_schema(
    openapi, brand_client, ambassador_with_orders, query
):
    url = ROUTE.format(id=ambassador_with_orders.pk)
    first = brand_client.get(url, query).json()
    pages = [first]
    if first["next_page_url"]:  # a middle page has both cursors
        pages.append(brand_client.get(first["next_page_url"]).json())

    for body in pages:
        assert_valid(openapi, response_schema(openapi, 200), body)
        assert list(body) == list(page_schema(openapi, cursor=True)["properties"])
        with pytest.raises(jsonschema.ValidationError):
            assert_valid(openapi, page_schema(openapi), body)  # not a length-aware page


def test_a_body_that_breaks_the_schema_is_caught(openapi, brand_client, ambassador_with_orders):
    body = brand_client.get(ROUTE.format(id=ambassador_with_orders.pk)).json()

    for mutate in (
        lambda b: b["data"][0].__setitem__("total_amount", "84.00"),  # a string number
        lambda b: b["data"][0]["buyer"].__setitem__("email", None),  # null where not nullable
        lambda b: b["data"][0].__setitem__("extra", 1),  # a key the page does not have
        lambda b: b["data"][0].__setitem__("date_order", "2025-05-04T09:42:00+00:00"),
        lambda b: b["data"][0]["products"][0]["images"][0].__setitem__("lang", "it_IT"),
        lambda b: b["links"][0].__setitem__("url", "/relative?page=1"),
    ):
        broken = copy.deepcopy(body)
        mutate(broken)
        with pytest.raises(jsonschema.ValidationError):
            assert_valid(openapi, response_schema(openapi, 200), broken)


# --- Every documented error, as the endpoint really answers it -----------------------------


def _examples(openapi: dict[str, Any], status: int) -> list[Any]:
    content = operation(openapi)["responses"][str(status)]["content"]["application/json"]
    return [example["value"] for example in content.get("examples", {}).values()]


def _unavailable(*args: Any, **kwargs: Any) -> Any:
    raise OperationalError("connection refused")


def _crash(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("a bug")


@pytest.mark.parametrize(
    ("status", "caller", "query"),
    [
        (400, "brand", {"sort": "price"}),
        (401, "anonymous", {}),
        (401, "expired", {}),
        (403, "guest", {}),
        (404, "other brand", {}),
        (422, "brand", {"per_page": "0"}),
        (429, "throttled", {}),
        (503, "database down", {}),
        (500, "crash", {}),
    ],
)
def test_error_bodies_match_their_documentation(
    openapi, settings, monkeypatch, ambassador, brand_token, status, caller, query
):
    # given
    token = {
        "brand": brand_token,
        "throttled": brand_token,
        "database down": brand_token,
        "crash": brand_token,
        "expired": ApiTokenFactory(brand=ambassador.brand, expired=True),
        "guest": ApiTokenFactory(guest=True),
        "other brand": ApiTokenFactory(),
        "anonymous": None,
    }[caller]
    client = APIClient(raise_request_exception=False)
    if token is not None:
        client.credentials(**bearer(token))
    if caller == "throttled":
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {"token": "1/minute"},
        }
        client.get(ROUTE.format(id=ambassador.pk))
    if caller == "database down":
        monkeypatch.setattr("orders.endpoints.select_ambassador_orders", _unavailable)
    if caller == "crash":
        monkeypatch.setattr("orders.endpoints.select_ambassador_orders", _crash)

    # when
    response = client.get(ROUTE.format(id=ambassador.pk), query)

    # then
    assert response.status_code == status
    body = response.json()
    assert_valid(openapi, response_schema(openapi, status), body)
    assert body in _examples(openapi, status)
    for header in operation(openapi)["responses"][str(status)].get("headers", {}):
        assert response.has_header(header), header
    if status == 401:
        assert response["WWW-Authenticate"] == "Bearer"


def test_every_documented_error_status_is_exercised(openapi):
    exercised = {
        marker.args[1][i][0]
        for marker in test_error_bodies_match_their_documentation.pytestmark
        if marker.name == "parametrize"
        for i in range(len(marker.args[1]))
    }

    assert {str(status) for status in exercised | {200}} == set(operation(openapi)["responses"])


def test_invalid_path_id_is_the_documented_404(openapi, brand_client):
    response = brand_client.get(ROUTE.format(id="abc"))

    assert response.status_code == 404
    assert response.json() in _examples(openapi, 404)


def test_online_window_in_the_description_matches_shape(openapi):
    buyer = openapi["components"]["schemas"]["Buyer"]["properties"]

    assert buyer["online"]["description"] == (
        f"true: when last_action_date is less than {ONLINE_WINDOW_SECONDS // 60} minutes ago"
    )
