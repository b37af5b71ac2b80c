"""Reads for ambassadors and API tokens, and the one rule of who may see which ambassador."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import router
from django.db.models import Q, QuerySet

from ambassadors.filters import AmbassadorFilterSet
from ambassadors.models import Ambassador, ApiToken, Brand
from platform_api.compiled_sql import CompiledQuery
from platform_api.filters import apply_filters, cleaned_filters
from platform_api.ids import parse_id

AMBASSADOR_NOT_FOUND = "The ambassador does not exist."

# Every authenticated request runs this: compiled once, not per request.
_TOKEN_BY_PREFIX = CompiledQuery(lambda prefix: ApiToken.objects.filter(prefix=prefix), prefix=str)


def token_by_prefix(prefix: str) -> ApiToken | None:
    """The token with this public prefix (unique), from the primary: revocation is immediate."""
    token: ApiToken | None = _TOKEN_BY_PREFIX.first(router.db_for_write(ApiToken), prefix=prefix)
    return token


def people_matching(term: str) -> QuerySet[Ambassador]:
    """Ambassadors an admin's search term designates: a number is an id or a customer id;
    otherwise a customer id, an email or the start of one (case-insensitive), or every word
    in the first, last or user name ("Olga Smith"). Newest first."""
    term = term.strip()
    matches = Q(customer_id=term)
    number = parse_id(term)
    if number is not None:
        # A number is an id; user names with digits in them would bury it.
        return Ambassador.objects.filter(matches | Q(pk=number)).order_by("-id_ambassador")
    if "@" in term:
        matches |= Q(email__istartswith=term)
    elif term:
        matches |= Q(email__istartswith=term) | words_match(
            term, "firstname", "lastname", "username"
        )
    return Ambassador.objects.filter(matches).order_by("-id_ambassador")


def words_match(term: str, *fields: str) -> Q:
    """Every word of `term` appears in one of `fields` (case-insensitive): "Olga Smith" finds
    first name Olga, last name Smith."""
    condition = Q()
    for word in term.split():
        either = Q()
        for name in fields:
            either |= Q(**{f"{name}__icontains": word})
        condition &= either
    return condition


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


@dataclass(frozen=True)
class AmbassadorSelection:
    """The ambassadors a caller may see, filtered and ordered: what one list request pages."""

    audience: Audience
    ordering: tuple[str, ...]
    filters: dict[str, Any] = field(default_factory=dict)

    def queryset(self) -> QuerySet[Ambassador]:
        ambassadors = apply_filters(
            AmbassadorFilterSet, visible_ambassadors(audience=self.audience), self.filters
        )
        return ambassadors.order_by(*self.ordering)


def select_ambassadors(
    *, token: ApiToken, filters: Mapping[str, Any], ordering: list[str]
) -> AmbassadorSelection:
    """The ambassadors `token` may see, filtered (django-filter) and ordered.

    Raises UnprocessableQuery, keyed `filter.<name>`, when a filter value is malformed.
    """
    return AmbassadorSelection(
        audience=audience_of(token),
        ordering=tuple(ordering),
        filters=cleaned_filters(AmbassadorFilterSet, filters),
    )


def visible_ambassador(*, token: ApiToken, ambassador_id: int) -> QuerySet[Ambassador]:
    """The ambassador `ambassador_id` if `token` may see it: a queryset of at most one row."""
    return visible_ambassadors(audience=audience_of(token)).filter(pk=ambassador_id)


def ambassador_exists(ambassador_id: int) -> bool:
    """Whether an ambassador has this id (an export's `--ambassador`)."""
    return Ambassador.objects.filter(pk=ambassador_id).exists()


def brand_exists(brand_id: int) -> bool:
    """Whether a brand has this id (an export's `--brand`)."""
    return Brand.objects.filter(pk=brand_id).exists()
