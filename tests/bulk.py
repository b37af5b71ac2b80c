"""Helpers for the bulk import tests: records in the API's shapes, and running an import."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from platform_api.bulk.batches import Rejected, Totals, read_json_lines


@dataclass
class Recorder:
    """A listener that keeps what an import reported."""

    rejects: list[Rejected] = field(default_factory=list)
    commits: list[Totals] = field(default_factory=list)

    def rejected(self, item: Rejected) -> None:
        self.rejects.append(item)

    def committed(self, totals: Totals) -> None:
        self.commits.append(Totals(**vars(totals)))

    @property
    def reasons(self) -> dict[int, str]:
        return {item.line: item.reason for item in self.rejects}


def json_lines(records: Iterable[Any]) -> bytes:
    return b"".join(
        (record if isinstance(record, bytes) else orjson.dumps(record)) + b"\n"
        for record in records
    )


def run_import(
    service: Callable[..., Totals], records: Iterable[Any] | bytes, *, batch_size: int = 100
) -> tuple[Totals, Recorder]:
    """Import JSON Lines (records or bytes) through a service; its totals and reports."""
    data = records if isinstance(records, bytes) else json_lines(records)
    recorder = Recorder()
    totals = service(
        sources=read_json_lines(io.BytesIO(data)), batch_size=batch_size, listener=recorder
    )
    return totals, recorder
