"""The building blocks of a JSON shape: which keys an object has, in which order, from which
column, and as which JSON type.

Each app lists its objects' shapes in its `shape.py`; the Python renderer
(`platform_api.rendering`), the PostgreSQL renderer (`platform_api.sql_json`) and the OpenAPI
schema (`platform_api.schema`) all walk those lists, so the three cannot drift apart.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Kind(enum.Enum):
    INT = "integer"
    TEXT = "string"
    # `number(float)` in the published page: always written with a fraction (`42.0`, `19.99`).
    FLOAT = "number"
    # `integer(float)` in the published page: whole values as integers (`42`), cents kept (`19.99`).
    WHOLE_OR_FLOAT = "number-whole"
    # ISO 8601, UTC, to the second: `2025-05-04T09:42:00Z`.
    DATETIME = "date-time"
    BOOL = "boolean"


@dataclass(frozen=True)
class Column:
    """A key whose value is a column of the model the list describes."""

    key: str
    kind: Kind
    nullable: bool = False
    column: str = ""

    @property
    def source(self) -> str:
        return self.column or self.key


@dataclass(frozen=True)
class Computed:
    """A key each renderer computes (nested objects, `online`, totals)."""

    key: str


Shape = list[Column | Computed]


def columns(shape: Shape) -> list[Column]:
    """The keys of `shape` that are columns, in order."""
    return [item for item in shape if isinstance(item, Column)]
