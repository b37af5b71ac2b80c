"""A list route's query parameters, read as Laravel and spatie/laravel-query-builder read them.

`per_page` as Laravel validates it; `filter[name]=value` and `sort=a,-b` as spatie's
QueryBuilder does. Unknown filter or sort names are a 400 naming what is allowed (spatie's
InvalidFilterQuery / InvalidSortQuery messages); malformed values are Laravel's 422. Each route
declares its names in a `ListParameters`; the values of filters are cleaned by the route's
FilterSet (`platform_api.filters.clean_filters`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from platform_api.errors import BadQuery, UnprocessableQuery
from platform_api.pagination import php_int
from platform_api.php_query import PhpValue

DEFAULT_PER_PAGE = 15
MAX_PER_PAGE = 100


@dataclass(frozen=True)
class ListQuery:
    """What the caller asked for, validated: per_page, filter values (raw), ordering."""

    per_page: int
    ordering: list[str]
    filters: dict[str, Any] = field(default_factory=dict)


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


@dataclass(frozen=True)
class ListParameters:
    """The filter and sort names one list route accepts, and its default order."""

    filters: tuple[str, ...]
    sorts: tuple[str, ...]
    default_sort: tuple[str, ...]
    # The primary key's public name: it breaks every tie, so pages never overlap or skip rows.
    tie_breaker: str

    def read(self, query: dict[str, PhpValue]) -> ListQuery:
        """Validate everything except filter values (the route's FilterSet does those)."""
        return ListQuery(
            per_page=read_per_page(query),
            filters=self.read_filters(query),
            ordering=self.read_ordering(query),
        )

    def read_filters(self, query: dict[str, PhpValue]) -> dict[str, Any]:
        """`filter[name]=value` pairs; a plain `filter=x` is ignored, as spatie does."""
        raw = query.get("filter")
        if not isinstance(raw, dict):
            return {}
        unknown = [name for name in raw if name not in self.filters]
        if unknown:
            raise BadQuery(
                f"Requested filter(s) `{', '.join(unknown)}` are not allowed. "
                f"Allowed filter(s) are `{', '.join(self.filters)}`."
            )
        return dict(raw)

    def read_ordering(self, query: dict[str, PhpValue]) -> list[str]:
        """`sort=-b,a` -> ORM ordering, with the tie breaker last."""
        raw = query.get("sort")
        if raw is not None and not isinstance(raw, str):
            raise UnprocessableQuery({"sort": ["The sort field must be a string."]})
        # spatie's `QueryBuilderRequest::sorts()`: `explode(',')`, then `filter()`, which drops
        # PHP's falsy strings ("" and "0"); the parts are not trimmed (TrimStrings trimmed the
        # whole value). A part's name is `ltrim($part, '-')`, descending when it starts with
        # `-` (`--date_order` is `-date_order`); unknown names are listed without their dashes.
        parts = [part for part in (raw or "").split(",") if part not in ("", "0")]
        unknown = [part.lstrip("-") for part in parts if part.lstrip("-") not in self.sorts]
        if unknown:
            raise BadQuery(
                f"Requested sort(s) `{', '.join(unknown)}` is not allowed. "
                f"Allowed sort(s) are `{', '.join(self.sorts)}`."
            )
        names = [("-" if part.startswith("-") else "") + part.lstrip("-") for part in parts]
        # The default need not be a name callers may send (the ambassadors' is their id).
        names = names or list(self.default_sort)
        ordering: list[str] = []
        for name in names:
            if name.removeprefix("-") not in (existing.removeprefix("-") for existing in ordering):
                ordering.append(name)
        if not any(name.removeprefix("-") == self.tie_breaker for name in ordering):
            # Ties break on the primary key, in the direction of the first sort key.
            ordering.append(("-" if ordering[0].startswith("-") else "") + self.tie_breaker)
        return ordering
