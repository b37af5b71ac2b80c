"""Rate limiting as Laravel's ThrottleRequests: a budget per token, a budget per client address
for calls without a valid token, `X-RateLimit-*` on every answer, 429 with `Retry-After` and
`X-RateLimit-Reset`; counted atomically in Redis so that workers and servers share one budget."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from unittest import mock
from urllib.parse import urlsplit

import pytest
from django.urls import URLResolver, get_resolver
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter

from platform_api.throttling import RateLimitedViewMixin
from platform_api.throttling_storage import (
    _new_limiter,
    hit,
    limiter,
    storage_url,
    uses_shared_storage,
)
from tests.conftest import bearer
from tests.factories import AmbassadorFactory, ApiTokenFactory

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def redis_reachable() -> bool:
    parts = urlsplit(REDIS_URL)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), 0.5):
            return True
    except OSError:
        return False


needs_redis = pytest.mark.skipif(
    not redis_reachable(), reason=f"Redis is not reachable at {REDIS_URL} (set TEST_REDIS_URL)"
)


def set_rates(settings, **rates: str | None) -> None:
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}


@pytest.fixture
def rate(settings):
    """A budget of 3 requests a minute per token, and per address."""
    set_rates(settings, token="3/minute", address="3/minute")
    return 3


@pytest.fixture
def two_tokens(db):
    first = ApiTokenFactory()
    second = ApiTokenFactory(brand=first.brand)
    ambassador: Any = AmbassadorFactory(brand=first.brand)
    return first, second, f"/api/v2/platform/ambassadors/{ambassador.pk}/orders"


def assert_throttled(response, *, limit: int) -> None:
    assert response.status_code == 429
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"message": "Too Many Attempts."}
    assert 1 <= int(response["Retry-After"]) <= 60
    assert response["X-RateLimit-Limit"] == str(limit)
    assert response["X-RateLimit-Remaining"] == "0"
    reset = int(response["X-RateLimit-Reset"])
    assert time.time() < reset <= time.time() + 61


def test_budget_per_token_then_429(client, rate, two_tokens):
    first, second, url = two_tokens

    answers = [client.get(url, **bearer(first)) for _ in range(rate)]
    refused = client.get(url, **bearer(first))

    assert [r.status_code for r in answers] == [200] * rate
    assert [r["X-RateLimit-Remaining"] for r in answers] == ["2", "1", "0"]
    assert {r["X-RateLimit-Limit"] for r in answers} == {"3"}
    assert all("X-RateLimit-Reset" not in r and "Retry-After" not in r for r in answers)
    assert_throttled(refused, limit=rate)
    # another token's budget is untouched
    assert client.get(url, **bearer(second))["X-RateLimit-Remaining"] == "2"


@pytest.mark.parametrize(
    "credentials",
    [{}, {"HTTP_AUTHORIZATION": "Bearer pat_wrong_0000"}, {"HTTP_AUTHORIZATION": "Basic eDp5"}],
    ids=["no token", "wrong token", "another scheme"],
)
def test_calls_without_a_valid_token_spend_the_address_budget(
    client, rate, two_tokens, credentials
):
    first, _, url = two_tokens

    answers = [client.get(url, **credentials) for _ in range(rate)]
    refused = client.get(url, **credentials)

    assert [r.status_code for r in answers] == [401] * rate
    assert [r["X-RateLimit-Remaining"] for r in answers] == ["2", "1", "0"]
    assert_throttled(refused, limit=rate)
    # a valid token from the same address has its own budget
    assert client.get(url, **bearer(first)).status_code == 200


def test_the_address_budget_is_its_own_setting(client, settings, two_tokens):
    first, _, url = two_tokens
    set_rates(settings, token="5/minute", address="1/minute")

    assert client.get(url)["X-RateLimit-Limit"] == "1"
    assert client.get(url).status_code == 429
    assert client.get(url, **bearer(first))["X-RateLimit-Limit"] == "5"


def test_a_scope_without_a_rate_is_not_limited(client, settings, two_tokens):
    first, _, url = two_tokens
    set_rates(settings, token=None, address="1/minute")

    statuses = [client.get(url, **bearer(first)).status_code for _ in range(3)]

    assert statuses == [200] * 3
    assert "X-RateLimit-Limit" not in client.get(url, **bearer(first))


def test_a_spoofed_forwarded_for_is_not_a_new_address(client, rate, two_tokens, settings):
    _, _, url = two_tokens
    settings.TRUSTED_PROXIES = []

    for index in range(rate):
        client.get(url, HTTP_X_FORWARDED_FOR=f"203.0.113.{index}")

    assert client.get(url, HTTP_X_FORWARDED_FOR="198.51.100.7").status_code == 429


def test_a_trusted_proxy_names_the_address(client, rate, two_tokens, settings):
    # The test client's peer address is 127.0.0.1: here, the proxy.
    _, _, url = two_tokens
    settings.TRUSTED_PROXIES = ["127.0.0.1"]

    for _ in range(rate):
        client.get(url, HTTP_X_FORWARDED_FOR="203.0.113.1")

    assert client.get(url, HTTP_X_FORWARDED_FOR="203.0.113.1").status_code == 429
    assert client.get(url, HTTP_X_FORWARDED_FOR="203.0.113.2").status_code == 401


def test_budget_comes_back_after_the_window(client, rate, two_tokens):
    first, _, url = two_tokens
    now = [1_000_000.0]
    clock = SimpleNamespace(time=lambda: now[0])

    with (
        mock.patch("limits.storage.memory.time", clock),
        mock.patch("platform_api.throttling.time", clock),
    ):
        for _ in range(rate):
            assert client.get(url, **bearer(first)).status_code == 200
        refused = client.get(url, **bearer(first))
        now[0] += 61
        again = client.get(url, **bearer(first))

    assert refused.status_code == 429
    assert refused["X-RateLimit-Reset"] == str(1_000_060)
    assert refused["Retry-After"] == "60"
    assert (again.status_code, again["X-RateLimit-Remaining"]) == (200, "2")


def test_a_refused_request_costs_only_the_token_lookup(
    client, rate, two_tokens, django_assert_num_queries
):
    # The budget lives in the limiter's storage: the limiter itself never queries the database.
    first, _, url = two_tokens
    for _ in range(rate):
        client.get(url, **bearer(first))

    with django_assert_num_queries(1):
        response = client.get(url, **bearer(first))

    assert response.status_code == 429


def test_a_guessed_token_over_budget_costs_no_more_than_its_lookup(
    client, rate, two_tokens, django_assert_num_queries
):
    first, _, url = two_tokens
    guess = {
        "HTTP_AUTHORIZATION": f"Bearer {first.secret[:-1]}{'A' if first.secret[-1] != 'A' else 'B'}"
    }
    for _ in range(rate):
        assert client.get(url, **guess).status_code == 401

    with django_assert_num_queries(1):  # the guess's token lookup; nothing else runs
        response = client.get(url, **guess)

    assert response.status_code == 429


@pytest.mark.parametrize(
    ("cache_url", "expected"),
    [
        ("redis://cache:6379/1", "redis://cache:6379/1"),
        ("rediss://cache:6380/0", "rediss://cache:6380/0"),
        ("unix:///run/redis.sock", "redis+unix:///run/redis.sock"),
        ("locmem://", "memory://"),
        ("dummy://", "memory://"),
    ],
)
def test_cache_url_selects_the_budget_storage(cache_url, expected):
    assert storage_url(cache_url) == expected
    assert uses_shared_storage(cache_url) is expected.startswith(("redis", "rediss"))


def _settings_value(expression: str, **env: str) -> subprocess.CompletedProcess[str]:
    script = (
        f"import django; django.setup()\nfrom django.conf import settings\nprint({expression})\n"
    )
    return subprocess.run(  # noqa: S603
        [sys.executable, "-c", script],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "platform_api.settings.local", **env},
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_rates_are_read_from_the_environment():
    result = _settings_value(
        "settings.REST_FRAMEWORK['DEFAULT_THROTTLE_RATES']",
        RATE_LIMIT="42/second",
        RATE_LIMIT_ADDRESS="off",
    )

    assert result.stdout.strip() == "{'token': '42/second', 'address': None}", result.stderr


def test_a_malformed_rate_stops_the_service():
    result = _settings_value("1", RATE_LIMIT="600 a minute")

    assert result.returncode != 0
    assert "RATE_LIMIT must look like 600/minute" in result.stderr


# --- Redis: several workers and servers, one budget ------------------------------------------


@pytest.fixture
def redis_prefix():
    """A key prefix unique to this test: concurrent runs on one Redis stay apart, and cleanup
    deletes only this test's keys (never FLUSHDB)."""
    prefix = f"test-throttle-{uuid.uuid4().hex}"
    yield prefix
    storage: Any = storage_from_string(REDIS_URL, key_prefix=prefix)
    storage.reset()  # deletes the keys under this prefix only


@needs_redis
def test_concurrent_requests_never_overspend_a_redis_budget(redis_prefix):
    # Two "servers" (each its own connection pool) and 16 threads race for a budget of 50.
    servers = [
        FixedWindowRateLimiter(storage_from_string(REDIS_URL, key_prefix=redis_prefix))
        for _ in range(2)
    ]
    item = parse("50/minute")

    def attempt(index: int) -> bool:
        return servers[index % 2].hit(item, "token", "1")

    with ThreadPoolExecutor(max_workers=16) as pool:
        allowed = sum(pool.map(attempt, range(400)))

    assert allowed == 50


@needs_redis
def test_cache_url_puts_the_budgets_in_redis(client, rate, two_tokens, settings, redis_prefix):
    first, _, url = two_tokens
    settings.CACHE_URL = REDIS_URL
    settings.RATE_LIMIT_KEY_PREFIX = redis_prefix
    redis: Any = storage_from_string(REDIS_URL, key_prefix=redis_prefix)

    for _ in range(rate):
        assert client.get(url, **bearer(first)).status_code == 200
    assert_throttled(client.get(url, **bearer(first)), limit=rate)

    # the budget really is in Redis, under the token's key
    keys = [key.decode() for key in redis.get_connection().scan_iter(match=f"{redis_prefix}:*")]
    assert len(keys) == 1
    assert f"token/{first.pk}" in keys[0]


@pytest.fixture
def redis_budgets(settings, redis_prefix):
    """The service's budgets in Redis, under this test's key prefix."""
    settings.CACHE_URL = REDIS_URL
    settings.RATE_LIMIT_KEY_PREFIX = redis_prefix
    _new_limiter.cache_clear()
    yield
    _new_limiter.cache_clear()


@needs_redis
def test_a_request_costs_one_round_trip_to_redis(client, rate, two_tokens, redis_budgets):
    first, _, url = two_tokens
    client.get(url, **bearer(first))  # the first call also loads the script into Redis
    redis = limiter().storage.get_connection()

    with mock.patch.object(redis, "execute_command", wraps=redis.execute_command) as sent:
        response = client.get(url, **bearer(first))

    assert sent.call_count == 1
    assert sent.call_args.args[0] == "EVALSHA"
    assert response["X-RateLimit-Remaining"] == str(rate - 2)


@needs_redis
def test_one_round_trip_counts_in_the_limits_librarys_own_window(redis_budgets, redis_prefix):
    # The same key and window as `limits`' FixedWindowRateLimiter, so a budget spent by one
    # (an older server during a rolling deploy) is the other's.
    item = parse("5/minute")
    library = FixedWindowRateLimiter(storage_from_string(REDIS_URL, key_prefix=redis_prefix))
    assert library.hit(item, "token", "7")

    counted = [hit(item, "token", "7") for _ in range(5)]

    assert [c.remaining for c in counted] == [3, 2, 1, 0, 0]
    assert [c.allowed for c in counted] == [True] * 4 + [False]
    assert library.get_window_stats(item, "token", "7").remaining == 0
    assert time.time() + 58 <= counted[-1].reset_at <= time.time() + 61
    assert not library.test(item, "token", "7")


@needs_redis
def test_concurrent_hits_never_overspend_the_services_redis_budget(redis_budgets):
    item = parse("50/minute")

    with ThreadPoolExecutor(max_workers=16) as pool:
        counted = list(pool.map(lambda _: hit(item, "token", "1"), range(400)))

    assert sum(c.allowed for c in counted) == 50
    assert sorted(c.remaining for c in counted if c.allowed) == list(range(50))


def test_an_unreachable_budget_store_answers_503(client, rate, two_tokens, settings):
    first, _, url = two_tokens
    # Nothing listens on port 1: the connection is refused at once.
    settings.CACHE_URL = "redis://127.0.0.1:1/0"
    _new_limiter.cache_clear()

    response = client.get(url, **bearer(first))

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json() == {
        "message": "The service is temporarily unavailable. Please retry shortly."
    }


def _platform_views(patterns, prefix: str = "") -> list[tuple[str, type]]:
    found = []
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            found += _platform_views(pattern.url_patterns, route)
        elif route.startswith("api/v2/platform/"):
            found.append((route, pattern.callback.cls))
    return found


def test_every_platform_route_is_rate_limited_from_one_place():
    views = _platform_views(get_resolver().url_patterns)

    assert views, "no platform route found"
    for route, view in views:
        assert issubclass(view, RateLimitedViewMixin), route
