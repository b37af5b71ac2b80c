"""Keyset pagination over the orders' sort: cursor values in and out, and the WHERE of a page.

A cursor holds the sort keys of the item it points from, named after the columns (as Laravel's
cursor paginator names them). Values are written as Eloquent would hand them over: integers,
decimals as strings with their two places (`"19.90"`), date-times as `Y-m-d H:i:s` in UTC. Laravel
drops microseconds there; the columns keep them, so a cursor keeps them too (`.uuuuuu`, only when
not zero), or rows sharing a second would repeat or vanish between pages.

The condition is Laravel's (`BuildsQueries::paginateUsingCursor`): for keys k1..kn,
`k1 > v1 OR (k1 = v1 AND (k2 > v2 OR ...))`, `<` for descending keys and all flipped to read
backwards; plus the redundant bound `k1 >= v1`, which lets PostgreSQL start the index range scan
at the cursor instead of filtering from the index's first entry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.db.models import Q

from orders.models import Order
from platform_api.cursor_pagination import Cursor

_INT64_MAX = 2**63 - 1
_DATETIME_RE = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{6})?")
_DECIMAL_RE = re.compile(r"-?\d{1,10}\.\d{2}")


@dataclass(frozen=True)
class KeysetPosition:
    """Where a cursor page starts: the sort keys' values of an item, and the direction to read
    from it (`forward`: the items after it in the sort; otherwise the items before it)."""

    values: tuple[Any, ...]
    forward: bool


def sort_fields(ordering: tuple[str, ...]) -> list[str]:
    """The ordering's field names, without direction: the cursor's parameter names."""
    return [name.removeprefix("-") for name in ordering]


def fetch_ordering(ordering: tuple[str, ...], position: KeysetPosition | None) -> tuple[str, ...]:
    """The order to read rows in: the sort itself, or every key reversed to read backwards."""
    if position is None or position.forward:
        return ordering
    return reversed_ordering(ordering)


def reversed_ordering(ordering: tuple[str, ...]) -> tuple[str, ...]:
    """Every key's direction flipped: the exact reverse of a total order (the sort ends with
    the unique id, and no key is nullable or given a NULLS clause)."""
    return tuple(name[1:] if name.startswith("-") else f"-{name}" for name in ordering)


def keyset_filter(ordering: tuple[str, ...], position: KeysetPosition) -> Q:
    """The rows strictly past `position` in the reading direction, ties broken key by key."""
    keys = [
        (name.removeprefix("-"), name.startswith("-") != (not position.forward))
        for name in ordering
    ]
    condition: Q | None = None
    for (field, descending), value in reversed(list(zip(keys, position.values, strict=True))):
        past = Q(**{f"{field}__{'lt' if descending else 'gt'}": value})
        condition = past if condition is None else past | (Q(**{field: value}) & condition)
    assert condition is not None  # an ordering always holds the tie-breaker
    first_field, first_descending = keys[0]
    bound = Q(**{f"{first_field}__{'lte' if first_descending else 'gte'}": position.values[0]})
    return bound & condition


def cursor_parameters(ordering: tuple[str, ...], values: tuple[Any, ...]) -> dict[str, Any]:
    """An item's sort keys as its cursor writes them, keyed by column name."""
    return {
        field: _cursor_value(value)
        for field, value in zip(sort_fields(ordering), values, strict=True)
    }


def position_from_cursor(ordering: tuple[str, ...], cursor: Cursor | None) -> KeysetPosition | None:
    """The position a decoded cursor points at for this sort, or None (the first page) when it
    lacks a key of the sort or holds a value that the column could not hold."""
    if cursor is None:
        return None
    values = []
    for field in sort_fields(ordering):
        if field not in cursor.parameters:
            return None
        value = _column_value(field, cursor.parameters[field])
        if value is None:
            return None
        values.append(value)
    return KeysetPosition(values=tuple(values), forward=cursor.points_to_next_items)


def _cursor_value(value: Any) -> Any:
    if isinstance(value, datetime):
        moment = value.astimezone(UTC)
        text = moment.strftime("%Y-%m-%d %H:%M:%S")
        return f"{text}.{moment.microsecond:06d}" if moment.microsecond else text
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return value


def _column_value(field: str, value: Any) -> Any:
    """The cursor's `value` as a value of the column `field`, or None if it cannot be one."""
    model_field = Order._meta.get_field(field)
    internal = model_field.get_internal_type()
    if internal == "BigAutoField":
        if type(value) is int and 1 <= value <= _INT64_MAX:
            return value
        return None
    if not isinstance(value, str):
        return None
    if internal == "DateTimeField":
        if not _DATETIME_RE.fullmatch(value):
            return None
        try:
            return datetime.fromisoformat(value).replace(tzinfo=UTC)
        except ValueError:  # 2024-02-30 and the like
            return None
    if internal == "DecimalField":
        return Decimal(value) if _DECIMAL_RE.fullmatch(value) else None
    raise ValueError(f"no cursor value for the sort field {field}")  # a new sort without a case
