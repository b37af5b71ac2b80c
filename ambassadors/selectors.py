"""Reads for ambassadors and API tokens."""

from __future__ import annotations

from django.db import router

from ambassadors.models import ApiToken
from platform_api.compiled_sql import CompiledQuery

# Every authenticated request runs this: compiled once, not per request.
_TOKEN_BY_PREFIX = CompiledQuery(lambda prefix: ApiToken.objects.filter(prefix=prefix), prefix=str)


def token_by_prefix(prefix: str) -> ApiToken | None:
    """The token with this public prefix (unique), from the primary: revocation is immediate."""
    token: ApiToken | None = _TOKEN_BY_PREFIX.first(router.db_for_write(ApiToken), prefix=prefix)
    return token
