"""Resumable exports: orders to JSONL or CSV, checkpointed after every page.

After each page the output is flushed and fsync'ed, then a state file (`<out>.state.json`) is
replaced atomically (write a temporary file, fsync it, rename it over the old one, fsync the
directory). The state holds the output's length and the cursor of the next page. `resume`
truncates the output to that length — dropping a page written after the last checkpoint, or a
line cut short by a kill -9 — and continues from that cursor: nothing is duplicated or lost.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from platform_api_client import csv as orders_csv
from platform_api_client.client import FilterValue, PlatformApiClient
from platform_api_client.errors import NotFound
from platform_api_client.models import Order

STATE_VERSION = 1


class ResumeError(Exception):
    """The state file does not belong to this export (other options, or no state at all)."""


@dataclass(frozen=True)
class ExportRequest:
    """What to export; everything that decides the output's bytes."""

    out: Path
    format: str  # "jsonl" or "csv"
    ambassador: int | None = None  # None: every ambassador of the brand
    filters: dict[str, str] = field(default_factory=dict)
    sort: str | None = None
    per_page: int = 100

    def fingerprint(self) -> str:
        options = {k: v for k, v in asdict(self).items() if k != "out"}
        return hashlib.sha256(json.dumps(options, sort_keys=True).encode()).hexdigest()

    @property
    def state_path(self) -> Path:
        return self.out.with_name(self.out.name + ".state.json")


@dataclass
class ExportState:
    """The last checkpoint: output length, where the walk stands, and the counts so far."""

    fingerprint: str
    bytes: int = 0
    done_through: int | None = None  # every ambassador up to this id is written (--all)
    ambassador: int | None = None  # the ambassador being written, and its next cursor
    cursor: str | None = None
    ambassador_orders: int = 0  # orders of that ambassador written so far
    orders: int = 0
    lines: int = 0
    complete: bool = False
    version: int = STATE_VERSION
    # The server's clock before the first page was read: the next incremental export's
    # --updated-since (ISO 8601, UTC). Not the newest date_update written: orders are walked in
    # the sort's order, and one updated after the walk passed its place is not in the file.
    started: str | None = None


@dataclass
class ExportSummary:
    """What an export wrote, for the summary line."""

    orders: int
    lines: int
    ambassadors: int
    seconds: float
    retries: int
    resumed: bool
    started: str | None = None  # ExportState.started: the next run's --updated-since


# (orders just written, orders newly known to be ahead): the CLI's progress bar.
Progress = Callable[[int, int], None]


def run_export(
    client: PlatformApiClient,
    request: ExportRequest,
    *,
    resume: bool = False,
    progress: Progress | None = None,
) -> ExportSummary:
    """Export, checkpointing after every page; `resume` continues the export the state file
    describes (ResumeError if there is none for these options)."""
    started = time.monotonic()
    retries_before = client.retries
    state = _load_state(request) if resume else None
    resumed = state is not None
    if state is None:
        state = ExportState(fingerprint=request.fingerprint())
    report = progress or (lambda written, ahead: None)
    # Stamped before the first page is read, whichever ambassador that is (the first may be
    # gone: 404). A state that read pages without a stamp is older than that field: a later
    # stamp would no longer be safe.
    stamp_due = state.started is None and state.done_through is None and not state.cursor
    exported: set[int] = set()
    with _open_output(request.out, state, fresh=not resumed) as out:
        if not resumed:
            if request.format == "csv":
                out.write(orders_csv.header())
            # At once: a state left by an earlier export of the same file must not survive
            # into this one, or a crash before the first page would resume the old one.
            _checkpoint(out, request, state)
        if not state.complete:
            for ambassador_id in _ambassadors(client, request, state):
                try:
                    _export_ambassador(
                        client, request, state, out, ambassador_id, report, stamp=stamp_due
                    )
                except NotFound:
                    if request.ambassador is not None:
                        raise
                    # Listed, then gone from the brand (deleted, or moved to another): the
                    # brand's export goes on without it, and its orders already written stay.
                    state.done_through = ambassador_id
                    state.ambassador, state.cursor = None, None
                    _checkpoint(out, request, state)
                    continue
                exported.add(ambassador_id)
            state.complete = True
            state.ambassador, state.cursor = None, None
            _checkpoint(out, request, state)
    return ExportSummary(
        orders=state.orders,
        lines=state.lines,
        ambassadors=len(exported),
        seconds=time.monotonic() - started,
        retries=client.retries - retries_before,
        resumed=resumed,
        started=state.started,
    )


def _ambassadors(
    client: PlatformApiClient, request: ExportRequest, state: ExportState
) -> Iterator[int]:
    # The list is in id order (the route's default sort), so "done through id N" resumes it
    # (one ambassador's export too: its last page may be checkpointed before "complete").
    # Read whole before any order: its pages are numbered, and an ambassador leaving the brand
    # while the orders of the first page's ambassadors are exported would shift the next page
    # by one, skipping an ambassador unseen (one leaving while the list is read still can).
    if request.ambassador is not None:
        ids = [request.ambassador]
    else:
        ids = [ambassador.id_ambassador for ambassador in client.ambassadors()]
    for ambassador_id in ids:
        if state.done_through is None or ambassador_id > state.done_through:
            yield ambassador_id


def _export_ambassador(
    client: PlatformApiClient,
    request: ExportRequest,
    state: ExportState,
    out: BinaryIO,
    ambassador_id: int,
    report: Progress,
    *,
    stamp: bool,
) -> None:
    filters: dict[str, FilterValue] = dict(request.filters)
    resuming = state.ambassador == ambassador_id and state.cursor is not None
    cursor = state.cursor if resuming and state.cursor is not None else ""
    if not resuming:
        state.ambassador_orders = 0
    total = client.count_orders(ambassador_id, **filters)
    if stamp and state.started is None and client.server_date is not None:
        # Answered before the first page was asked for; checkpointed with that page.
        state.started = client.server_date.isoformat().replace("+00:00", "Z")
    report(0, max(total - state.ambassador_orders, 0))
    state.ambassador, state.cursor = ambassador_id, cursor
    pages = client.order_pages(
        ambassador_id, cursor=cursor, sort=request.sort, per_page=request.per_page, **filters
    )
    for page in pages:
        lines = 0
        for order in page.orders:
            data, order_lines = _encode(order, ambassador_id, request.format)
            out.write(data)
            lines += order_lines
        state.orders += len(page.orders)
        state.ambassador_orders += len(page.orders)
        state.lines += lines
        if page.next_cursor is None:
            state.done_through = ambassador_id
            state.ambassador, state.cursor = None, None
        else:
            state.cursor = page.next_cursor
        _checkpoint(out, request, state)
        report(len(page.orders), 0)


def _encode(order: Order, ambassador_id: int, format: str) -> tuple[bytes, int]:
    lines = len(order.products)
    if format == "jsonl":
        return order.raw.encode("utf-8") + b"\n", lines
    return orders_csv.encode_rows(orders_csv.order_rows(order, ambassador_id)), lines


class _open_output:
    """The output opened for appending at the checkpoint: truncated to the state's length."""

    def __init__(self, path: Path, state: ExportState, *, fresh: bool) -> None:
        self.path, self.state, self.fresh = path, state, fresh

    def __enter__(self) -> BinaryIO:
        if self.fresh or not self.path.exists():
            self.file: BinaryIO = open(self.path, "wb")
        else:
            self.file = open(self.path, "r+b")
            self.file.truncate(self.state.bytes)
            self.file.seek(self.state.bytes)
        return self.file

    def __exit__(self, *exc: Any) -> None:
        self.file.close()


def _checkpoint(out: BinaryIO, request: ExportRequest, state: ExportState) -> None:
    out.flush()
    os.fsync(out.fileno())
    state.bytes = out.tell()
    _write_atomically(request.state_path, json.dumps(asdict(state), indent=1).encode())


def _write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _load_state(request: ExportRequest) -> ExportState:
    try:
        raw = json.loads(request.state_path.read_text())
        state = ExportState(**raw)
    except FileNotFoundError:
        raise ResumeError(f"nothing to resume: no {request.state_path}") from None
    except (ValueError, TypeError) as exc:
        raise ResumeError(f"unreadable state file {request.state_path}: {exc}") from None
    if state.version != STATE_VERSION or state.fingerprint != request.fingerprint():
        raise ResumeError(
            f"{request.state_path} belongs to an export with other options; "
            "run the same command again, or without --resume to start over"
        )
    if not request.out.exists() or request.out.stat().st_size < state.bytes:
        raise ResumeError(f"{request.out} is shorter than its last checkpoint: start over")
    return state
