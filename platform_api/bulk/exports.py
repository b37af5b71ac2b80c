"""What every export shares: one consistent snapshot, JSON Lines out."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import IO, Any

import orjson
from django.db import connection, transaction


@contextmanager
def consistent_snapshot() -> Iterator[None]:
    """One transaction; on PostgreSQL REPEATABLE READ READ ONLY, so every chunk sees one moment.

    Inside a caller's transaction (tests), that transaction's own snapshot rules apply.
    """
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield


def write_json_lines(out: IO[bytes], records: Iterable[dict[str, Any]]) -> int:
    """One compact JSON object a line; the number written."""
    count = 0
    for record in records:
        out.write(orjson.dumps(record) + b"\n")
        count += 1
    return count
