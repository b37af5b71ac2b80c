"""Temporary staging tables and the set-based statements that merge them into the real tables.

On PostgreSQL a batch reaches its staging table through `COPY … FROM STDIN` (psycopg 3's
`cursor.copy`); on SQLite through one `executemany`. Everything after that is SQL over whole
batches: reference checks, duplicate checks, upserts that skip unchanged rows.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.management.color import no_style
from django.db import connection, models
from django.db.backends.utils import CursorWrapper

LINE_NO = "line_no"
ON_COMMIT_DROP = " ON COMMIT DROP"
STALE_SEEN_SECONDS = 86_400  # a run older than this is dead: its seen-ids table goes
BIGINT_MIN, BIGINT_MAX = -(2**63), 2**63 - 1


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


def quote(name: str) -> str:
    return connection.ops.quote_name(name)


def column(model: type[models.Model], name: str) -> str:
    """The database column of a field given by name or attname."""
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field)
    assert field.column is not None
    return field.column


@dataclass(frozen=True)
class StagingTable:
    """A session-private table shaped like some of a model's columns, plus extra integer columns."""

    name: str
    model: type[models.Model]
    fields: Sequence[str]  # model field names or attnames, in row order after `extra`
    extra: Sequence[str] = (LINE_NO,)
    serial: str | None = None  # PostgreSQL: an identity column numbering rows as loaded

    @property
    def columns(self) -> list[str]:
        return [*self.extra, *(column(self.model, name) for name in self.fields)]

    def create(self, cursor: CursorWrapper) -> None:
        """Create the table, empty, inside the batch's transaction, which drops it.

        Dropped at COMMIT on PostgreSQL, so an import needs no session state between batches and
        works through a transaction pooler (PgBouncer's transaction mode) too.
        """
        definitions = [f"{quote(name)} integer NOT NULL" for name in self.extra]
        for name in self.fields:
            field = self.model._meta.get_field(name)
            db_type = (
                field.target_field.rel_db_type(connection)
                if isinstance(field, models.ForeignKey)
                else field.rel_db_type(connection)
                if isinstance(field, models.AutoField | models.BigAutoField)
                else field.db_type(connection)
            )
            definitions.append(f"{quote(column(self.model, name))} {db_type}")
        if self.serial is not None:
            definitions.append(f"{quote(self.serial)} bigint GENERATED ALWAYS AS IDENTITY")
        cursor.execute(f"DROP TABLE IF EXISTS {quote(self.name)}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {quote(self.name)} ({', '.join(definitions)}){ON_COMMIT_DROP}"
            if is_postgresql()
            else f"CREATE TEMPORARY TABLE {quote(self.name)} ({', '.join(definitions)})"
        )

    def clear(self, cursor: CursorWrapper) -> None:
        cursor.execute(f"DELETE FROM {quote(self.name)}")

    def load(self, cursor: CursorWrapper, rows: Iterable[Sequence[Any]]) -> None:
        """Append rows (values in `columns` order)."""
        names = ", ".join(quote(name) for name in self.columns)
        if is_postgresql():
            raw = cursor.cursor  # the psycopg cursor under Django's wrapper
            with raw.copy(f"COPY {quote(self.name)} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(self.columns))
            adapt = self._sqlite_adapters()
            cursor.executemany(
                f"INSERT INTO {quote(self.name)} ({names}) VALUES ({marks})",
                [
                    tuple(
                        a(v) if a and v is not None else v for a, v in zip(adapt, row, strict=True)
                    )
                    for row in rows
                ],
            )

    def load_text(self, cursor: CursorWrapper, text: str) -> None:
        """Append rows given as COPY text (PostgreSQL), one `write` for the whole batch."""
        copy_text(cursor, self.name, self.columns, text)

    def _sqlite_adapters(self) -> list[Callable[[Any], Any] | None]:
        # Stored as the ORM stores them, so that the merge's comparisons and the API see the same
        # text: datetimes in UTC without offset, decimals as the backend writes them.
        ops = connection.ops
        adapters: list[Callable[[Any], Any] | None] = [None] * len(self.extra)
        for name in self.fields:
            field = self.model._meta.get_field(name)
            if isinstance(field, models.DateTimeField):
                adapters.append(ops.adapt_datetimefield_value)
            elif isinstance(field, models.DecimalField):
                adapters.append(_decimal_adapter(field))
            else:
                adapters.append(None)
        return adapters

    def delete_lines(self, cursor: CursorWrapper, line_numbers: Iterable[int]) -> None:
        """Drop the rows of rejected records."""
        numbers = sorted(set(line_numbers))
        if numbers:
            marks = ", ".join(["%s"] * len(numbers))
            cursor.execute(
                f"DELETE FROM {quote(self.name)} WHERE {quote(LINE_NO)} IN ({marks})", numbers
            )


def id_array(ids: Iterable[int]) -> str:
    """A `%s::bigint[]` parameter as its text: psycopg's dumping of a list took ~7 ms per 5000
    ids, most of a batch's Python time in the importing process."""
    return "{" + ",".join(map(str, ids)) + "}"


def copy_text(cursor: CursorWrapper, table: str, columns: Sequence[str], text: str) -> None:
    """`COPY table (columns) FROM STDIN` of rows given as COPY text (PostgreSQL), one `write`.

    psycopg's own errors, as Django's (`IntegrityError` for a constraint): `cursor.copy` is
    psycopg's cursor, which Django's wrapper does not translate, and `batches.py` isolates a
    refused record by catching Django's `DatabaseError`.
    """
    names = ", ".join(quote(name) for name in columns)
    statement = f"COPY {quote(table)} ({names}) FROM STDIN"
    with connection.wrap_database_errors, cursor.cursor.copy(statement) as copy:
        copy.write(text.encode())


def _decimal_adapter(field: models.DecimalField[Any, Any]) -> Callable[[Any], Any]:
    ops = connection.ops
    return lambda value: ops.adapt_decimalfield_value(value, field.max_digits, field.decimal_places)


def distinct_from(left: str, right: str, columns: Sequence[str]) -> str:
    """SQL: some of `columns` differ between the rows aliased `left` and `right` (NULL-safe)."""
    if is_postgresql():
        lhs = ", ".join(f"{left}.{quote(c)}" for c in columns)
        rhs = ", ".join(f"{right}.{quote(c)}" for c in columns)
        return f"({lhs}) IS DISTINCT FROM ({rhs})"
    return " OR ".join(f"{left}.{quote(c)} IS NOT {right}.{quote(c)}" for c in columns)


def upsert_sql(stage: StagingTable) -> str:
    """SQL: insert the staged rows, update those that differ, leave equal ones untouched.

    `date_update` and every other column are written as staged: nothing is stamped here.
    """
    model = stage.model
    table = quote(model._meta.db_table)
    pk = column(model, model._meta.pk.name)
    targets = [column(model, name) for name in stage.fields]
    names = ", ".join(quote(c) for c in targets)
    changing = [c for c in targets if c != pk]
    assignments = ", ".join(f"{quote(c)} = excluded.{quote(c)}" for c in changing)
    # SQLite needs a WHERE in INSERT … SELECT … ON CONFLICT to parse the upsert.
    return (
        f"INSERT INTO {table} ({names}) SELECT {names} FROM {quote(stage.name)} WHERE true "
        f"ON CONFLICT ({quote(pk)}) DO UPDATE SET {assignments} "
        f"WHERE {distinct_from(table, 'excluded', changing)}"
    )


def upsert(cursor: CursorWrapper, stage: StagingTable) -> set[int]:
    """`upsert_sql`; the ids of the rows written."""
    pk = column(stage.model, stage.model._meta.pk.name)
    cursor.execute(f"{upsert_sql(stage)} RETURNING {quote(pk)}")
    return {row[0] for row in cursor.fetchall()}


def missing_references(
    cursor: CursorWrapper, stage: StagingTable, column_name: str, target: type[models.Model]
) -> list[tuple[int, int]]:
    """(line number, id) of staged rows whose `column_name` names no row of `target`."""
    target_pk = column(target, target._meta.pk.name)
    cursor.execute(
        f"SELECT s.{quote(LINE_NO)}, s.{quote(column_name)} FROM {quote(stage.name)} AS s "
        f"WHERE s.{quote(column_name)} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "
        f"{quote(target._meta.db_table)} AS t WHERE t.{quote(target_pk)} = s.{quote(column_name)})"
    )
    return [(line, ref) for line, ref in cursor.fetchall()]


def reset_sequences(cursor: CursorWrapper, models_: Sequence[type[models.Model]]) -> None:
    """Move PostgreSQL's id sequences past the imported ids (SQLite needs nothing)."""
    for statement in connection.ops.sequence_reset_sql(no_style(), list(models_)):
        cursor.execute(statement)


class SeenIds:
    """The ids already landed by this run, per kind, for the duplicate-in-one-file check.

    Kept in a table, not in Python, so that memory stays flat whatever the file size; inserted
    in the batch's transaction, so a batch that rolls back takes its ids with it. On PostgreSQL
    an UNLOGGED table of its own per run (not a temporary one: through a transaction pooler
    the next batch may run in another session), dropped when the run ends; one left behind by a
    killed run is dropped by a later run after a day. On SQLite a temporary table.
    """

    prefix = "bulk_seen_"

    def __init__(self) -> None:
        self.table = "bulk_seen_ids"
        # kind -> (lowest, highest) id added so far, or every id when unknown: ids outside
        # need no look-up (a file in id order needs none). Rolled-back batches only widen it.
        self._bounds: dict[str, tuple[int, int]] = {}

    def create(self, cursor: CursorWrapper) -> None:
        self._bounds = {}
        columns = (
            f"kind varchar(32) NOT NULL, id bigint NOT NULL, {quote(LINE_NO)} integer NOT NULL, "
            f"PRIMARY KEY (kind, id)"
        )
        if not is_postgresql():
            cursor.execute(f"DROP TABLE IF EXISTS {quote(self.table)}")
            cursor.execute(f"CREATE TEMPORARY TABLE {quote(self.table)} ({columns})")
            return
        now = int(time.time())
        cursor.execute(
            "SELECT relname FROM pg_class WHERE relkind = 'r' AND relnamespace = "
            "current_schema()::regnamespace AND relname LIKE %s",
            [f"{self.prefix}%"],
        )
        for (name,) in cursor.fetchall():
            stamp = name.removeprefix(self.prefix).split("_")[0]
            if stamp.isdigit() and int(stamp) < now - STALE_SEEN_SECONDS:
                cursor.execute(f"DROP TABLE IF EXISTS {quote(name)}")
        self.table = f"{self.prefix}{now}_{secrets.token_hex(4)}"
        cursor.execute(f"CREATE UNLOGGED TABLE {quote(self.table)} ({columns})")

    def drop(self, cursor: CursorWrapper) -> None:
        cursor.execute(f"DROP TABLE IF EXISTS {quote(self.table)}")

    def duplicates(
        self, cursor: CursorWrapper, kind: str, stage: StagingTable, id_column: str
    ) -> list[tuple[int, int, int]]:
        """(line, id, earlier line) of staged rows whose id came earlier: in the file or batch."""
        ident = quote(id_column)
        line = quote(LINE_NO)
        cursor.execute(
            f"SELECT s.{line}, s.{ident}, seen.{line} FROM {quote(stage.name)} AS s "
            f"JOIN {quote(self.table)} AS seen ON seen.kind = %s AND seen.id = s.{ident} "
            f"UNION ALL "
            f"SELECT s.{line}, s.{ident}, first.{line} FROM {quote(stage.name)} AS s "
            f"JOIN {quote(stage.name)} AS first ON first.{ident} = s.{ident} "
            f"AND first.{line} < s.{line} "
            f"AND NOT EXISTS (SELECT 1 FROM {quote(stage.name)} AS earlier "
            f"WHERE earlier.{ident} = s.{ident} AND earlier.{line} < first.{line})",
            [kind],
        )
        found: dict[int, tuple[int, int, int]] = {}
        for row in cursor.fetchall():
            found.setdefault(row[0], (row[0], row[1], row[2]))
        return sorted(found.values())

    def earlier(self, cursor: CursorWrapper, kind: str, ids: Sequence[int]) -> dict[int, int]:
        """{id: line} of those of `ids` that earlier batches of this run added."""
        if kind not in self._bounds:
            return {}
        low, high = self._bounds[kind]
        candidates = [ident for ident in ids if low <= ident <= high]
        if not candidates:
            return {}
        cursor.execute(
            f"SELECT id, {quote(LINE_NO)} FROM {quote(self.table)} "
            f"WHERE kind = %s AND id = ANY(%s::bigint[])",
            [kind, id_array(candidates)],
        )
        return dict(cursor.fetchall())

    def add(self, cursor: CursorWrapper, kind: str, pairs: Sequence[tuple[int, int]]) -> None:
        """Remember (id, line) pairs (PostgreSQL: one COPY)."""
        if not pairs:
            return
        copy_text(
            cursor,
            self.table,
            ["kind", "id", LINE_NO],
            "".join(f"{kind}\t{ident}\t{line}\n" for ident, line in pairs),
        )
        low, high = self._bounds.get(kind, (BIGINT_MAX, BIGINT_MIN))
        ids = [ident for ident, _ in pairs]
        self._bounds[kind] = (min(low, *ids), max(high, *ids))

    def remember(
        self, cursor: CursorWrapper, kind: str, stage: StagingTable, id_column: str
    ) -> None:
        self._bounds[kind] = (BIGINT_MIN, BIGINT_MAX)  # ids not seen here: `earlier` looks all up
        cursor.execute(
            f"INSERT INTO {quote(self.table)} (kind, id, {quote(LINE_NO)}) "
            f"SELECT %s, {quote(id_column)}, {quote(LINE_NO)} FROM {quote(stage.name)}",
            [kind],
        )
