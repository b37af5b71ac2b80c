"""Querysets compiled to SQL once per process, then run with new parameter values.

Why: on the hot endpoint, Django's query compiler costs about as much CPU per query (0.5-1.2 ms
measured on the benchmark machine) as PostgreSQL needs to run it. Queries whose shape never
changes (the token lookup, the ambassador check with its count) are built by the ORM once, with
sentinel values standing in for the parameters; each call swaps the sentinels for real values.
The ORM stays the only definition of each query: no SQL is written by hand here.

Compilation refuses a query whose sentinels do not all come back as parameters (a value inlined
into the SQL text could not be swapped), so a change in Django cannot silently freeze a value.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.db import connections
from django.db.models import QuerySet

# Values nobody stores: large negative integers and a marker string, one per parameter name.
_INT_SENTINEL_BASE = -7_346_019_000_000
_TEXT_SENTINEL = "\x1fsentinel:{name}\x1f"


class CompiledQuery:
    """`build(**params)` compiled once per database alias; `execute` runs it with values."""

    def __init__(self, build: Callable[..., QuerySet[Any]], **param_types: type) -> None:
        self._build = build
        self._sentinels: dict[str, Any] = {}
        for index, (name, kind) in enumerate(param_types.items()):
            if kind is int:
                self._sentinels[name] = _INT_SENTINEL_BASE - index
            elif kind is str:
                self._sentinels[name] = _TEXT_SENTINEL.format(name=name)
            else:
                raise TypeError(f"{name}: only int and str parameters can be compiled")
        self._compiled: dict[str, tuple[str, list[str | None], list[Any]]] = {}

    def _compile(self, alias: str) -> tuple[str, list[str | None], list[Any]]:
        compiled = self._compiled.get(alias)
        if compiled is None:
            queryset = self._build(**self._sentinels)
            sql, params = queryset.query.get_compiler(using=alias).as_sql()
            by_value = {value: name for name, value in self._sentinels.items()}
            # Each parameter is either a sentinel (filled per call) or a constant of the query.
            slots = [by_value.get(param) if _hashable(param) else None for param in params]
            missing = set(self._sentinels) - {slot for slot in slots if slot}
            if missing:
                raise ValueError(f"parameters {sorted(missing)} were not bound by the query")
            compiled = (sql, slots, list(params))
            self._compiled[alias] = compiled
        return compiled

    def bind(self, alias: str, **values: Any) -> tuple[str, list[Any]]:
        """The SQL and its parameters for these values, ready for a cursor or `.raw()`."""
        sql, slots, constants = self._compile(alias)
        params = [
            values[slot] if slot is not None else constant
            for slot, constant in zip(slots, constants, strict=True)
        ]
        return sql, params

    def fetchone(self, alias: str, **values: Any) -> Sequence[Any] | None:
        """Run the query; its first row, unconverted (fit for numbers, not for dates on SQLite)."""
        sql, params = self.bind(alias, **values)
        with connections[alias].cursor() as cursor:
            cursor.execute(sql, params)
            row: Sequence[Any] | None = cursor.fetchone()
        return row


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True
