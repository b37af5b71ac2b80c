"""Laravel's LengthAwarePaginator, field for field, as a DRF paginator.

The envelope, the `links` window and the page URLs follow `Illuminate\\Pagination`
(`LengthAwarePaginator::toArray`, `UrlWindow`) so that clients of the original API cannot tell
the difference.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response

from platform_api.ids import INT64_MAX
from platform_api.php_query import PhpValue, http_build_query, parse_str, raw_query_string

PAGE_PARAM = "page"
ON_EACH_SIDE = 3
PREVIOUS_LABEL = "&laquo; Previous"
NEXT_LABEL = "Next &raquo;"
PHP_INT_MAX = INT64_MAX

# PHP's FILTER_VALIDATE_INT: optional surrounding whitespace, optional sign, no leading zeros.
_PHP_INT_RE = re.compile(r"[ \t\n\r\v]*([+-]?)(0|[1-9][0-9]*)[ \t\n\r\v]*")


class QuerySetNotOrdered(ValueError):
    """Paginating an unordered queryset would let rows repeat or vanish between pages."""


def php_int(value: Any) -> int | None:
    """The integer PHP's `filter_var($value, FILTER_VALIDATE_INT)` accepts, or None."""
    if not isinstance(value, str):
        return None
    match = _PHP_INT_RE.fullmatch(value)
    if match is None:
        return None
    number = int(match.group(2))
    if match.group(1) == "-":
        number = -number
    if number > PHP_INT_MAX or number < -PHP_INT_MAX - 1:
        return None
    return number


def resolve_page(query: dict[str, PhpValue]) -> int:
    """Laravel: an integer >= 1, anything else (absent, garbage, an array) is page 1."""
    page = php_int(query.get(PAGE_PARAM))
    return page if page is not None and page >= 1 else 1


@dataclass(frozen=True)
class Page:
    """The numbers of one page; everything in the envelope derives from them."""

    number: int
    per_page: int
    total: int

    @property
    def last_page(self) -> int:
        return max(math.ceil(self.total / self.per_page), 1)

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.per_page

    @property
    def is_past_the_end(self) -> bool:
        # Checked before any query, so a huge page number never becomes an SQL OFFSET.
        return self.offset >= self.total

    @property
    def size(self) -> int:
        if self.is_past_the_end:
            return 0
        return min(self.per_page, self.total - self.offset)


def url_window(current: int, last: int) -> list[list[int] | None]:
    """Laravel's UrlWindow: the page-number groups of `links`; None stands for "...".

    Lists shorter than 14 pages are shown whole; otherwise the first two and the last two pages,
    and three pages on each side of the current one, with "..." between the groups.
    """
    if last < ON_EACH_SIDE * 2 + 8:
        return [list(range(1, last + 1))]
    window = ON_EACH_SIDE + 4
    start, finish = [1, 2], [last - 1, last]
    if current <= window:
        return [list(range(1, window + ON_EACH_SIDE + 1)), None, finish]
    if current > last - window:
        return [start, None, list(range(last - (window + ON_EACH_SIDE - 1), last + 1))]
    slider = list(range(current - ON_EACH_SIDE, current + ON_EACH_SIDE + 1))
    return [start, None, slider, None, finish]


class LaravelPagination(BasePagination):
    """Paginates an ordered queryset and renders Laravel's envelope around the page's data."""

    per_page = 15

    def __init__(self) -> None:
        self.request: Request | None = None
        self.page: Page | None = None
        self._query: dict[str, PhpValue] = {}
        self._path = ""
        self._url_head: str | None = None

    # Narrower than DRF's signature on purpose: only ordered querysets, plus keyword-only extras.
    def paginate_queryset(  # type: ignore[override]
        self,
        queryset: QuerySet[Any],
        request: Request,
        view: Any = None,
        *,
        per_page: int | None = None,
        total: int | None = None,
    ) -> QuerySet[Any]:
        """The slice of `queryset` for the requested page; `total` spares a COUNT when known."""
        if not queryset.ordered:
            raise QuerySetNotOrdered(
                "Refusing to paginate an unordered queryset: pages could overlap or skip rows."
            )
        self.start(request, per_page=per_page or self.per_page, total=total)
        assert self.page is not None
        if total is None:
            self.page = Page(self.page.number, self.page.per_page, queryset.count())
        if self.page.is_past_the_end:
            return queryset.none()
        return queryset[self.page.offset : self.page.offset + self.page.per_page]

    def start(
        self,
        request: Request,
        *,
        per_page: int,
        total: int | None,
        query: dict[str, PhpValue] | None = None,
    ) -> Page:
        """Read the page number and remember the URL parts; no query here. `query` is the
        request's query string as `parse_str` reads it, when the caller has it already."""
        self.request = request
        self._query = dict(query) if query is not None else parse_str(raw_query_string(request))
        number = resolve_page(self._query)
        self._query.pop(PAGE_PARAM, None)
        self._path = request.build_absolute_uri(request.path).rstrip("/")
        self._url_head = None
        self.page = Page(number=number, per_page=per_page, total=total or 0)
        return self.page

    def url(self, page_number: int) -> str:
        """Laravel's `url()`: the request's other parameters in their order, `page` last."""
        if self._url_head is None:
            # Every link of the envelope (up to 17) differs only in the page number: encode
            # the other parameters once.
            others = http_build_query(self._query)
            self._url_head = f"{self._path}?{others}{'&' if others else ''}{PAGE_PARAM}="
        return f"{self._url_head}{max(page_number, 1)}"

    def envelope(self, data: Any, *, item_count: int) -> dict[str, Any]:
        """`LengthAwarePaginator::toArray()`, keys in Laravel's order."""
        page = self.page
        assert page is not None
        first_item = page.offset + 1 if item_count else None
        last_item = page.offset + item_count if item_count else None
        next_url = self.url(page.number + 1) if page.number < page.last_page else None
        prev_url = self.url(page.number - 1) if page.number > 1 else None
        return {
            "current_page": page.number,
            "data": data,
            "first_page_url": self.url(1),
            "from": first_item,
            "last_page": page.last_page,
            "last_page_url": self.url(page.last_page),
            "links": self._links(prev_url, next_url),
            "next_page_url": next_url,
            "path": self._path,
            "per_page": page.per_page,
            "prev_page_url": prev_url,
            "to": last_item,
            "total": page.total,
        }

    def _links(self, prev_url: str | None, next_url: str | None) -> list[dict[str, Any]]:
        assert self.page is not None
        links: list[dict[str, Any]] = [{"url": prev_url, "label": PREVIOUS_LABEL, "active": False}]
        for group in url_window(self.page.number, self.page.last_page):
            if group is None:
                links.append({"url": None, "label": "...", "active": False})
                continue
            links.extend(
                {"url": self.url(n), "label": str(n), "active": n == self.page.number}
                for n in group
            )
        links.append({"url": next_url, "label": NEXT_LABEL, "active": False})
        return links

    def get_paginated_response(self, data: Any) -> Response:
        return Response(self.envelope(data, item_count=len(data)))


def laravel_page(
    request: Request,
    *,
    query: dict[str, PhpValue],
    per_page: int,
    total: int,
    data: Any,
    item_count: int,
) -> dict[str, Any]:
    """Laravel's envelope around one page's `data` (`item_count` items of `total`), its URLs
    built from the request's path and its parsed `query`."""
    paginator = LaravelPagination()
    paginator.start(request, per_page=per_page, total=total, query=query)
    return paginator.envelope(data, item_count=item_count)
