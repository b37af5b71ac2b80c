"""The library: iterate a brand's ambassadors, and an ambassador's orders by cursor pages."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from platform_api_client import rawjson
from platform_api_client.http import RetryPolicy, Transport
from platform_api_client.models import Ambassador, Order

MAX_PER_PAGE = 100
ORDERS_PATH = "/api/v2/platform/ambassadors/{id}/orders"
AMBASSADORS_PATH = "/api/v2/platform/ambassadors"

FilterValue = str | int | Decimal | date | datetime | Iterable[Any] | None


@dataclass(frozen=True)
class OrderPage:
    """One cursor page of orders, and the cursor of the next one (None on the last page)."""

    orders: list[Order]
    cursor: str
    next_cursor: str | None


def filter_params(filters: Mapping[str, FilterValue]) -> list[tuple[str, str]]:
    """`filter[name]=value` pairs, lists and tuples joined by commas (the API's "any of";
    `placed_between=(start, None)` is an open range); None leaves a filter out."""
    params = []
    for name, value in filters.items():
        if value is None:
            continue
        params.append((f"filter[{name}]", _filter_text(value)))
    return params


def _filter_text(value: FilterValue) -> str:
    if isinstance(value, datetime) and value.utcoffset() is None:
        # The API reads a date-time without offset as UTC; Python's naive datetimes are mostly
        # local time (`datetime.now()`), which would shift an incremental sync by the offset.
        raise ValueError(
            f"a naive datetime ({value.isoformat()}) is ambiguous: give it a tzinfo "
            "(datetime(..., tzinfo=UTC), or .astimezone() for local time)"
        )
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, str | int | Decimal):
        return str(value)
    assert value is not None
    return ",".join("" if item is None else _filter_text(item) for item in value)


class PlatformApiClient:
    """A brand's (or an ambassador's) view of the Platform API, through one token.

    Retries 429 and 503 (honouring `Retry-After`), other gateway errors, connection errors and
    timeouts with backoff; raises `Unauthorized`, `Forbidden`, `NotFound`, `InvalidQuery` (with
    the API's message) and `Unavailable` (retries exhausted). `retries` counts the retries made.
    """

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                f"the base URL must be http:// or https:// and name a host, not {base_url!r}"
            )
        self._transport = Transport(base_url, token, timeout=timeout, policy=retry or RetryPolicy())

    @property
    def retries(self) -> int:
        return self._transport.retries

    @property
    def server_date(self) -> datetime | None:
        """The server's clock (its `Date` header, whole seconds) at the last answer; None
        before the first. An incremental sync's next `updated_since` is the `server_date` of an
        answer received before its first page was asked for."""
        return self._transport.last_date

    def ambassadors(
        self, *, sort: str | None = None, per_page: int = MAX_PER_PAGE, **filters: FilterValue
    ) -> Iterator[Ambassador]:
        """The brand's ambassadors (brand tokens only), page after page; `sort` and filters as
        the route takes them (`name`, `id_referrer`, `active`, `status`)."""
        page = 1
        while True:
            params = [*filter_params(filters), *_sort(sort), ("per_page", str(per_page))]
            text, body = self._transport.get(AMBASSADORS_PATH, [*params, ("page", str(page))])
            for item in _data(self._transport, text, body):
                yield Ambassador.from_api(item.value, item.text)
            if not body.get("next_page_url"):
                return
            page += 1

    def ambassador(self, ambassador_id: int) -> Ambassador:
        """One ambassador."""
        text, body = self._transport.get(f"{AMBASSADORS_PATH}/{int(ambassador_id)}")
        if not isinstance(body, dict):
            raise self._transport.unexpected("an ambassador is a JSON object")
        return Ambassador.from_api(body, text)

    def order_pages(
        self,
        ambassador_id: int,
        *,
        cursor: str = "",
        sort: str | None = None,
        per_page: int = MAX_PER_PAGE,
        **filters: FilterValue,
    ) -> Iterator[OrderPage]:
        """The ambassador's orders, one cursor page at a time from `cursor` ("" = the start);
        filters by name (`last_status=["OK", "FULFILLED"]`, `updated_since=datetime(...)`,
        `placed_between=("2025-01-01", None)`)."""
        path = ORDERS_PATH.format(id=int(ambassador_id))
        params = [*filter_params(filters), *_sort(sort), ("per_page", str(per_page))]
        current: str | None = cursor
        while current is not None:
            text, body = self._transport.get(path, [*params, ("cursor", current)])
            if not isinstance(body, dict) or "next_cursor" not in body:
                raise self._transport.unexpected("the API answered without cursor pagination")
            items = _data(self._transport, text, body)
            orders = [Order.from_api(item.value, item.text) for item in items]
            next_cursor = body["next_cursor"]
            yield OrderPage(orders=orders, cursor=current, next_cursor=next_cursor)
            current = next_cursor

    def orders(
        self,
        ambassador_id: int,
        *,
        sort: str | None = None,
        per_page: int = MAX_PER_PAGE,
        **filters: FilterValue,
    ) -> Iterator[Order]:
        """The ambassador's orders, by cursor pages, as `order_pages` finds them."""
        pages = self.order_pages(ambassador_id, cursor="", sort=sort, per_page=per_page, **filters)
        for page in pages:
            yield from page.orders

    def count_orders(self, ambassador_id: int, **filters: FilterValue) -> int:
        """How many orders the ambassador has with these filters: the `total` of a one-order
        length-aware page (the API counts them; cursor pages do not)."""
        path = ORDERS_PATH.format(id=int(ambassador_id))
        _, body = self._transport.get(path, [*filter_params(filters), ("per_page", "1")])
        return _total(self._transport, body)

    def count_ambassadors(self, **filters: FilterValue) -> int:
        """How many ambassadors `ambassadors(**filters)` yields."""
        _, body = self._transport.get(
            AMBASSADORS_PATH, [*filter_params(filters), ("per_page", "1")]
        )
        return _total(self._transport, body)


def _total(transport: Transport, body: Any) -> int:
    """A length-aware page's `total`."""
    total = body.get("total") if isinstance(body, dict) else None
    if type(total) is not int or total < 0:
        raise transport.unexpected("a length-aware page has a total count of its items")
    return total


def _sort(sort: str | None) -> list[tuple[str, str]]:
    return [("sort", sort)] if sort else []


def _data(transport: Transport, text: str, body: Any) -> Iterator[rawjson.Raw]:
    """The envelope's `data` items with their exact text."""
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        raise transport.unexpected("a page is a JSON object with a data array")
    start = next(start for key, start, _ in rawjson.members(text) if key == "data")
    return rawjson.items(text, start)
