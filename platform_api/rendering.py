"""Objects as JSON-ready dicts, by walking their shape (`platform_api.shape`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from platform_api.shape import Column, Computed, Kind, Shape, columns


def format_datetime(value: datetime) -> str:
    """ISO 8601 in UTC to the second, as the published example writes it."""
    return value.astimezone(UTC).replace(microsecond=0, tzinfo=None).isoformat() + "Z"


def whole_or_float(value: Decimal) -> int | float:
    """`integer(float)` of the published pages: whole values as integers, others as floats."""
    return int(value) if value == value.to_integral_value() else float(value)


_CONVERT: dict[Kind, Callable[[Any], Any]] = {
    Kind.INT: int,
    Kind.TEXT: str,
    Kind.FLOAT: float,
    Kind.WHOLE_OR_FLOAT: whole_or_float,
    Kind.DATETIME: format_datetime,
    Kind.BOOL: bool,
}


def _value(column: Column, row: dict[str, Any], prefix: str) -> Any:
    value = row[prefix + column.source]
    if value is None:
        return None
    return _CONVERT[column.kind](value)


def render_object(
    spec: Shape,
    row: dict[str, Any],
    prefix: str,
    computed: dict[str, Any],
) -> dict[str, Any]:
    """The object `spec` describes, from `row`'s columns named `prefix + source`; `computed`
    holds the values of its Computed keys."""
    return {
        item.key: computed[item.key] if isinstance(item, Computed) else _value(item, row, prefix)
        for item in spec
    }


def values_names(spec: Shape, prefix: str = "") -> list[str]:
    """The `.values()` names `render_object(spec, row, prefix, ...)` reads."""
    return [prefix + column.source for column in columns(spec)]
