"""The OpenAPI schema of the ambassador routes: paths under their published names, the body in
the published key order and types (walked from `shape.AMBASSADOR`), every status documented, and
real bodies valid against it."""

from __future__ import annotations

from typing import Any

import pytest
from drf_spectacular.generators import SchemaGenerator

from ambassadors.filters import AmbassadorFilterSet
from tests.ambassadors.test_api import PUBLISHED_KEYS
from tests.factories import AmbassadorFactory
from tests.orders.test_schema import assert_valid, resolve

LIST = "/api/v2/platform/ambassadors"
ONE = "/api/v2/platform/ambassadors/{id}"


@pytest.fixture(scope="module")
def openapi() -> dict[str, Any]:
    return SchemaGenerator().get_schema(request=None, public=True)


def body_schema(openapi: dict[str, Any], path: str, status: int = 200) -> dict[str, Any]:
    content = openapi["paths"][path]["get"]["responses"][str(status)]["content"]
    return resolve(openapi, content["application/json"]["schema"])


def test_both_routes_are_documented_under_their_published_paths(openapi):
    assert openapi["paths"][LIST]["get"]["operationId"] == "platform_ambassadors"
    one = openapi["paths"][ONE]["get"]
    assert one["operationId"] == "platform_ambassador"
    assert [(p["name"], p["in"]) for p in one["parameters"] if p["in"] == "path"] == [
        ("id", "path")
    ]


def test_the_ambassador_has_the_published_keys_types_and_order(openapi):
    ambassador = body_schema(openapi, ONE)

    assert list(ambassador["properties"]) == PUBLISHED_KEYS
    types = {key: value.get("type") for key, value in ambassador["properties"].items()}
    assert types == {
        **dict.fromkeys(PUBLISHED_KEYS, "string"),
        **dict.fromkeys(
            ["id_ambassador", "id_brand", "gamification_score", "active", "status"], "integer"
        ),
        "online": "boolean",
    }
    assert ambassador["properties"]["date_insert"]["format"] == "date-time"
    assert set(ambassador["required"]) == set(PUBLISHED_KEYS)


def test_list_items_are_the_ambassador(openapi):
    page = body_schema(openapi, LIST)

    assert resolve(openapi, page["properties"]["data"]["items"]) == body_schema(openapi, ONE)
    assert page["properties"]["total"]["type"] == "integer"


@pytest.mark.parametrize(
    ("path", "statuses"),
    [
        (LIST, {"200", "400", "401", "403", "422", "429", "500", "503"}),
        (ONE, {"200", "401", "403", "404", "429", "500", "503"}),
    ],
)
def test_every_status_is_documented(openapi, path, statuses):
    assert set(openapi["paths"][path]["get"]["responses"]) == statuses


def test_every_filter_is_documented(openapi):
    names = {p["name"] for p in openapi["paths"][LIST]["get"]["parameters"] if p["in"] == "query"}

    assert names == {"page", "per_page", "sort"} | {
        f"filter[{name}]" for name in AmbassadorFilterSet.base_filters
    }


def test_real_bodies_match_the_schema(openapi, brand_client, brand):
    referrer: Any = AmbassadorFactory(brand=brand)
    AmbassadorFactory.create_batch(3, brand=brand, referrer=referrer)

    page = brand_client.get(LIST, {"per_page": 2}).json()
    one = brand_client.get(f"{LIST}/{referrer.pk}").json()

    assert_valid(
        openapi,
        openapi["paths"][LIST]["get"]["responses"]["200"]["content"]["application/json"]["schema"],
        page,
    )
    assert_valid(
        openapi,
        openapi["paths"][ONE]["get"]["responses"]["200"]["content"]["application/json"]["schema"],
        one,
    )
