"""Where rate-limit budgets are counted: the `limits` library's storage for `CACHE_URL`.

Redis when `CACHE_URL` names one (one budget for every worker and server), otherwise the
process's memory (development and tests only: production settings refuse it). Importable from
settings: nothing here reads Django settings at import.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast

# Imported here, whole, before any request: `limits` imports its storage's client lazily and
# reads its version from `sys.modules`, where a module another thread is still importing has
# no `__version__` yet (concurrent first requests failed with "minimum version of 3.0 for
# 'redis' could not be found. Found version: 0.0.0").
import redis  # noqa: F401
from django.conf import settings
from limits import RateLimitItem
from limits.errors import StorageError
from limits.storage import RedisStorage, Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

# A Redis that does not answer must not hold a request thread for long.
_REDIS_TIMEOUT_SECONDS = 1.0
_IN_PROCESS = "memory://"


def storage_url(cache_url: str) -> str:
    """The `limits` storage URI for a `CACHE_URL`: Redis as is, anything else in the process."""
    if cache_url.startswith(("redis://", "rediss://")):
        return cache_url
    if cache_url.startswith("unix://"):
        return "redis+" + cache_url
    return _IN_PROCESS


def uses_shared_storage(cache_url: str) -> bool:
    """Whether budgets kept for this `CACHE_URL` are shared by every process and server."""
    return storage_url(cache_url) != _IN_PROCESS


_creating = threading.Lock()


@lru_cache(maxsize=4)
def _new_limiter(url: str, key_prefix: str) -> FixedWindowRateLimiter:
    options: dict[str, Any] = {"wrap_exceptions": True}
    if url != _IN_PROCESS:
        options.update(
            key_prefix=key_prefix,
            socket_timeout=_REDIS_TIMEOUT_SECONDS,
            socket_connect_timeout=_REDIS_TIMEOUT_SECONDS,
        )
    return FixedWindowRateLimiter(storage_from_string(url, **options))


def _limiter(url: str, key_prefix: str) -> FixedWindowRateLimiter:
    # One limiter (one connection pool) per storage per process, even when the first requests
    # of a new worker arrive together.
    with _creating:
        return _new_limiter(url, key_prefix)


def limiter() -> FixedWindowRateLimiter:
    """This process's fixed-window limiter on the configured storage (one pool per process)."""
    return _limiter(storage_url(settings.CACHE_URL), settings.RATE_LIMIT_KEY_PREFIX)


def limiter_storage() -> Storage:
    """The storage behind `limiter()` (tests reset it between cases)."""
    return cast("Storage", limiter().storage)


@dataclass(frozen=True)
class Hit:
    """One request counted against a budget: whether it fits, and where the budget stands."""

    allowed: bool
    remaining: int
    reset_at: float  # Unix time the window ends


# `limits`' fixed window (its incr_expire.lua: INCRBY, EXPIRE on the window's first hit, the
# same key), returning the count and the window's TTL as well: `hit()` then
# `get_window_stats()` cost three round trips to Redis (EVALSHA, GET, TTL), this one.
_HIT_SCRIPT = b"""
local amount = tonumber(ARGV[2])
local current = redis.call("incrby", KEYS[1], amount)
if current == amount then
    redis.call("expire", KEYS[1], ARGV[1])
end
return {current, redis.call("ttl", KEYS[1])}
"""


@lru_cache(maxsize=4)
def _hit_script(storage: RedisStorage) -> Any:
    return storage.get_connection().register_script(_HIT_SCRIPT)


def hit(item: RateLimitItem, scope: str, ident: str) -> Hit:
    """Spend one request of `item`'s budget for (`scope`, `ident`) on the configured storage.

    Raises `limits.errors.StorageError` when the storage does not answer.
    """
    rate_limiter = limiter()
    storage = rate_limiter.storage
    if isinstance(storage, RedisStorage):
        key = storage.prefixed_key(item.key_for(scope, ident))
        try:
            current, ttl = _hit_script(storage)([key], [item.get_expiry(), 1])
        except storage.base_exceptions as exc:
            raise StorageError(exc) from exc
        return Hit(
            allowed=int(current) <= item.amount,
            remaining=max(0, item.amount - int(current)),
            reset_at=max(int(ttl), 0) + time.time(),
        )
    allowed = rate_limiter.hit(item, scope, ident)
    stats = rate_limiter.get_window_stats(item, scope, ident)
    return Hit(allowed=allowed, remaining=stats.remaining, reset_at=stats.reset_time)
