"""The Bearer API's lean middleware path (platform_api/api_path.py): the same answers as the
full stack, byte for byte and header for header; the rest of the site keeps the full stack."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.test.client import ClientHandler

from platform_api.throttling_storage import limiter_storage
from tests.conftest import bearer
from tests.factories import AmbassadorFactory, ApiTokenFactory, OrderFactory

SHORTCUT = ("platform_api.api_path.ApiShortcut", "platform_api.api_path.ApiShortcutEnd")
# Computed from the clock at each answer: compared by presence only.
CLOCK_HEADERS = {"Retry-After", "X-RateLimit-Reset"}


def answer(response: Any) -> tuple[int, dict[str, str], bytes]:
    headers = {
        name: ("<clock>" if name in CLOCK_HEADERS else value)
        for name, value in response.headers.items()
    }
    return response.status_code, headers, response.content


@pytest.fixture
def calls(db):
    brand_token = ApiTokenFactory()
    ambassador: Any = AmbassadorFactory(brand=brand_token.brand)
    OrderFactory.create_batch(3, ambassador=ambassador)
    stranger: Any = AmbassadorFactory()
    guest = ApiTokenFactory(guest=True)
    own = f"/api/v2/platform/ambassadors/{ambassador.pk}/orders"
    request_id = {"HTTP_X_REQUEST_ID": "fixed-request-id"}
    return [
        ("get", own, {**bearer(brand_token), **request_id}),
        ("get", own + "?per_page=2&page=2&sort=-date_order", {**bearer(brand_token), **request_id}),
        ("head", own, {**bearer(brand_token), **request_id}),
        ("get", own, request_id),
        ("get", own, {"HTTP_AUTHORIZATION": "Bearer pat_wrong_0000", **request_id}),
        ("get", own, {**bearer(guest), **request_id}),
        (
            "get",
            f"/api/v2/platform/ambassadors/{stranger.pk}/orders",
            {**bearer(brand_token), **request_id},
        ),
        ("post", own, {**bearer(brand_token), **request_id}),
        ("get", own + "?filter[placed_between]=nonsense", {**bearer(brand_token), **request_id}),
        ("get", own + "/x", {**bearer(brand_token), **request_id}),
        ("get", "/api/v2/platform/ambassadors?per_page=5", {**bearer(brand_token), **request_id}),
        ("get", "/api/v2/platform/ambassadors", {**bearer(guest), **request_id}),
        # the brand token's 7th call (the budget below: 7 a minute), then 429s
        *[("get", own, {**bearer(brand_token), **request_id})] * 3,
    ]


def replay(calls: list[tuple[str, str, dict[str, str]]]) -> list[tuple[int, dict[str, str], bytes]]:
    limiter_storage().reset()
    client = Client()
    return [answer(getattr(client, method)(path, **extra)) for method, path, extra in calls]


def test_api_answers_are_the_full_stacks_byte_for_byte(calls, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"token": "7/minute", "address": "3/minute"},
    }
    lean = replay(calls)
    settings.MIDDLEWARE = [name for name in settings.MIDDLEWARE if name not in SHORTCUT]

    full = replay(calls)

    assert [status for status, _, _ in lean] == [
        200, 200, 200, 401, 401, 403, 404, 405, 422, 404, 200, 403, 200, 429, 429,
    ]  # fmt: skip
    for call, lean_answer, full_answer in zip(calls, lean, full, strict=True):
        assert lean_answer == full_answer, call
    assert all("Content-Length" in headers for _, headers, _ in lean)


def test_the_rest_of_the_site_keeps_the_full_stack(db):
    # The admin's login form: CSRF cookie (CsrfViewMiddleware) and no-cache (its views).
    response = Client().get("/admin/login/")

    assert response.status_code == 200
    assert "csrftoken" in response.cookies
    assert response["X-Frame-Options"] == "DENY"


def test_the_shortcut_needs_its_end(settings):
    settings.MIDDLEWARE = [name for name in settings.MIDDLEWARE if name != SHORTCUT[1]]

    with pytest.raises(ImproperlyConfigured, match="ApiShortcutEnd"):
        ClientHandler().load_middleware()
