"""Every platform route, declared once: the negative matrix (tests/test_platform_routes.py)
runs against each of them, as NetBox's `APIViewTestCases` give every endpoint its anonymous,
under-privileged and malformed cases without writing them.

A new route adds one `PlatformRoute` to `ROUTES`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PlatformRoute:
    """What the matrix needs to know of a route.

    `path` holds `{id}` when the route reads one ambassador (or what belongs to one): then an
    ambassador token may call it for its own id only, and another brand's or an unknown id is a
    404. Without `{id}` the route is a brand's: ambassador tokens are refused (403).
    `bad_query` is answered 400 (an unknown filter or sort) and `invalid_query` 422 (a
    malformed value), naming `invalid_key`; None for a route without query parameters.
    """

    name: str
    path: str
    bad_query: str | None = None
    invalid_query: str | None = None
    invalid_key: str | None = None

    @property
    def has_id(self) -> bool:
        return "{id}" in self.path

    def url(self, ambassador_id: object = "") -> str:
        return "/api/v2/platform/" + self.path.format(id=ambassador_id)


ROUTES = [
    PlatformRoute(
        "ambassador-orders",
        "ambassadors/{id}/orders",
        bad_query="sort=nope",
        invalid_query="filter[currency]=euro",
        invalid_key="filter.currency",
    ),
    PlatformRoute(
        "ambassadors",
        "ambassadors",
        bad_query="filter[nope]=1",
        invalid_query="filter[status]=9",
        invalid_key="filter.status",
    ),
    PlatformRoute("ambassador", "ambassadors/{id}"),
]
