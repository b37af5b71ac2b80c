"""Where rate-limit budgets are counted: the `limits` library's storage for `CACHE_URL`.

Redis when `CACHE_URL` names one (one budget for every worker and server), otherwise the
process's memory (development and tests only: production settings refuse it). Importable from
settings: nothing here reads Django settings at import.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any, cast

# Imported here, whole, before any request: `limits` imports its storage's client lazily and
# reads its version from `sys.modules`, where a module another thread is still importing has
# no `__version__` yet (concurrent first requests failed with "minimum version of 3.0 for
# 'redis' could not be found. Found version: 0.0.0").
import redis  # noqa: F401
from django.conf import settings
from limits.storage import Storage, storage_from_string
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
