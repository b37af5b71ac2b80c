"""Importing ambassadors, in the API's shapes.

A line is an ambassador as `GET /platform/ambassadors/{id}` answers it (`ambassadors/shape.py`),
then the keys the orders route shows for a buyer that it lacks (`orders/shape.py`), then
`id_referrer` (the ambassador who referred this one, as `filter[id_referrer]` names it) and
`date_update` (kept as given). Computed keys (`full_name`, `online`) are accepted and ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connection

from ambassadors import shape as ambassador_shape
from ambassadors.models import Ambassador, Brand
from orders import shape as order_shape
from platform_api.bulk.batches import Landed, Rejected, Source
from platform_api.bulk.records import Keys, as_object, clean_row
from platform_api.bulk.rules import RowRules
from platform_api.bulk.staging import (
    LINE_NO,
    SeenIds,
    StagingTable,
    missing_references,
    quote,
    reset_sequences,
    upsert,
)
from platform_api.shape import Computed, Shape, columns


def _record_shape() -> Shape:
    known = {item.key for item in ambassador_shape.AMBASSADOR}
    return [
        *ambassador_shape.AMBASSADOR,
        *(item for item in order_shape.BUYER if item.key not in known),
    ]


RECORD: Shape = _record_shape()
EXTRA_KEYS = [("id_referrer", "referrer_id"), ("date_update", "date_update")]
KEYS = [(column.key, column.source) for column in columns(RECORD)] + EXTRA_KEYS
FIELDS = [attname for _, attname in KEYS]
COMPUTED = [item.key for item in RECORD if isinstance(item, Computed)]
OBJECT = Keys([key for key, _ in KEYS], optional=COMPUTED)


@dataclass(frozen=True)
class AmbassadorRecord:
    source: Source
    row: tuple[Any, ...]


class AmbassadorImporter:
    """Upsert ambassadors by `id_ambassador`; referrers must be known or earlier in the file."""

    note = ""

    def __init__(self) -> None:
        self.rules = RowRules(Ambassador, FIELDS)
        self.stage = StagingTable("bulk_stage_ambassador", Ambassador, FIELDS)
        self.seen = SeenIds()

    def prepare(self) -> None:
        with connection.cursor() as cursor:
            self.seen.create(cursor)

    def begin_batch(self) -> None:
        with connection.cursor() as cursor:
            self.stage.create(cursor)

    def finish(self) -> None:
        with connection.cursor() as cursor:
            self.seen.drop(cursor)

    def parse(self, source: Source) -> AmbassadorRecord:
        value = as_object(source.value, "an ambassador")
        OBJECT.check(value, "ambassador")
        row = clean_row(value, self.rules, KEYS, what="ambassador")
        return AmbassadorRecord(source, (source.line, *(row[name] for name in FIELDS)))

    def land(self, batch: list[AmbassadorRecord]) -> Landed:
        by_line = {record.source.line: record.source for record in batch}
        landed = Landed()

        def reject(rows: list[tuple[int, int]], why: str) -> None:
            landed.rejected.extend(
                Rejected(line, why.format(id=ref), by_line[line].text) for line, ref in rows
            )
            self.stage.delete_lines(cursor, [line for line, _ in rows])

        with connection.cursor() as cursor:
            self.stage.clear(cursor)
            self.stage.load(cursor, [record.row for record in batch])
            for line, ref, first in self.seen.duplicates(
                cursor, "ambassador", self.stage, "id_ambassador"
            ):
                reject(
                    [(line, ref)],
                    f"id_ambassador {{id}} is also on line {first}: one line per ambassador",
                )
            self.seen.remember(cursor, "ambassador", self.stage, "id_ambassador")
            reject(
                missing_references(cursor, self.stage, "brand_id", Brand),
                "id_brand {id}: no such brand (brands are created in the admin)",
            )
            # A referrer rejected above takes its referrals with it, and theirs: until stable.
            while rows := self._unknown_referrers(cursor):
                reject(rows, "id_referrer {id} is neither in the database nor earlier in the file")
            landed.written = len(upsert(cursor, self.stage))
        return landed

    def _unknown_referrers(self, cursor: Any) -> list[tuple[int, int]]:
        stage, table = quote(self.stage.name), quote(Ambassador._meta.db_table)
        line = quote(LINE_NO)
        cursor.execute(
            f"SELECT s.{line}, s.id_referrer FROM {stage} AS s WHERE s.id_referrer IS NOT NULL "
            f"AND NOT EXISTS (SELECT 1 FROM {table} AS t WHERE t.id_ambassador = s.id_referrer) "
            f"AND NOT EXISTS (SELECT 1 FROM {stage} AS e WHERE e.id_ambassador = s.id_referrer "
            f"AND e.{line} < s.{line})"
        )
        return [(row[0], row[1]) for row in cursor.fetchall()]

    def after_batch(self) -> None:
        with connection.cursor() as cursor:
            reset_sequences(cursor, [Ambassador])
