"""The negative matrix, for every route declared in tests/platform_routes.py.

Order of checks (contract): 405 (the method, before anything), 401 (who are you), 403 (may your
kind of token ask this), 404 (does the ambassador exist for you), then 400/422 (the query).
"""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from ambassadors.models import Ambassador
from tests.conftest import bearer
from tests.factories import AmbassadorFactory, ApiTokenFactory, BrandFactory
from tests.platform_routes import ROUTES, PlatformRoute

UNAUTHORIZED = {"message": "Unauthorized."}
FORBIDDEN = {"message": "You don't have permission to access this route."}
NOT_FOUND = {"message": "The ambassador does not exist."}

ID_ROUTES = [route for route in ROUTES if route.has_id]
BRAND_ROUTES = [route for route in ROUTES if not route.has_id]
QUERY_ROUTES = [route for route in ROUTES if route.bad_query is not None]


def _ids(routes: list[PlatformRoute]) -> list[str]:
    return [route.name for route in routes]


@pytest.fixture
def world(db) -> dict[str, Any]:
    """Two brands, two ambassadors of the first, one of the other, a token of every kind."""
    brand, other_brand = BrandFactory(), BrandFactory()
    own: Any = AmbassadorFactory(brand=brand)
    colleague: Any = AmbassadorFactory(brand=brand)
    foreign: Any = AmbassadorFactory(brand=other_brand)
    return {
        "own": own.pk,
        "colleague": colleague.pk,
        "foreign": foreign.pk,
        "missing": Ambassador.objects.order_by("-pk").values_list("pk", flat=True)[0] + 1000,
        "brand": ApiTokenFactory(brand=brand),
        "ambassador": ApiTokenFactory(for_ambassador=True, ambassador=own),
        "guest": ApiTokenFactory(guest=True),
        "expired": ApiTokenFactory(brand=brand, expired=True),
        "revoked": ApiTokenFactory(brand=brand, revoked=True),
    }


def _get(world: dict[str, Any], route: PlatformRoute, token: str | None, target: str = "own"):
    client = APIClient()
    if token is not None:
        client.credentials(**bearer(world[token]))
    return client.get(route.url(world[target]) if route.has_id else route.url())


def _assert_json(response, status: int, body: dict[str, Any] | None = None) -> None:
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    if body is not None:
        assert response.json() == body


@pytest.mark.parametrize("route", ROUTES, ids=_ids(ROUTES))
@pytest.mark.parametrize("token", [None, "expired", "revoked"])
def test_without_a_usable_token_401_with_www_authenticate(world, route, token):
    response = _get(world, route, token)

    _assert_json(response, 401, UNAUTHORIZED)
    assert response["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("route", ROUTES, ids=_ids(ROUTES))
def test_guest_tokens_403(world, route):
    _assert_json(_get(world, route, "guest"), 403, FORBIDDEN)


@pytest.mark.parametrize("route", BRAND_ROUTES, ids=_ids(BRAND_ROUTES))
def test_ambassador_tokens_403_on_a_brands_routes(world, route):
    _assert_json(_get(world, route, "ambassador"), 403, FORBIDDEN)


@pytest.mark.parametrize("route", ID_ROUTES, ids=_ids(ID_ROUTES))
@pytest.mark.parametrize("target", ["colleague", "foreign", "missing"])
def test_ambassador_tokens_403_for_another_id_before_any_lookup(world, route, target):
    _assert_json(_get(world, route, "ambassador", target), 403, FORBIDDEN)


@pytest.mark.parametrize("route", ID_ROUTES, ids=_ids(ID_ROUTES))
@pytest.mark.parametrize(("token", "target"), [("brand", "own"), ("ambassador", "own")])
def test_allowed_callers_200(world, route, token, target):
    _assert_json(_get(world, route, token, target), 200)


@pytest.mark.parametrize("route", ID_ROUTES, ids=_ids(ID_ROUTES))
@pytest.mark.parametrize("target", ["foreign", "missing"])
def test_another_brands_or_an_unknown_ambassador_404(world, route, target):
    _assert_json(_get(world, route, "brand", target), 404, NOT_FOUND)


@pytest.mark.parametrize("route", ID_ROUTES, ids=_ids(ID_ROUTES))
@pytest.mark.parametrize("raw_id", ["0", "-1", "abc", "1.5", "%D9%A3", "9223372036854775808"])
def test_ids_that_name_nothing_404_not_500(world, route, raw_id):
    client = APIClient()
    client.credentials(**bearer(world["brand"]))

    _assert_json(client.get(route.url(raw_id)), 404, NOT_FOUND)


@pytest.mark.parametrize("route", ROUTES, ids=_ids(ROUTES))
@pytest.mark.parametrize("method", ["post", "put", "patch", "delete", "options"])
@pytest.mark.parametrize("authenticated", [True, False])
def test_other_methods_405_before_401(world, route, method, authenticated):
    client = APIClient()
    if authenticated:
        client.credentials(**bearer(world["brand"]))
    url = route.url(world["own"]) if route.has_id else route.url()

    response = getattr(client, method)(url)

    _assert_json(response, 405)
    assert set(response.json()) == {"message"}


@pytest.mark.parametrize("route", ROUTES, ids=_ids(ROUTES))
@pytest.mark.parametrize("slashes", ["/", "///"])
def test_trailing_slashes_are_the_same_route_as_laravels_router_matches(world, route, slashes):
    # UriValidator: rtrim($request->getPathInfo(), '/'); page URLs are url(), trimmed too.
    client = APIClient()
    client.credentials(**bearer(world["brand"]))
    url = route.url(world["own"]) if route.has_id else route.url()

    response = client.get(url + slashes + "?per_page=1")

    _assert_json(response, 200)
    assert response.content == client.get(url + "?per_page=1").content
    for method in ("post", "delete"):
        refused = getattr(client, method)(url + slashes)
        _assert_json(refused, 405)
        assert f"route {url.lstrip('/')}. Supported" in refused.json()["message"]


@pytest.mark.parametrize("route", ROUTES, ids=_ids(ROUTES))
def test_an_encoded_trailing_slash_names_no_route(world, route):
    # Laravel trims the slashes the client wrote, then decodes: `%2F` stays a slash.
    client = APIClient()
    client.credentials(**bearer(world["brand"]))
    url = route.url(world["own"]) if route.has_id else route.url()

    response = client.get(url + "/", RAW_URI=url + "%2F/")

    _assert_json(response, 404)
    assert response.json() == {"message": f"The route {url.lstrip('/')}%2F could not be found."}


@pytest.mark.parametrize("route", ROUTES, ids=_ids(ROUTES))
def test_answers_carry_laravels_headers_not_drfs(world, route):
    # Symfony writes `Cache-Control: no-cache, private` on every answer; `Allow` comes with a
    # 405 only (DRF wrote it on every answer).
    url = route.url(world["own"]) if route.has_id else route.url()
    brand = APIClient()
    brand.credentials(**bearer(world["brand"]))
    answers = [
        brand.get(url),
        APIClient().get(url),
        _get(world, route, "guest"),
        brand.get(url + "?per_page=0"),
        brand.get(route.url("x") + "/nothing"),
    ]
    if route.has_id:
        answers.append(_get(world, route, "brand", "missing"))

    for response in answers:
        assert response["Cache-Control"] == "no-cache, private", response.status_code
        assert "Allow" not in response, response.status_code
    refused = brand.post(url)
    assert refused.status_code == 405
    assert refused["Cache-Control"] == "no-cache, private"
    assert refused["Allow"] == "GET, HEAD"


@pytest.mark.parametrize("route", ROUTES, ids=_ids(ROUTES))
def test_head_answers_like_get_without_a_body(world, route):
    client = APIClient()
    client.credentials(**bearer(world["brand"]))

    response = client.head(route.url(world["own"]) if route.has_id else route.url())

    assert response.status_code == 200
    assert response.content == b""


@pytest.mark.parametrize("route", ROUTES, ids=_ids(ROUTES))
@pytest.mark.parametrize("accept", ["application/xml", "text/html", "*/*"])
def test_json_whatever_accept_says(world, route, accept):
    client = APIClient()
    client.credentials(**bearer(world["brand"]))

    response = client.get(
        (route.url(world["own"]) if route.has_id else route.url()) + "?format=xml",
        HTTP_ACCEPT=accept,
    )

    _assert_json(response, 200)


@pytest.mark.parametrize("route", QUERY_ROUTES, ids=_ids(QUERY_ROUTES))
def test_unknown_filter_or_sort_400(world, route):
    client = APIClient()
    client.credentials(**bearer(world["brand"]))
    url = route.url(world["own"]) if route.has_id else route.url()

    response = client.get(f"{url}?{route.bad_query}")

    _assert_json(response, 400)
    assert set(response.json()) == {"message"}
    assert (
        "is not allowed" in response.json()["message"]
        or "are not allowed" in (response.json()["message"])
    )


@pytest.mark.parametrize("route", QUERY_ROUTES, ids=_ids(QUERY_ROUTES))
@pytest.mark.parametrize("query", ["per_page=0", "per_page=abc", "INVALID"])
def test_malformed_values_422_in_laravels_shape(world, route, query):
    client = APIClient()
    client.credentials(**bearer(world["brand"]))
    url = route.url(world["own"]) if route.has_id else route.url()
    query = route.invalid_query if query == "INVALID" else query
    key = route.invalid_key if query == route.invalid_query else "per_page"

    response = client.get(f"{url}?{query}")

    _assert_json(response, 422)
    body = response.json()
    assert list(body) == ["message", "errors"]
    assert list(body["errors"]) == [key]
    assert body["message"] == body["errors"][key][0]


QUERY_ID_ROUTES = [route for route in QUERY_ROUTES if route.has_id]


@pytest.mark.parametrize("route", QUERY_ID_ROUTES, ids=_ids(QUERY_ID_ROUTES))
@pytest.mark.parametrize("target", ["foreign", "missing"])
def test_404_comes_before_400_and_422(world, route, target):
    client = APIClient()
    client.credentials(**bearer(world["brand"]))

    for query in (route.bad_query, route.invalid_query, "per_page=0"):
        _assert_json(client.get(f"{route.url(world[target])}?{query}"), 404, NOT_FOUND)


@pytest.mark.parametrize("route", ROUTES, ids=_ids(ROUTES))
def test_rate_limited_per_token_429_with_retry_after(world, settings, route):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"token": "1/minute"},
    }

    first = _get(world, route, "brand")
    second = _get(world, route, "brand")

    assert first.status_code == 200
    _assert_json(second, 429, {"message": "Too Many Attempts."})
    assert int(second["Retry-After"]) > 0
