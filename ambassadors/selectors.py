"""Reads for ambassadors and API tokens, and the one rule of who may see which ambassador."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import router
from django.db.models import QuerySet

from ambassadors.models import Ambassador, ApiToken
from platform_api.compiled_sql import CompiledQuery

AMBASSADOR_NOT_FOUND = "The ambassador does not exist."

# Every authenticated request runs this: compiled once, not per request.
_TOKEN_BY_PREFIX = CompiledQuery(lambda prefix: ApiToken.objects.filter(prefix=prefix), prefix=str)


def token_by_prefix(prefix: str) -> ApiToken | None:
    """The token with this public prefix (unique), from the primary: revocation is immediate."""
    token: ApiToken | None = _TOKEN_BY_PREFIX.first(router.db_for_write(ApiToken), prefix=prefix)
    return token


@dataclass(frozen=True)
class Audience:
    """Which ambassadors a caller may see: a brand token its brand's, an ambassador token
    itself, a guest token none. Plain values, so that compiled queries take it as parameters."""

    brand_id: int | None = None
    ambassador_id: int | None = None
    nobody: bool = False


def audience_of(token: ApiToken) -> Audience:
    """The ambassadors `token` may see."""
    if token.kind == ApiToken.Kind.BRAND:
        return Audience(brand_id=token.brand_id)
    if token.kind == ApiToken.Kind.AMBASSADOR:
        return Audience(ambassador_id=token.ambassador_id)
    return Audience(nobody=True)


def visible_ambassadors(*, audience: Audience) -> QuerySet[Ambassador]:
    """The ambassadors `audience` may see, unordered: every route that reads an ambassador, or
    what belongs to one, narrows this queryset."""
    if audience.nobody:
        # Guests are refused (403) before any query; this is the rule, not a path taken.
        return Ambassador.objects.none()
    ambassadors = Ambassador.objects.order_by()
    if audience.brand_id is not None:
        ambassadors = ambassadors.filter(brand_id=audience.brand_id)
    if audience.ambassador_id is not None:
        ambassadors = ambassadors.filter(pk=audience.ambassador_id)
    return ambassadors
