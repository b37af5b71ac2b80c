"""Walk all of the whale's orders by cursor pages and by numbered pages, and PostgreSQL's floor.

    .venv/bin/python bench/run.py --walk

What a sync tool does: read every one of the whale's 100,000 orders at per_page 100, one request
after the other (one client, no concurrency), following `next_page_url`:

- **cursor**: `?per_page=100&cursor=` then each `next_page_url` (keyset, no count);
- **page**: `?per_page=100&page=1..1000` (OFFSET, and a count on every page);
- **floor (prepared)**: the service's own cursor statement (`visible_cursor_page_sql`, the one
  statement a cursor page sends) run by psycopg as a server-side prepared statement, page after
  page from the keys it returns: no HTTP, no Python rendering, no token lookup; and the same for
  the numbered pages' statement (`visible_page_sql`).

The cursor and page walks run page by page in turn (`alternate`), so that the shared machine's
load drifts over both alike. Per walk: the total time, and the cost of the last pages against
the first (medians of the first and last `ENDS` pages, so one disturbed request does not decide
it). Each walk also checks that it saw every order exactly once.
"""

from __future__ import annotations

import statistics
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
import psycopg

WHALE_ID = 1
WHALE_ORDERS = 100_000
PER_PAGE = 100
ENDS = 10  # pages at each end whose median is compared
MAX_PAGES = WHALE_ORDERS // PER_PAGE + 2


@dataclass
class Walk:
    """One walk: each page's seconds, and how many distinct orders it saw."""

    label: str
    seconds: list[float]
    orders: int

    @property
    def total(self) -> float:
        return sum(self.seconds)

    @property
    def first(self) -> float:
        return statistics.median(self.seconds[:ENDS])

    @property
    def last(self) -> float:
        return statistics.median(self.seconds[-ENDS:])


def _get(url: str, token: str) -> bytes:
    # Only ever http://127.0.0.1:<port> of the gunicorn bench/run.py started.
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310
        return bytes(response.read())


Pages = Iterator[tuple[float, list[int]]]  # each page's seconds and order ids


def alternate(walks: dict[str, Pages]) -> list[Walk]:
    """Run the walks page by page in turn (one page of each, then the next of each...), so that
    the shared machine's load drifts over all of them alike; check each saw every order once."""
    seconds: dict[str, list[float]] = {label: [] for label in walks}
    seen: dict[str, set[int]] = {label: set() for label in walks}
    counts = dict.fromkeys(walks, 0)
    running = dict(walks)
    while running:
        for label, pages in list(running.items()):
            page = next(pages, None)
            if page is None:
                del running[label]
                continue
            seconds[label].append(page[0])
            seen[label].update(page[1])
            counts[label] += len(page[1])
            if len(seconds[label]) > MAX_PAGES:
                raise SystemExit(f"{label}: more pages than the whale has orders")
    for label in walks:
        if counts[label] != WHALE_ORDERS or len(seen[label]) != WHALE_ORDERS:
            raise SystemExit(
                f"{label}: saw {counts[label]} orders, {len(seen[label])} distinct, "
                f"not {WHALE_ORDERS}"
            )
    return [Walk(label, seconds[label], len(seen[label])) for label in walks]


def _http_walk(token: str, url: str) -> Pages:
    next_url: str | None = url
    while next_url:
        started = time.perf_counter()
        raw = _get(next_url, token)
        elapsed = time.perf_counter() - started
        body = orjson.loads(raw)
        yield elapsed, [order["id_order"] for order in body["data"]]
        next_url = body["next_page_url"]


def http_cursor_walk(base: str, token: str) -> Pages:
    """The service, by cursor pages, following `next_page_url`."""
    path = f"/api/v2/platform/ambassadors/{WHALE_ID}/orders?per_page={PER_PAGE}&cursor="
    return _http_walk(token, base + path)


def http_page_walk(base: str, token: str) -> Pages:
    """The service, by numbered pages, following `next_page_url`."""
    path = f"/api/v2/platform/ambassadors/{WHALE_ID}/orders?per_page={PER_PAGE}&page=1"
    return _http_walk(token, base + path)


def _floor_walk(
    conninfo: str,
    statement: Callable[[int, Any], tuple[str, list[Any]]],
    advance: Callable[[int, tuple[Any, ...]], Any],
) -> Pages:
    """`statement(page_number, state)`: a page's SQL; `advance(page_number, row)`: the next
    page's state, or None after the last page. Only the statement's round trip is timed; the
    page's JSON is the row's third column in both statements."""
    with psycopg.connect(conninfo, autocommit=True) as connection:
        state: Any = None
        number = 1
        while True:
            sql, params = statement(number, state)
            started = time.perf_counter()
            row = connection.execute(sql, params, prepare=True).fetchone()
            elapsed = time.perf_counter() - started
            assert row is not None
            yield elapsed, [order["id_order"] for order in orjson.loads(row[2])]
            state = advance(number, row)
            if state is None:
                return
            number += 1


def _whale_selection() -> Any:
    from orders.selectors import select_ambassador_orders

    return select_ambassador_orders(
        ambassador_id=WHALE_ID, filters={}, ordering=["-date_order", "-id_order"]
    )


def _brand_token() -> Any:
    from ambassadors.models import ApiToken

    # Only its kind and brand reach the statement.
    return ApiToken(kind=ApiToken.Kind.BRAND, brand_id=1)


def floor_cursor_walk(conninfo: str) -> Pages:
    """The cursor statement the service sends, prepared, page after page from its keys."""
    from orders.cursor_rendering import visible_cursor_page_sql
    from orders.keyset import KeysetPosition

    token, orders, now = _brand_token(), _whale_selection(), datetime.now(UTC)
    width = len(orders.ordering)

    def statement(number: int, position: Any) -> tuple[str, list[Any]]:
        return visible_cursor_page_sql(
            "default", token, orders, position=position, per_page=PER_PAGE, now=now
        )

    def advance(number: int, row: tuple[Any, ...]) -> Any:
        # (ids read, items, data, keys of the first id read, keys of the last one shown)
        if row[0] <= PER_PAGE:
            return None
        return KeysetPosition(values=tuple(row[-width:]), forward=True)

    return _floor_walk(conninfo, statement, advance)


def floor_page_walk(conninfo: str) -> Pages:
    """The numbered-page statement the service sends, prepared, page 1 to the last."""
    from orders.sql_rendering import visible_page_sql

    token, orders, now = _brand_token(), _whale_selection(), datetime.now(UTC)

    def statement(number: int, state: Any) -> tuple[str, list[Any]]:
        return visible_page_sql("default", token, orders, number=number, per_page=PER_PAGE, now=now)

    def advance(number: int, row: tuple[Any, ...]) -> Any:
        return number if number * PER_PAGE < row[0] else None  # row: (total, items, data)

    return _floor_walk(conninfo, statement, advance)


def report(walks: list[Walk]) -> list[str]:
    """The walk section's lines (markdown), with the issue's two targets judged."""
    by_label = {walk.label: walk for walk in walks}
    lines = [
        "| walk | pages | total (s) | first pages (ms, median) | last pages (ms, median) "
        "| last / first |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for walk in walks:
        lines.append(
            f"| {walk.label} | {len(walk.seconds)} | {walk.total:.1f} | {walk.first * 1000:.1f} "
            f"| {walk.last * 1000:.1f} | {walk.last / walk.first:.2f} |"
        )
    cursor, page = by_label.get("cursor, HTTP"), by_label.get("page, HTTP")
    if cursor and page:
        depth = cursor.last / cursor.first
        speedup = page.total / cursor.total
        lines += [
            "",
            f"- last cursor page / first: {depth:.2f} (target ≤ 1.2: "
            f"{'met' if depth <= 1.2 else 'NOT met'})",
            f"- page walk / cursor walk: {speedup:.2f}x (target ≥ 2: "
            f"{'met' if speedup >= 2 else 'NOT met'})",
        ]
    floor = by_label.get("cursor, floor (prepared)")
    if cursor and floor:
        lines.append(
            f"- cursor walk over HTTP / its prepared floor: {cursor.total / floor.total:.2f}x"
        )
    return lines
