"""Reading records, and landing them in batches that each commit or roll back whole.

The loop is the same for every entity: read a record (JSON Lines, or rows an entity's CSV reader
groups), let the entity parse and validate it, and hand full batches to the entity's `land`, which
stages and merges them set-based. A batch the database refuses anyway (a rule Python did not
know) is split in halves until the records it refuses are alone; they are rejected with the
database's message and the rest of the batch lands.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import itertools
import os
import queue
import signal
import threading
import traceback
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from multiprocessing.connection import Connection, Pipe
from typing import IO, Any, Generic, Protocol, TypeVar

import orjson
from django.db import DatabaseError, connection, transaction

from platform_api.bulk.rules import Invalid

UTF8_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class Source:
    """One record as read: where it starts in the file, its text, and its decoded value."""

    line: int
    text: str
    value: Any

    def __reduce__(self) -> tuple[Any, ...]:
        # Sent from the reading process without its decoded value: landing needs line and text.
        return (Source, (self.line, self.text, None))


@dataclass(frozen=True)
class Rejected:
    """A record that did not land, and why."""

    line: int
    reason: str
    text: str

    def as_json(self) -> bytes:
        return orjson.dumps({"line": self.line, "reason": self.reason, "record": self.text})


class Parsed(Protocol):
    @property
    def source(self) -> Source: ...


P = TypeVar("P", bound=Parsed)


@dataclass
class Landed:
    """What `land` did with a batch: rejected records, and rows it inserted or changed."""

    rejected: list[Rejected] = field(default_factory=list)
    written: int = 0


class Importer(Protocol, Generic[P]):
    """One entity's import: parse one record, land a batch of parsed records set-based."""

    def prepare(self) -> None:
        """Create the run's own tables (the ids seen so far); runs once, before the batches."""

    def begin_batch(self) -> None:
        """Create the staging tables, inside the batch's transaction (which drops them)."""

    def parse(self, source: Source) -> P:
        """The record validated and converted to rows, or Invalid with a reason."""

    def land(self, batch: list[P]) -> Landed:
        """Stage, check references and duplicates, merge; inside the batch's transaction."""

    def after_batch(self) -> None:
        """Work each committed batch needs (id sequences), inside its transaction."""

    @property
    def note(self) -> str:
        """For the progress and summary lines, once `prepare` ran: how records are checked."""

    def finish(self) -> None:
        """Drop the run's own tables; runs once, at the end, whatever happened."""


def read_json_lines(stream: IO[bytes]) -> Iterator[Source | Rejected]:
    """JSON values, one a line; blank lines skipped, a line that does not parse is rejected.

    A byte order mark at the start of the file (some editors write one) is not part of line 1.
    """
    lines = iter(stream)
    first = next(lines, None)
    if first is None:
        return
    for number, raw in enumerate(itertools.chain((first.removeprefix(UTF8_BOM),), lines), start=1):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            # The record as text, each byte that is not UTF-8 as \xNN: what to find and fix.
            text = raw.decode("utf-8", "backslashreplace").rstrip("\r\n")
            yield Rejected(number, f"not UTF-8 ({exc.reason} at byte {exc.start})", text)
            continue
        stripped = text.strip()
        if not stripped:
            continue
        try:
            value = orjson.loads(stripped)
        except orjson.JSONDecodeError as exc:
            cut = "" if raw.endswith(b"\n") else " (the file ends in the middle of this line)"
            yield Rejected(number, f"not valid JSON: {exc}{cut}", stripped)
            continue
        yield Source(number, stripped, value)


class RedoBatch(Exception):
    """Raised by `land`: roll the batch back and land it again once; the importer knows to take
    its other path (orders: with the triggers, when a concurrent writer got in the way)."""


class ReadingLost(RuntimeError):
    """The reading process ended without a word (killed, out of memory): the import cannot go on."""


class Unusable(ValueError):
    """The input cannot be imported from at all (not one record's fault: a CSV header)."""


@dataclass
class Totals:
    """Running counts, as the progress display and the summary show them."""

    read: int = 0
    landed: int = 0
    written: int = 0
    rejected: int = 0
    committed_through: int = 0  # the last line of the last committed batch
    note: str = ""  # how the importer checks what it lands, when that depends on the database
    redone: int = 0  # batches landed a second time on the importer's other path


class Listener(Protocol):
    def rejected(self, item: Rejected) -> None: ...

    def committed(self, totals: Totals) -> None: ...


def run_import(
    sources: Iterable[Source | Rejected],
    importer: Importer[Any],
    *,
    batch_size: int,
    listener: Listener,
) -> Totals:
    """Parse and land every record; each batch in one transaction. Returns the counts."""
    with _few_collections():
        return _run(sources, importer, batch_size=batch_size, listener=listener)


@contextmanager
def _few_collections() -> Iterator[None]:
    # Decoded records are trees without cycles, freed by reference counting; the cyclic
    # collector's frequent passes over them cost a third of the parse (measured: docs/).
    threshold = gc.get_threshold()
    gc.set_threshold(100_000, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*threshold)


@dataclass
class _Chunk:
    """A batch as the reading side hands it over: parsed records, and what it read for them."""

    records: list[Any] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    read: int = 0
    last_line: int = 0

    def __reduce__(self) -> tuple[Any, ...]:
        # Sent as columns (one list per field of the records' dataclass, the source as its line
        # and text): pickling 5000 objects one by one cost ~8 µs a record, both sides.
        return (
            _chunk_from_columns,
            (_columns(self.records), self.rejected, self.read, self.last_line),
        )


def _columns(records: list[Any]) -> tuple[type, list[int], list[str], list[list[Any]]] | None:
    if not records:
        return None
    kind = type(records[0])
    names = [item.name for item in fields(kind)]
    assert names[0] == "source"  # `Parsed`; one importer's `parse` makes one kind of record
    return (
        kind,
        [record.source.line for record in records],
        [record.source.text for record in records],
        [[getattr(record, name) for record in records] for name in names[1:]],
    )


def _chunk_from_columns(
    columns: tuple[type, list[int], list[str], list[list[Any]]] | None,
    rejected: list[Rejected],
    read: int,
    last_line: int,
) -> _Chunk:
    records: list[Any] = []
    if columns is not None:
        kind, lines, texts, others = columns
        sources = [Source(line, text, None) for line, text in zip(lines, texts, strict=True)]
        records = list(map(kind, sources, *others))
    return _Chunk(records, rejected, read, last_line)


_END = object()


def _chunks(
    sources: Iterable[Source | Rejected], importer: Importer[Any], batch_size: int
) -> Iterator[_Chunk]:
    """Read and parse the input into batches (no database access: it runs in its own thread)."""
    chunk = _Chunk()
    for item in sources:
        chunk.read += 1
        chunk.last_line = item.line
        if isinstance(item, Rejected):
            chunk.rejected.append(item)
            continue
        try:
            chunk.records.append(importer.parse(item))
        except Invalid as exc:
            chunk.rejected.append(Rejected(item.line, str(exc), item.text))
            continue
        if len(chunk.records) >= batch_size:
            yield chunk
            chunk = _Chunk(last_line=chunk.last_line)
    if chunk.records or chunk.read:
        yield chunk


def _read_ahead(chunks: Iterator[_Chunk]) -> Iterator[_Chunk]:
    """The chunks, read and parsed by another process while the caller lands the previous one.

    Parsing is Python and merging is PostgreSQL: overlapped, each keeps a core busy. A thread
    would share the interpreter's lock with the landing one, which then waits for it after each
    statement (measured: the statements took 1.6 times as long; docs/import-export.md); a forked
    process does not. Where there is no fork, a thread does the same.
    """
    if not hasattr(os, "fork"):
        return _read_ahead_in_thread(chunks)
    # The thread receives from the child while the landing waits for PostgreSQL, so the child
    # never blocks on a full pipe and a batch arrives unpickled (docs/import-export.md).
    return _read_ahead_in_thread(_read_ahead_in_process(chunks))


def _read_ahead_in_process(chunks: Iterator[_Chunk]) -> Iterator[_Chunk]:
    """Chunks from a forked child through a pipe (its send blocks until this side has
    received the previous one; `_read_ahead` receives into a queue of two): memory stays flat."""
    receiver, sender = Pipe(duplex=False)
    # Forked here, in the calling (main) thread, not lazily in the thread that will receive:
    # the child inherits no lock another thread holds, and its PR_SET_PDEATHSIG follows the
    # main thread.
    pid = os.fork()
    if pid == 0:  # the child: parse, send, and leave without running the parent's cleanup
        try:
            receiver.close()
            _produce(chunks, sender)
        finally:
            os._exit(0)
    sender.close()
    return _received(receiver, pid)


def _received(receiver: Connection, pid: int) -> Iterator[_Chunk]:
    try:
        while True:
            try:
                kind, payload = receiver.recv()
            except EOFError:
                raise ReadingLost("the import's reading process ended unexpectedly") from None
            if kind == "end":
                return
            if kind == "error":
                raise payload
            yield payload
    finally:
        receiver.close()
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


def _produce(chunks: Iterator[_Chunk], sender: Connection) -> None:
    # Ctrl-C is the importing process's to handle (it then ends this one); and a parent killed
    # with -9 takes this one with it (Linux), instead of leaving it blocked on standard input.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    try:
        for chunk in chunks:
            sender.send(("chunk", chunk))
        sender.send(("end", None))
    except OSError:  # the importing process stopped reading: nothing left to do
        return
    except BaseException as exc:  # handed to the importing process, raised there
        try:
            sender.send(("error", exc))
        except Exception:  # not picklable: its traceback as text
            sender.send(("error", RuntimeError(traceback.format_exc())))
    finally:
        sender.close()


def _read_ahead_in_thread(chunks: Iterator[_Chunk]) -> Iterator[_Chunk]:
    """The chunks, parsed by a thread while the caller lands the previous one.

    The queue holds two chunks, so memory stays flat; the thread stops when the caller does.
    """
    handoff: queue.Queue[Any] = queue.Queue(maxsize=2)
    stop = threading.Event()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for chunk in chunks:
                if not put(chunk):
                    return
        except BaseException as exc:  # handed to the caller, raised there
            put(exc)
            return
        finally:
            # A reading process behind `chunks` is stopped here, in this thread, not at exit.
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        put(_END)

    reader = threading.Thread(target=produce, name="bulk-import-reader", daemon=True)
    reader.start()
    try:
        while (item := handoff.get()) is not _END:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        reader.join(timeout=1)  # a reader blocked on an idle stdin is a daemon: left behind


def _run(
    sources: Iterable[Source | Rejected],
    importer: Importer[Any],
    *,
    batch_size: int,
    listener: Listener,
) -> Totals:
    totals = Totals()
    importer.prepare()
    totals.note = importer.note
    try:
        return _batches(sources, importer, batch_size=batch_size, listener=listener, totals=totals)
    finally:
        # The server may be gone: then a later run drops what is left.
        with contextlib.suppress(DatabaseError):
            importer.finish()


def _batches(
    sources: Iterable[Source | Rejected],
    importer: Importer[Any],
    *,
    batch_size: int,
    listener: Listener,
    totals: Totals,
) -> Totals:

    def reject(item: Rejected) -> None:
        totals.rejected += 1
        listener.rejected(item)

    def attempt(chunk: _Chunk) -> Landed:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                # Foreign keys are DEFERRABLE INITIALLY DEFERRED: check them per statement, so a
                # refused record fails inside its savepoint instead of at COMMIT.
                with connection.cursor() as cursor:
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            importer.begin_batch()
            landed = _land_isolating(importer, chunk.records)
            importer.after_batch()
        return landed

    def commit(chunk: _Chunk) -> None:
        try:
            landed = attempt(chunk)
        except RedoBatch:
            totals.redone += 1
            landed = attempt(chunk)
        totals.landed += len(chunk.records) - len(landed.rejected)
        totals.written += landed.written
        totals.committed_through = chunk.last_line
        for item in landed.rejected:
            reject(item)
        listener.committed(totals)

    for chunk in _read_ahead(_chunks(sources, importer, batch_size)):
        totals.read += chunk.read
        for item in chunk.rejected:
            reject(item)
        if chunk.records or totals.committed_through < chunk.last_line:
            commit(chunk)
    return totals


def _land_isolating(importer: Importer[Any], batch: list[Any]) -> Landed:
    if not batch:
        return Landed()
    try:
        with transaction.atomic():
            return importer.land(batch)
    except DatabaseError as exc:
        if connection.needs_rollback:
            # Not this record's fault: the savepoint could not even be rolled back (the
            # connection is gone), so no half of the batch can land either.
            raise
        if len(batch) == 1:
            source = batch[0].source
            reason = f"the database refused it: {first_line(exc)}"
            return Landed(rejected=[Rejected(source.line, reason, source.text)])
        middle = len(batch) // 2
        first = _land_isolating(importer, batch[:middle])
        second = _land_isolating(importer, batch[middle:])
        return Landed(first.rejected + second.rejected, first.written + second.written)


def first_line(exc: BaseException) -> str:
    """An error's message, its first line only (a reason or a summary holds one line)."""
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
