"""Rate limiting per token (per client address for calls without a valid token).

Budgets live in the default cache: local memory by default, Redis (`CACHE_URL`) to share one
budget between several app servers.
"""

from __future__ import annotations

from typing import Any, cast

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from platform_api.permissions import caller_token


class TokenRateThrottle(SimpleRateThrottle):
    scope = "token"

    def get_rate(self) -> str | None:
        # Read at call time (DRF reads it once at import), so settings overrides take effect.
        rates = cast(
            "dict[str, str | None]", settings.REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES", {})
        )
        return rates.get(self.scope)

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        token = caller_token(request)
        ident = f"token:{token.pk}" if token is not None else f"addr:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
