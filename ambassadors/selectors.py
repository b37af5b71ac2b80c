"""Reads for ambassadors and API tokens."""

from __future__ import annotations

from django.db import router

from ambassadors.models import ApiToken
from platform_api.compiled_sql import CompiledQuery

# Every authenticated request runs this: compiled once, not per request.
_TOKEN_BY_PREFIX = CompiledQuery(lambda prefix: ApiToken.objects.filter(prefix=prefix), prefix=str)


def token_by_prefix(prefix: str) -> ApiToken | None:
    """The token with this public prefix (unique), from the primary: revocation is immediate."""
    alias = router.db_for_write(ApiToken)
    sql, params = _TOKEN_BY_PREFIX.bind(alias, prefix=prefix)
    # `.raw()` applies the fields' converters (SQLite hands dates back as text).
    return next(iter(ApiToken.objects.db_manager(alias).raw(sql, params)), None)
