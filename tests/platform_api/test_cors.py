"""CORS as a default Laravel 12 application answers it (platform_api/cors.py)."""

from __future__ import annotations

import pytest
from django.test import Client

from platform_api.cors import has_cors_path

CORS_HEADERS = {
    "Access-Control-Allow-Origin",
    "Access-Control-Allow-Methods",
    "Access-Control-Allow-Headers",
    "Access-Control-Max-Age",
    "Vary",
}


def orders_path(ambassador) -> str:
    return f"/api/v2/platform/ambassadors/{ambassador.id_ambassador}/orders"


def preflight(client, path: str, **headers: str):
    return client.options(path, HTTP_ORIGIN="https://tools.example.com", **headers)


@pytest.mark.django_db
def test_a_page_carries_the_any_origin_header_whether_or_not_an_origin_was_sent(
    brand_client, ambassador
):
    path = orders_path(ambassador)
    plain = brand_client.get(path)
    from_a_page = brand_client.get(path, HTTP_ORIGIN="https://tools.example.com")
    for response in (plain, from_a_page):
        assert response.status_code == 200
        assert response["Access-Control-Allow-Origin"] == "*"
        # fruitcake adds nothing else to an actual request with the default configuration.
        assert CORS_HEADERS & set(response.headers) == {"Access-Control-Allow-Origin"}
    assert plain.content == from_a_page.content


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("get", "/api/v2/platform/ambassadors/1/orders", 401),  # no token
        ("get", "/api/v2/platform/nowhere", 404),
        ("post", "/api/v2/platform/ambassadors/1/orders", 405),
        ("head", "/api/v2/platform/ambassadors", 401),
    ],
)
def test_error_answers_on_the_api_carry_it_too(method, path, status):
    response = getattr(Client(), method)(path)
    assert response.status_code == status
    assert response["Access-Control-Allow-Origin"] == "*"


@pytest.mark.django_db
def test_a_preflight_is_answered_before_routing_authentication_and_the_rate_limit(
    django_assert_num_queries, brand_client, ambassador
):
    path = orders_path(ambassador)
    with django_assert_num_queries(0):
        response = preflight(
            Client(),
            path,
            HTTP_ACCESS_CONTROL_REQUEST_METHOD="get",
            HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization,x-request-id",
        )
    assert response.status_code == 204
    assert response.content == b""
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["Access-Control-Allow-Methods"] == "GET"  # strtoupper of the asked method
    assert response["Access-Control-Allow-Headers"] == "authorization,x-request-id"
    assert response["Access-Control-Max-Age"] == "0"
    assert response["Vary"] == "Access-Control-Request-Method, Access-Control-Request-Headers"
    assert response["Cache-Control"] == "no-cache, private"
    assert "Content-Type" not in response.headers
    assert "X-RateLimit-Limit" not in response.headers
    # It spent none of the budget: the next call's remaining count is the full one but one.
    page = brand_client.get(path)
    assert int(page["X-RateLimit-Remaining"]) == int(page["X-RateLimit-Limit"]) - 1


@pytest.mark.django_db
def test_a_preflight_without_asked_headers_echoes_an_empty_list_and_any_path_under_api():
    response = preflight(
        Client(), "/api/v2/platform/nowhere", HTTP_ACCESS_CONTROL_REQUEST_METHOD="DELETE"
    )
    assert response.status_code == 204
    assert response["Access-Control-Allow-Methods"] == "DELETE"
    assert response["Access-Control-Allow-Headers"] == ""


def test_strtoupper_changes_ascii_letters_only(db):
    response = preflight(
        Client(), "/api/v2/platform/ambassadors", HTTP_ACCESS_CONTROL_REQUEST_METHOD="g\xe9t"
    )
    assert response["Access-Control-Allow-Methods"] == "G\xe9T"


@pytest.mark.django_db
def test_an_options_request_that_is_no_preflight_is_still_the_contracts_405():
    response = Client().options(
        "/api/v2/platform/ambassadors/1/orders", HTTP_ORIGIN="https://tools.example.com"
    )
    assert response.status_code == 405
    assert response.json()["message"].startswith("The OPTIONS method is not supported")
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["Vary"] == "Access-Control-Request-Method"


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/healthz", "/api", "/api/"])
def test_paths_outside_api_slash_something_get_no_cors(path):
    client = Client()
    assert "Access-Control-Allow-Origin" not in client.get(path).headers
    answer = preflight(client, path, HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET")
    assert answer.status_code != 204
    assert "Access-Control-Allow-Origin" not in answer.headers


@pytest.mark.parametrize(
    "raw",
    [
        "/api/v2/platform/ambassadors/1/orders",
        "/api/v2/platform/ambassadors/1/orders/",
        "//api//x",
        "/api",
        "/api/",
        "/apix/y",
        "/API/v2",
        "/api%2Fx",  # decoded after the trim: "api/x"
        "/api/%0A",  # Laravel 12's Str::is matches newlines
        "/api/%FF",  # not UTF-8: preg_match's `u` fails, no match
        "/api/caf%C3%A9",
        "/sanctum/csrf-cookie",
        "/sanctum/csrf-cookie/x",
        "/",
        "",
    ],
)
def test_the_paths_are_matched_as_laravel_matches_them(php, rf, raw):
    request = rf.get("/")
    request.META["RAW_URI"] = raw or "/"
    assert has_cors_path(request) is php.ask("cors_path", raw or "/")
