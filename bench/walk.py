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
load drifts over both alike. Per walk: the total time, and the cost of its last page against
its first: after the walks, each walk's first and last pages are asked for again, in turn,
`ROUNDS` times, and their medians compared. Each walk also checks that it saw every order
exactly once.
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
ROUNDS = 30  # first/last page pairs timed after the walks
MAX_PAGES = WHALE_ORDERS // PER_PAGE + 2

Replay = Callable[[], float]  # asks for one page again; its seconds


@dataclass
class Walk:
    """One walk: each page's seconds, how many distinct orders it saw, and its first and last
    pages to time again (`time_ends`)."""

    label: str
    seconds: list[float]
    orders: int
    replay_first: Replay
    replay_last: Replay
    first: float = 0.0  # median seconds of the first page, then of the last, over ROUNDS
    last: float = 0.0

    @property
    def total(self) -> float:
        return sum(self.seconds)


def _get(url: str, token: str) -> bytes:
    # Only ever http://127.0.0.1:<port> of the gunicorn bench/run.py started.
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310
        return bytes(response.read())


Pages = Iterator[tuple[float, list[int], Replay]]  # each page's seconds, order ids, replay


def alternate(walks: dict[str, Pages]) -> list[Walk]:
    """Run the walks page by page in turn (one page of each, then the next of each...), so that
    the shared machine's load drifts over all of them alike; check each saw every order once."""
    seconds: dict[str, list[float]] = {label: [] for label in walks}
    seen: dict[str, set[int]] = {label: set() for label in walks}
    replays: dict[str, list[Replay]] = {label: [] for label in walks}
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
            replays[label][1:] = [page[2]]  # keep the first and the latest
            if len(seconds[label]) > MAX_PAGES:
                raise SystemExit(f"{label}: more pages than the whale has orders")
    for label in walks:
        if counts[label] != WHALE_ORDERS or len(seen[label]) != WHALE_ORDERS:
            raise SystemExit(
                f"{label}: saw {counts[label]} orders, {len(seen[label])} distinct, "
                f"not {WHALE_ORDERS}"
            )
    return [
        Walk(label, seconds[label], len(seen[label]), replays[label][0], replays[label][-1])
        for label in walks
    ]


def time_ends(walks: list[Walk], rounds: int = ROUNDS) -> None:
    """The first and the last page of each walk, asked for again in turn `rounds` times: the
    medians are each walk's `first` and `last` (the walk's own first pages ran while caches
    were cold and the machine's load was another)."""
    timings: dict[str, tuple[list[float], list[float]]] = {w.label: ([], []) for w in walks}
    for _ in range(rounds):
        for walk in walks:
            timings[walk.label][0].append(walk.replay_first())
            timings[walk.label][1].append(walk.replay_last())
    for walk in walks:
        first, last = timings[walk.label]
        walk.first, walk.last = statistics.median(first), statistics.median(last)


def _timed_get(url: str, token: str) -> tuple[float, bytes]:
    started = time.perf_counter()
    raw = _get(url, token)
    return time.perf_counter() - started, raw


def _http_walk(token: str, url: str) -> Pages:
    next_url: str | None = url
    while next_url:
        elapsed, raw = _timed_get(next_url, token)
        body = orjson.loads(raw)

        def replay(page_url: str = next_url) -> float:
            return _timed_get(page_url, token)[0]

        yield elapsed, [order["id_order"] for order in body["data"]], replay
        next_url = body["next_page_url"]


def http_cursor_walk(base: str, token: str) -> Pages:
    """The service, by cursor pages, following `next_page_url`."""
    path = f"/api/v2/platform/ambassadors/{WHALE_ID}/orders?per_page={PER_PAGE}&cursor="
    return _http_walk(token, base + path)


def http_page_walk(base: str, token: str) -> Pages:
    """The service, by numbered pages, following `next_page_url`."""
    path = f"/api/v2/platform/ambassadors/{WHALE_ID}/orders?per_page={PER_PAGE}&page=1"
    return _http_walk(token, base + path)


def _timed_row(
    connection: psycopg.Connection[Any], sql: str, params: list[Any]
) -> tuple[float, tuple[Any, ...]]:
    started = time.perf_counter()
    row = connection.execute(sql, params, prepare=True).fetchone()
    elapsed = time.perf_counter() - started
    assert row is not None
    return elapsed, row


def _floor_walk(
    connection: psycopg.Connection[Any],
    statement: Callable[[int, Any], tuple[str, list[Any]]],
    advance: Callable[[int, tuple[Any, ...]], Any],
) -> Pages:
    """`statement(page_number, state)`: a page's SQL; `advance(page_number, row)`: the next
    page's state, or None after the last page. Only the statement's round trip is timed; the
    page's JSON is the row's third column in both statements."""
    state: Any = None
    number = 1
    while True:
        sql, params = statement(number, state)
        elapsed, row = _timed_row(connection, sql, params)

        def replay(sql: str = sql, params: list[Any] = params) -> float:
            return _timed_row(connection, sql, params)[0]

        yield elapsed, [order["id_order"] for order in orjson.loads(row[2])], replay
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


def floor_cursor_walk(connection: psycopg.Connection[Any]) -> Pages:
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

    return _floor_walk(connection, statement, advance)


def floor_page_walk(connection: psycopg.Connection[Any]) -> Pages:
    """The numbered-page statement the service sends, prepared, page 1 to the last."""
    from orders.sql_rendering import visible_page_sql

    token, orders, now = _brand_token(), _whale_selection(), datetime.now(UTC)

    def statement(number: int, state: Any) -> tuple[str, list[Any]]:
        return visible_page_sql("default", token, orders, number=number, per_page=PER_PAGE, now=now)

    def advance(number: int, row: tuple[Any, ...]) -> Any:
        return number if number * PER_PAGE < row[0] else None  # row: (total, items, data)

    return _floor_walk(connection, statement, advance)


def report(walks: list[Walk]) -> list[str]:
    """The walk section's lines (markdown), with the issue's two targets judged."""
    by_label = {walk.label: walk for walk in walks}
    lines = [
        f"| walk | pages | total (s) | first page (ms, median of {ROUNDS}) "
        f"| last page (ms, median of {ROUNDS}) | last / first |",
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
