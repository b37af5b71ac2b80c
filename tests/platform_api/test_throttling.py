"""Rate limiting per token: 429 `{"message": ...}` with `Retry-After`, one budget per token,
kept in the default cache (local memory, or Redis shared by several app servers)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import urlsplit

import pytest
from django.core.cache.backends.redis import RedisCache

from platform_api.settings.base import cache_config
from platform_api.throttling import TokenRateThrottle
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


@pytest.fixture
def rate(settings):
    """A budget of 3 requests a minute per token."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"token": "3/minute"},
    }
    return 3


@pytest.fixture
def two_tokens(db):
    first = ApiTokenFactory()
    second = ApiTokenFactory(brand=first.brand)
    ambassador: Any = AmbassadorFactory(brand=first.brand)
    return first, second, f"/api/v2/platform/ambassadors/{ambassador.pk}/orders"


def assert_throttled(response) -> None:
    assert response.status_code == 429
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"message": "Too Many Attempts."}
    assert 1 <= int(response["Retry-After"]) <= 60


def test_budget_per_token_then_429_with_retry_after(client, rate, two_tokens):
    first, second, url = two_tokens

    statuses = [client.get(url, **bearer(first)).status_code for _ in range(rate)]
    refused = client.get(url, **bearer(first))

    assert statuses == [200] * rate
    assert_throttled(refused)
    # another token's budget is untouched
    assert client.get(url, **bearer(second)).status_code == 200


def test_budget_comes_back_after_the_window(client, rate, two_tokens):
    first, _, url = two_tokens
    now = [1_000_000.0]

    def clock(self) -> float:
        return now[0]

    with mock.patch.object(TokenRateThrottle, "timer", new=clock):
        for _ in range(rate):
            assert client.get(url, **bearer(first)).status_code == 200
        assert_throttled(client.get(url, **bearer(first)))
        now[0] += 61
        assert client.get(url, **bearer(first)).status_code == 200


def test_a_refused_request_costs_only_the_token_lookup(
    client, rate, two_tokens, django_assert_num_queries
):
    # The budget lives in the cache: the limiter itself never queries the database.
    first, _, url = two_tokens
    for _ in range(rate):
        client.get(url, **bearer(first))

    with django_assert_num_queries(1):
        response = client.get(url, **bearer(first))

    assert response.status_code == 429


def test_rate_is_read_from_the_environment():
    script = (
        "import django; django.setup()\n"
        "from django.conf import settings\n"
        "print(settings.REST_FRAMEWORK['DEFAULT_THROTTLE_RATES']['token'])\n"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "platform_api.settings.local",
        "RATE_LIMIT": "42/second",
    }
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", script],
        env=env,
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    assert result.stdout.strip() == "42/second"


# --- Redis: several app servers, one budget --------------------------------------------------


@pytest.fixture
def redis_servers():
    """Two "app servers": two Redis cache backends, each with its own connection pool.

    A key prefix unique to this test keeps concurrent test runs on the same Redis apart.
    """
    config = cache_config(REDIS_URL)
    assert config["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    options = {"KEY_PREFIX": f"test-throttle-{uuid.uuid4().hex}"}
    servers = [RedisCache(config["LOCATION"], options) for _ in range(2)]
    yield servers
    for server in servers:
        client = server._cache.get_client(write=True)
        for key in client.scan_iter(match=f"{options['KEY_PREFIX']}:*"):
            client.delete(key)


@needs_redis
def test_redis_servers_share_one_budget(client, rate, two_tokens, redis_servers):
    first, second, url = two_tokens
    server_a, server_b = redis_servers
    assert server_a._cache.get_client() is not server_b._cache.get_client()

    statuses = []
    for index in range(rate):
        # requests alternate between the two app servers
        with mock.patch.object(TokenRateThrottle, "cache", redis_servers[index % 2]):
            statuses.append(client.get(url, **bearer(first)).status_code)
    with mock.patch.object(TokenRateThrottle, "cache", server_b):
        refused_by_b = client.get(url, **bearer(first))
    with mock.patch.object(TokenRateThrottle, "cache", server_a):
        refused_by_a = client.get(url, **bearer(first))
        other_token = client.get(url, **bearer(second))

    assert statuses == [200] * rate
    assert_throttled(refused_by_b)
    assert_throttled(refused_by_a)
    assert other_token.status_code == 200


@needs_redis
def test_cache_url_selects_redis_for_the_limiter(client, rate, two_tokens, settings):
    # CACHE_URL=redis://... in the environment becomes this CACHES entry (settings/base.py).
    first, _, url = two_tokens
    prefix = f"test-throttle-{uuid.uuid4().hex}"
    settings.CACHES = {"default": {**cache_config(REDIS_URL), "KEY_PREFIX": prefix}}
    redis = RedisCache(REDIS_URL, {})._cache.get_client(write=True)

    try:
        for _ in range(rate):
            assert client.get(url, **bearer(first)).status_code == 200
        assert_throttled(client.get(url, **bearer(first)))
        # the budget really is in Redis, under the token's key
        keys = list(redis.scan_iter(match=f"{prefix}:*"))
        assert len(keys) == 1
        assert f"token:{first.pk}" in keys[0].decode()
    finally:
        # never FLUSHDB: other test runs may share this Redis
        for key in redis.scan_iter(match=f"{prefix}:*"):
            redis.delete(key)
