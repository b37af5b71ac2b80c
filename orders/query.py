"""The endpoint's query parameters read as Laravel and spatie/laravel-query-builder read them.

Unknown filter or sort names are a 400 naming what is allowed (spatie's InvalidFilterQuery /
InvalidSortQuery messages); malformed values are Laravel's 422.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from orders.filters import ALLOWED_FILTERS
from platform_api.errors import BadQuery, UnprocessableQuery
from platform_api.pagination import php_int
from platform_api.php_query import PhpValue

DEFAULT_PER_PAGE = 15
MAX_PER_PAGE = 100
ALLOWED_SORTS = ["date_order", "id_order", "total_amount", "total_paid", "date_update"]
DEFAULT_SORT = ["-date_order"]
TIE_BREAKER = "id_order"


@dataclass(frozen=True)
class OrdersQuery:
    """What the caller asked for, validated: per_page, filter values (raw), ordering."""

    per_page: int = DEFAULT_PER_PAGE
    filters: dict[str, str] = field(default_factory=dict)
    ordering: list[str] = field(default_factory=lambda: ["-date_order", "-id_order"])


def read_per_page(query: dict[str, PhpValue]) -> int:
    if "per_page" not in query:
        return DEFAULT_PER_PAGE
    number = php_int(query["per_page"])
    if number is None:
        message = "The per page field must be an integer."
    elif number < 1:
        message = "The per page field must be at least 1."
    elif number > MAX_PER_PAGE:
        message = f"The per page field must not be greater than {MAX_PER_PAGE}."
    else:
        return number
    raise UnprocessableQuery({"per_page": [message]})


def read_filters(query: dict[str, PhpValue]) -> dict[str, Any]:
    """`filter[name]=value` pairs; a plain `filter=x` is ignored, as spatie does."""
    raw = query.get("filter")
    if not isinstance(raw, dict):
        return {}
    unknown = [name for name in raw if name not in ALLOWED_FILTERS]
    if unknown:
        raise BadQuery(
            f"Requested filter(s) `{', '.join(unknown)}` are not allowed. "
            f"Allowed filter(s) are `{', '.join(ALLOWED_FILTERS)}`."
        )
    return dict(raw)


def read_ordering(query: dict[str, PhpValue]) -> list[str]:
    """`sort=-total_amount,date_order` -> ORM ordering, with `id_order` breaking ties."""
    raw = query.get("sort")
    if raw is not None and not isinstance(raw, str):
        raise UnprocessableQuery({"sort": ["The sort field must be a string."]})
    # spatie drops the empty parts of the list (`sort=date_order,` is `sort=date_order`).
    names = [name.strip() for name in (raw or "").split(",") if name.strip()] or DEFAULT_SORT
    unknown = [name for name in names if name.removeprefix("-") not in ALLOWED_SORTS]
    if unknown:
        raise BadQuery(
            f"Requested sort(s) `{', '.join(unknown)}` is not allowed. "
            f"Allowed sort(s) are `{', '.join(ALLOWED_SORTS)}`."
        )
    ordering: list[str] = []
    for name in names:
        if name.removeprefix("-") not in (existing.removeprefix("-") for existing in ordering):
            ordering.append(name)
    if not any(name.removeprefix("-") == TIE_BREAKER for name in ordering):
        # Ties break on the primary key, in the direction of the first sort key, so that
        # pages never overlap or skip rows.
        ordering.append(("-" if ordering[0].startswith("-") else "") + TIE_BREAKER)
    return ordering


def read_orders_query(query: dict[str, PhpValue]) -> OrdersQuery:
    """Validate everything except filter values (the FilterSet does those)."""
    return OrdersQuery(
        per_page=read_per_page(query), filters=read_filters(query), ordering=read_ordering(query)
    )
