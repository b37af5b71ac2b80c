"""Rate limiting as Laravel's `ThrottleRequests`: one budget per token, one per client address
for calls without a valid token (failed authentication included), in fixed windows that start
with a budget's first request.

Counting is the `limits` library's fixed window: one atomic `INCRBY` + `EXPIRE` script per
request in Redis (one round trip, which also answers the count and the window's end:
throttling_storage.hit), so every worker and server spends the same budget and concurrency
cannot overspend it. Without
Redis (development, tests) the budget lives in the process. Every answer of a rate-limited view
carries `X-RateLimit-Limit` and `X-RateLimit-Remaining`; a refusal also `Retry-After` and
`X-RateLimit-Reset`.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast

from django.conf import settings
from django.http import HttpRequest
from limits import RateLimitItem, parse
from limits.errors import StorageError
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle

from platform_api.client_address import client_address
from platform_api.permissions import caller_token
from platform_api.throttling_storage import hit

logger = logging.getLogger("platform_api.throttling")

TOKEN_SCOPE = "token"  # noqa: S105 (a budget's name, not a secret)
ADDRESS_SCOPE = "address"
_STATE_ATTRIBUTE = "platform_api_rate_limit"


class RateLimiterUnavailable(exceptions.APIException):
    """The budget store (Redis) does not answer: refuse rather than serve without limits, as a
    database outage is answered (503, `Retry-After`)."""

    status_code = 503
    # errors.UNAVAILABLE_MESSAGE and _RETRY_AFTER (errors.py cannot be imported from here: DRF's
    # settings import this module while errors.py is still loading).
    default_detail = "The service is temporarily unavailable. Please retry shortly."
    # DRF's exception handler turns `wait` into the Retry-After header.
    wait = 5


@dataclass(frozen=True)
class BudgetState:
    """Where a caller's budget stands after this request."""

    limit: int
    remaining: int
    reset_at: float  # Unix time the window ends

    def headers(self, *, refused: bool) -> dict[str, str]:
        headers = {"X-RateLimit-Limit": str(self.limit)}
        headers["X-RateLimit-Remaining"] = str(0 if refused else self.remaining)
        if refused:
            headers["Retry-After"] = str(self.retry_after())
            headers["X-RateLimit-Reset"] = str(math.ceil(self.reset_at))
        return headers

    def retry_after(self) -> int:
        return max(1, math.ceil(self.reset_at - time.time()))


@lru_cache(maxsize=16)
def _parsed(rate: str) -> RateLimitItem:
    return parse(rate)


def scope_rate(scope: str) -> RateLimitItem | None:
    """The budget of a scope, read at call time so that settings overrides apply; None: no
    limit (DRF's convention for a scope without a rate)."""
    rates = cast("dict[str, str | None]", settings.REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES", {}))
    rate = rates.get(scope)
    return _parsed(rate) if rate else None


def budget_state(request: HttpRequest) -> BudgetState | None:
    """The budget this request was counted against, if any."""
    return cast("BudgetState | None", getattr(request, _STATE_ATTRIBUTE, None))


class PlatformRateThrottle(BaseThrottle):
    """DRF throttle: the token's budget, or the client address's without a valid token."""

    def __init__(self) -> None:
        self._wait: float | None = None

    def allow_request(self, request: Request, view: Any) -> bool:
        token = caller_token(request)
        if token is not None:
            scope, ident = TOKEN_SCOPE, str(token.pk)
        else:
            scope, ident = ADDRESS_SCOPE, client_address(request._request)
        item = scope_rate(scope)
        if item is None:
            return True
        try:
            counted = hit(item, scope, ident)
        except StorageError as exc:
            logger.error("rate-limit storage unavailable: %s", type(exc.storage_error).__name__)
            raise RateLimiterUnavailable() from exc
        state = BudgetState(
            limit=item.amount, remaining=counted.remaining, reset_at=counted.reset_at
        )
        setattr(request._request, _STATE_ATTRIBUTE, state)
        if not counted.allowed:
            self._wait = state.retry_after()
        return counted.allowed

    def wait(self) -> float | None:
        return self._wait


class RateLimitedViewMixin:
    """For DRF views: the budget is spent before authentication can fail or permission be
    refused (so guessing tokens costs budget), once per request, and every answer says where
    the budget stands."""

    def perform_authentication(self, request: Request) -> None:
        try:
            super().perform_authentication(request)  # type: ignore[misc]
        except exceptions.APIException:
            # DRF has already marked the request anonymous: the address's budget pays.
            self.check_throttles(request)
            raise

    def check_permissions(self, request: Request) -> None:
        self.check_throttles(request)
        super().check_permissions(request)  # type: ignore[misc]

    def check_throttles(self, request: Request) -> None:
        if getattr(request, "_platform_api_throttled", False):
            return
        request._platform_api_throttled = True  # type: ignore[attr-defined]
        super().check_throttles(request)  # type: ignore[misc]

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        state = budget_state(request._request)
        if state is not None:
            refused = response.status_code == 429
            for name, value in state.headers(refused=refused).items():
                response[name] = value
        return response
