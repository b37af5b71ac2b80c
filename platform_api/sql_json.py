"""JSON text built by PostgreSQL from a shape (`platform_api.shape`), byte for byte what the
Python renderer (`platform_api.rendering`) and orjson write.

Concatenated text rather than `json_build_object`/`json_agg`: those write `{"a" : 1, "b" : 2}`
and `[1, 2]` (with spaces), while orjson writes compact JSON. `to_json(text)` escapes strings
exactly as orjson does; numbers are written as the Python path writes them (see
`orders/sql_rendering.py` for the measured reasons and the limits).
"""

from __future__ import annotations

import re

import orjson
from django.db import models

from platform_api.shape import Computed, Kind, Shape

_IDENTIFIER_RE = re.compile(r"[a-z_][a-z0-9_]*")


def quote_name(name: str) -> str:
    """`name` as a quoted SQL identifier."""
    # Names come from the models; refusing anything else keeps the generated SQL obviously safe.
    if not _IDENTIFIER_RE.fullmatch(name):
        raise ValueError(f"unexpected SQL identifier: {name!r}")
    return f'"{name}"'


def sql_literal(text: str) -> str:
    """`text` as an SQL string literal, in a statement executed with `%s` parameters."""
    # `%` is doubled because the statement is executed with parameters (psycopg's `%s` style).
    return "'" + text.replace("'", "''").replace("%", "%%") + "'"


def json_value_sql(kind: Kind, expression: str) -> str:
    """SQL text for one JSON value of `kind`, written as orjson writes the Python path's value."""
    if kind in (Kind.INT, Kind.BOOL):
        return f"{expression}::text"  # booleans print as `true`/`false`
    if kind is Kind.TEXT:
        return f"to_json({expression})::text"
    if kind is Kind.FLOAT:
        # float(Decimal) then orjson: `42.0`, `19.9`, `0.01` — the shortest repr, with a fraction.
        return (
            f"CASE WHEN {expression} = trunc({expression}) THEN trunc({expression}, 1)::text "
            f"ELSE trim_scale({expression})::text END"
        )
    if kind is Kind.WHOLE_OR_FLOAT:
        return f"trim_scale({expression})::text"  # `42`, `19.99`
    if kind is Kind.DATETIME:
        # Truncated to the second, as `format_datetime` drops the microseconds.
        return (
            f"""'"' || to_char({expression} AT TIME ZONE 'UTC', """
            f"""'YYYY-MM-DD"T"HH24:MI:SS"Z"') || '"'"""
        )
    raise ValueError(f"no SQL for {kind}")


def json_object_sql(
    spec: Shape,
    model: type[models.Model],
    alias: str,
    computed: dict[str, str],
) -> str:
    """SQL text for one JSON object: keys in the shape's order, values per `Kind`."""
    unused = set(computed) - {item.key for item in spec if isinstance(item, Computed)}
    if unused:
        raise ValueError(f"SQL for keys the shape does not have: {sorted(unused)}")
    parts = []
    for index, item in enumerate(spec):
        parts.append(
            sql_literal(("{" if index == 0 else ",") + orjson.dumps(item.key).decode() + ":")
        )
        if isinstance(item, Computed):
            parts.append(computed[item.key])  # KeyError: a Computed key without SQL here
            continue
        field = model._meta.get_field(item.source)
        assert isinstance(field, models.Field)
        assert field.column
        value = json_value_sql(item.kind, f"{alias}.{quote_name(field.column)}")
        # A NULL anywhere in a `||` chain would blank the whole object, so nullable columns
        # become JSON null explicitly.
        parts.append(f"coalesce({value}, 'null')" if field.null else value)
    parts.append("'}'")
    return "(" + " || ".join(parts) + ")"


def table_sql(model: type[models.Model]) -> str:
    """The model's table, quoted."""
    return quote_name(model._meta.db_table)


def column_sql(model: type[models.Model], name: str) -> str:
    """The column of the model's field `name` (or "pk"), quoted."""
    field = model._meta.pk if name == "pk" else model._meta.get_field(name)
    assert isinstance(field, models.Field)
    assert field.column
    return quote_name(field.column)
