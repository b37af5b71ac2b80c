"""Laravel's LengthAwarePaginator, field for field, as a DRF paginator.

The envelope, the `links` window and the page URLs follow `Illuminate\\Pagination`
(`LengthAwarePaginator::toArray`, `UrlWindow`) so that clients of the original API cannot tell
the difference.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response

from platform_api.laravel_request import PageUrls, laravel_query, request_url
from platform_api.php_query import PHP_INT_MAX, PhpArray, php_int

PAGE_PARAM = "page"
ON_EACH_SIDE = 3
PREVIOUS_LABEL = "&laquo; Previous"
NEXT_LABEL = "Next &raquo;"
__all__ = ["PHP_INT_MAX", "LaravelPagination", "Page", "php_int", "resolve_page", "url_window"]


class QuerySetNotOrdered(ValueError):
    """Paginating an unordered queryset would let rows repeat or vanish between pages."""


def resolve_page(query: PhpArray) -> int:
    """Laravel: an integer >= 1, anything else (absent, null, garbage, an array) is page 1.
    `query` is Laravel's (after TrimStrings: `page=%C2%A02` is page 2)."""
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
        self._urls: PageUrls | None = None

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
    ) -> Page:
        """Read the page number from Laravel's query and the request's URL; no query here."""
        self.request = request
        query = laravel_query(request)
        self._urls = PageUrls(request_url(request), query, PAGE_PARAM)
        self.page = Page(number=resolve_page(query), per_page=per_page, total=total or 0)
        return self.page

    def url(self, page_number: int) -> str:
        """Laravel's `url()`: the request's other parameters in their order, `page` last."""
        assert self._urls is not None
        return self._urls.url(max(page_number, 1))

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
            "path": self._urls.path if self._urls else "",
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
    per_page: int,
    total: int,
    data: Any,
    item_count: int,
) -> dict[str, Any]:
    """Laravel's envelope around one page's `data` (`item_count` items of `total`), its URLs
    built from the request's URL and Laravel's query (`laravel_request`)."""
    paginator = LaravelPagination()
    paginator.start(request, per_page=per_page, total=total)
    return paginator.envelope(data, item_count=item_count)
