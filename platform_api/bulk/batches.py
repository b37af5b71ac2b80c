"""Reading records, and landing them in batches that each commit or roll back whole.

The loop is the same for every entity: read a record (JSON Lines, or rows an entity's CSV reader
groups), let the entity parse and validate it, and hand full batches to the entity's `land`, which
stages and merges them set-based. A batch the database refuses anyway (a rule Python did not
know) is split in halves until the records it refuses are alone; they are rejected with the
database's message and the rest of the batch lands.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, Any, Generic, Protocol, TypeVar

import orjson
from django.db import DatabaseError, connection, transaction

from platform_api.bulk.rules import Invalid
from platform_api.pooler import pooler_mode


@dataclass(frozen=True)
class Source:
    """One record as read: where it starts in the file, its text, and its decoded value."""

    line: int
    text: str
    value: Any


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
        """Create the session's staging tables; runs once, outside any transaction."""

    def parse(self, source: Source) -> P:
        """The record validated and converted to rows, or Invalid with a reason."""

    def land(self, batch: list[P]) -> Landed:
        """Stage, check references and duplicates, merge; inside the batch's transaction."""

    def after_batch(self) -> None:
        """Work each committed batch needs (id sequences), inside its transaction."""


def read_json_lines(stream: IO[bytes]) -> Iterator[Source | Rejected]:
    """JSON values, one a line; blank lines skipped, a line that does not parse is rejected."""
    for number, raw in enumerate(stream, start=1):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield Rejected(number, f"not UTF-8 ({exc.reason} at byte {exc.start})", repr(raw))
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


class Unusable(ValueError):
    """The input or the connection cannot be imported from at all (not one record's fault)."""


class SessionNeeded(Unusable):
    """The connection cannot keep session state (temporary tables) across transactions."""


@dataclass
class Totals:
    """Running counts, as the progress display and the summary show them."""

    read: int = 0
    landed: int = 0
    written: int = 0
    rejected: int = 0
    committed_through: int = 0  # the last line of the last committed batch


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
    if pooler_mode().multiplexed:
        raise SessionNeeded(
            "an import keeps its staging tables in the database session, which a transaction "
            "pooler does not keep: point DATABASE_URL at PostgreSQL itself (or a session pooler)"
        )
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


def _run(
    sources: Iterable[Source | Rejected],
    importer: Importer[Any],
    *,
    batch_size: int,
    listener: Listener,
) -> Totals:
    totals = Totals()
    importer.prepare()
    batch: list[Any] = []
    last_line = 0

    def reject(item: Rejected) -> None:
        totals.rejected += 1
        listener.rejected(item)

    def commit() -> None:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                # Foreign keys are DEFERRABLE INITIALLY DEFERRED: check them per statement, so a
                # refused record fails inside its savepoint instead of at COMMIT.
                with connection.cursor() as cursor:
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            landed = _land_isolating(importer, batch)
            importer.after_batch()
        totals.landed += len(batch) - len(landed.rejected)
        totals.written += landed.written
        totals.committed_through = last_line
        for item in landed.rejected:
            reject(item)
        listener.committed(totals)

    for item in sources:
        totals.read += 1
        last_line = item.line
        if isinstance(item, Rejected):
            reject(item)
            continue
        try:
            batch.append(importer.parse(item))
        except Invalid as exc:
            reject(Rejected(item.line, str(exc), item.text))
            continue
        if len(batch) >= batch_size:
            commit()
            batch = []
    if batch or totals.committed_through < last_line:
        commit()
    return totals


def _land_isolating(importer: Importer[Any], batch: list[Any]) -> Landed:
    if not batch:
        return Landed()
    try:
        with transaction.atomic():
            return importer.land(batch)
    except DatabaseError as exc:
        if len(batch) == 1:
            source = batch[0].source
            reason = f"the database refused it: {_first_line(exc)}"
            return Landed(rejected=[Rejected(source.line, reason, source.text)])
        middle = len(batch) // 2
        first = _land_isolating(importer, batch[:middle])
        second = _land_isolating(importer, batch[middle:])
        return Landed(first.rejected + second.rejected, first.written + second.written)


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
