"""Querysets compiled to SQL once per process, then run with new parameter values.

Why: on the hot endpoint, Django's query compiler costs about as much CPU per query (0.15-0.8 ms
measured with bench/cpu_profile.py) as PostgreSQL needs to run it. Queries are built by the ORM
once, with sentinel values standing in for the parameters; each call swaps the sentinels for real
values. The ORM stays the only definition of each query: no SQL is written by hand here.

- `CompiledQuery`: a query whose shape never changes (the token lookup).
- `CompiledQueryFamily`: a query whose SQL depends on the *shape* of its arguments (which
  filters are present, how many values a list holds, the sort) but not on their values: one
  `CompiledQuery` per shape, the most recently used few hundred kept.

Compilation refuses a query whose sentinels do not all come back as parameters (a value inlined
into the SQL text could not be swapped), so a change in Django cannot silently freeze a value.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Hashable, Iterator, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.query import ModelIterable

# Values nobody stores, one per parameter: negative integers inside every integer column's range
# (Django drops a lookup whose value overflows the column), a marker string, and instants in
# year 1.
_INT_SENTINEL_BASE = -2_046_019_000
_TEXT_SENTINEL = "\x1fsentinel:{name}\x1f"

ParamType = type[int] | type[str] | type[datetime] | type[Decimal]
PARAM_TYPES: tuple[ParamType, ...] = (int, str, datetime, Decimal)


def _sentinel(kind: type, index: int, name: str) -> Any:
    if kind is int:
        return _INT_SENTINEL_BASE - index
    if kind is str:
        return _TEXT_SENTINEL.format(name=name)
    if kind is datetime:
        return datetime(1, 1, 1 + index // 1_000_000, microsecond=index % 1_000_000, tzinfo=UTC)
    if kind is Decimal:
        # Every backend binds decimals as they are; a fraction keeps it apart from the int ones.
        return Decimal(_INT_SENTINEL_BASE - index) - Decimal("0.25")
    raise TypeError(f"{name}: only int, str, datetime and Decimal parameters can be compiled")


# A slot is a parameter of the compiled SQL: (name of the value to put there, how Django adapted
# the sentinel), or None for a constant of the query.
_Slot = tuple[str, Callable[[Any], Any] | None] | None


@dataclasses.dataclass(frozen=True)
class _Compiled:
    sql: str
    slots: list[_Slot]
    constants: list[Any]
    # What the ORM does to a row of a model query: (position, converters, expression) per
    # converted column, then the model and its fields' attribute names in select order.
    converters: list[tuple[int, list[Callable[..., Any]], Any]]
    model: type[Model] | None
    field_names: list[str]


class CompiledQuery:
    """`build(**params)` compiled once per database alias; `bind` fills in the values."""

    def __init__(self, build: Callable[..., QuerySet[Any]], **param_types: type) -> None:
        self._build = build
        self._sentinels = {
            name: _sentinel(kind, index, name)
            for index, (name, kind) in enumerate(param_types.items())
        }
        self._compiled: dict[str, _Compiled] = {}

    def _compile(self, alias: str) -> _Compiled:
        compiled = self._compiled.get(alias)
        if compiled is None:
            queryset = self._build(**self._sentinels)
            compiler = queryset.query.get_compiler(using=alias)
            sql, params = compiler.as_sql()
            by_value: dict[Any, _Slot] = {}
            ops = connections[alias].ops
            for name, sentinel in self._sentinels.items():
                by_value[sentinel] = (name, None)
                if isinstance(sentinel, datetime):
                    # SQLite's backend turns instants into text before binding: the real values
                    # get the same treatment.
                    adapt = ops.adapt_datetimefield_value
                    by_value.setdefault(adapt(sentinel), (name, adapt))
            slots = [by_value.get(param) if _hashable(param) else None for param in params]
            missing = set(self._sentinels) - {slot[0] for slot in slots if slot}
            if missing:
                raise ValueError(f"parameters {sorted(missing)} were not bound by the query")
            converters = compiler.get_converters([column for column, _, _ in compiler.select])
            model, field_names = None, []
            if queryset._iterable_class is ModelIterable and compiler.klass_info is not None:
                model = compiler.klass_info["model"]
                field_names = [
                    compiler.select[position][0].target.attname
                    for position in compiler.klass_info["select_fields"]
                ]
            compiled = _Compiled(
                sql=sql,
                slots=slots,
                constants=list(params),
                converters=[(pos, convs, expr) for pos, (convs, expr) in converters.items()],
                model=model,
                field_names=field_names,
            )
            self._compiled[alias] = compiled
        return compiled

    def bind(self, alias: str, **values: Any) -> tuple[str, list[Any]]:
        """The SQL and its parameters for these values, ready for a cursor."""
        compiled = self._compile(alias)
        params = []
        for slot, constant in zip(compiled.slots, compiled.constants, strict=True):
            if slot is None:
                params.append(constant)
            else:
                name, adapt = slot
                params.append(values[name] if adapt is None else adapt(values[name]))
        return compiled.sql, params

    def fetchone(self, alias: str, **values: Any) -> Sequence[Any] | None:
        """Run the query; its first row, unconverted (fit for numbers, not for dates on SQLite)."""
        sql, params = self.bind(alias, **values)
        with connections[alias].cursor() as cursor:
            cursor.execute(sql, params)
            row: Sequence[Any] | None = cursor.fetchone()
        return row

    def first(self, alias: str, **values: Any) -> Any:
        """Run a query of model instances; its first row as the ORM would build it, or None.

        The ORM's own converters and `Model.from_db`, without a queryset around them.
        """
        compiled = self._compile(alias)
        if compiled.model is None:
            raise TypeError("first() needs a query of model instances; use fetchone()")
        row = self.fetchone(alias, **values)
        if row is None:
            return None
        connection = connections[alias]
        converted = list(row)
        for position, converters, expression in compiled.converters:
            value = converted[position]
            for converter in converters:
                value = converter(value, expression, connection)
            converted[position] = value
        return compiled.model.from_db(alias, compiled.field_names, converted)


class CompiledQueryFamily:
    """`build(key, values)` compiled once per `key` and per shape of `values`.

    `key` is any hashable the SQL depends on as a whole (a sort order, a flag). `values` is a
    tree of dicts, lists, tuples and dataclasses whose leaves are parameters (int, str,
    datetime, Decimal) or constants (None, bools): its *shape* keeps the containers, their keys and
    lengths, the constants and the parameters' types; the parameters' values are filled in
    per call.
    """

    def __init__(
        self, build: Callable[[Hashable, Any], QuerySet[Any]], *, maxsize: int = 256
    ) -> None:
        self._build = build
        # lru_cache is thread-safe, and bounds what unusual shapes (a list of 900 ids) can hold.
        self._query_for = lru_cache(maxsize=maxsize)(self._new_query)

    def _new_query(self, key: Hashable, shape: Hashable) -> CompiledQuery:
        kinds = list(_leaf_kinds(shape))
        names = [f"p{index}" for index in range(len(kinds))]

        def build(**params: Any) -> QuerySet[Any]:
            return self._build(key, _rebuild(shape, iter([params[name] for name in names])))

        return CompiledQuery(build, **dict(zip(names, kinds, strict=True)))

    def _query(self, key: Hashable, values: Any) -> tuple[CompiledQuery, dict[str, Any]]:
        """The compiled query of this key and shape, and the values of its parameters."""
        leaves: list[Any] = []
        query = self._query_for(key, _shape(values, leaves))
        return query, {f"p{index}": leaf for index, leaf in enumerate(leaves)}

    def bind(self, alias: str, *, key: Hashable, values: Any) -> tuple[str, list[Any]]:
        """The SQL and its parameters for `build(key, values)`."""
        query, params = self._query(key, values)
        return query.bind(alias, **params)

    def fetchone(self, alias: str, *, key: Hashable, values: Any) -> Sequence[Any] | None:
        """Run `build(key, values)`; its first row, unconverted (see `CompiledQuery.fetchone`)."""
        query, params = self._query(key, values)
        return query.fetchone(alias, **params)


def _shape(value: Any, leaves: list[Any]) -> Hashable:
    """`value`'s shape; its parameters are appended to `leaves`, in the shape's order."""
    if value is None or isinstance(value, bool):
        return ("const", value)
    if isinstance(value, PARAM_TYPES):
        leaves.append(value)
        return ("param", next(kind for kind in PARAM_TYPES if isinstance(value, kind)))
    if isinstance(value, list | tuple):
        return (type(value), tuple(_shape(item, leaves) for item in value))
    if isinstance(value, dict):
        return (dict, tuple((key, _shape(item, leaves)) for key, item in value.items()))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = dataclasses.fields(value)
        return (
            type(value),
            tuple((field.name, _shape(getattr(value, field.name), leaves)) for field in fields),
        )
    raise TypeError(f"cannot compile a parameter of type {type(value).__name__}")


def _leaf_kinds(shape: Any) -> Iterator[type]:
    tag, content = shape
    if tag == "param":
        yield content
    elif tag in (list, tuple):
        for item in content:
            yield from _leaf_kinds(item)
    elif tag != "const":  # dict or dataclass: (name, shape) pairs
        for _, item in content:
            yield from _leaf_kinds(item)


def _rebuild(shape: Any, leaves: Iterator[Any]) -> Any:
    tag, content = shape
    if tag == "const":
        return content
    if tag == "param":
        return next(leaves)
    if tag in (list, tuple):
        return tag(_rebuild(item, leaves) for item in content)
    if tag is dict:
        return {name: _rebuild(item, leaves) for name, item in content}
    return tag(**{name: _rebuild(item, leaves) for name, item in content})


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True
