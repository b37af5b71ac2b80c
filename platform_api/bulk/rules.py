"""The database's own rules, checked in Python before a record is staged.

Each rule is read from the model: the column's type, NULL, max_length, choices, decimal digits, and
the model's CheckConstraints (interpreted here for the lookups the models use). A record the
database would refuse is therefore rejected with a reason naming the key, instead of failing its
batch. The database still enforces everything: `batches.py` isolates a record it refuses anyway.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import cached_property
from typing import Any

from django.db import models
from django.db.models import Q


class Invalid(ValueError):
    """A value or record the database would refuse; the message says what to change."""


def _is_int(value: Any) -> bool:
    # Decoders give exact ints; `type() is` also leaves bool (an int subclass) out, cheaply.
    return type(value) is int


def _as_decimal(value: Any) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if _is_int(value):
        return Decimal(value)
    if isinstance(value, float):
        # repr is the shortest text that reads back as the same float: what the API wrote.
        return Decimal(repr(value))
    raise Invalid(f"expected a number, got {json_type(value)}")


def json_type(value: Any) -> str:
    """What a decoded value is, in JSON's words (null, a string, an object), for a reason."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float | Decimal):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def parse_datetime(value: Any) -> datetime:
    """An ISO 8601 date-time with its offset (the API writes `2025-05-04T09:42:00Z`)."""
    if not isinstance(value, str):
        raise Invalid(f"expected a date-time string, got {json_type(value)}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise Invalid(f"{value!r} is not an ISO 8601 date-time like 2025-05-04T09:42:00Z") from None
    if parsed.tzinfo is None:
        raise Invalid(f"{value!r} has no time zone: add Z (UTC) or an offset")
    try:
        # The database stores the instant in UTC: one past 9999 or before year 1 there would
        # land, and then no export or route could read the row back.
        parsed.astimezone(UTC)
    except OverflowError:
        raise Invalid(
            f"{value!r} is out of range: in UTC it must fall in the years 1 to 9999"
        ) from None
    return parsed


Cleaner = Callable[[Any], Any]


@dataclass(frozen=True)
class FieldRule:
    """What one column accepts, read from its model field; `clean` is compiled once."""

    name: str
    null: bool
    clean_type: Cleaner
    max_length: int | None = None
    choices: frozenset[Any] | None = None
    bounds: tuple[int, int] | None = None  # an integer column's range (for `fast.py`)
    digits: tuple[int, int] | None = None  # a decimal's (whole digits, places) (for `fast.py`)

    @cached_property
    def clean(self) -> Cleaner:
        """value -> the value as the column stores it, or Invalid saying why not."""
        null, clean_type, max_length, choices = (
            self.null,
            self.clean_type,
            self.max_length,
            self.choices,
        )

        def clean_bare(value: Any) -> Any:
            if value is None:
                if null:
                    return None
                raise Invalid("may not be null")
            return clean_type(value)

        if max_length is None and choices is None:
            return clean_bare  # most columns: the type check alone

        def clean(value: Any) -> Any:
            cleaned = clean_bare(value)
            if cleaned is None:
                return None
            if max_length is not None and len(cleaned) > max_length:
                raise Invalid(f"is {len(cleaned)} characters long, at most {max_length} allowed")
            if choices is not None and cleaned not in choices:
                allowed = ", ".join(str(choice) for choice in sorted(choices))
                raise Invalid(f"{cleaned!r} is not one of {allowed}")
            return cleaned

        return clean


def _clean_int(value: Any) -> int:
    if type(value) is not int:
        if isinstance(value, float):
            # The value itself says what is wrong: 12.0, 1.5, or 1e+30 (JSON decoders read an
            # integer past 64 bits as a float).
            raise Invalid(f"expected an integer, got {value!r}")
        raise Invalid(f"expected an integer, got {json_type(value)}")
    return value


def _clean_text(value: Any) -> str:
    if type(value) is not str:
        raise Invalid(f"expected a string, got {json_type(value)}")
    if "\x00" in value:
        raise Invalid("contains a NUL character, which the database cannot store")
    return value


def _clean_bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise Invalid(f"expected true or false, got {json_type(value)}")
    return value


def _decimal_cleaner(max_digits: int, decimal_places: int) -> Callable[[Any], Decimal]:
    whole_digits = max_digits - decimal_places
    limit = Decimal(10) ** whole_digits

    def clean(value: Any) -> Decimal:
        number = _as_decimal(value)
        if not number.is_finite():
            raise Invalid(f"{value!r} is not a finite number")
        exponent = number.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -decimal_places:
            try:
                number = number.quantize(Decimal(1).scaleb(-decimal_places))
            except InvalidOperation:
                raise Invalid(f"{value!r} is too large") from None
            if number != _as_decimal(value):
                raise Invalid(f"{value!r} has more than {decimal_places} decimal places")
        if abs(number) >= limit:
            raise Invalid(f"{value!r} is too large: at most {whole_digits} digits before the point")
        return number

    return clean


def _int_bounds(field: models.Field[Any, Any]) -> tuple[int, int]:
    # PostgreSQL's column widths (SQLite stores wider, but a row must load on both).
    if isinstance(field, models.BigIntegerField):
        return -(2**63), 2**63 - 1
    if isinstance(field, models.SmallIntegerField):
        return -32768, 32767
    return -(2**31), 2**31 - 1


def _int_cleaner(field: models.Field[Any, Any]) -> Callable[[Any], int]:
    low, high = _int_bounds(field)

    def clean(value: Any) -> int:
        number = _clean_int(value)
        if not low <= number <= high:
            raise Invalid(f"{number} is out of range ({low} to {high})")
        return number

    return clean


def field_rule(model: type[models.Model], name: str) -> FieldRule:
    """The rule for one field (by name or attname) of `model`."""
    field = model._meta.get_field(name)
    if isinstance(field, models.ForeignKey):
        field = field.target_field
        null = model._meta.get_field(name).null
    else:
        null = field.null
    clean_type: Callable[[Any], Any]
    if isinstance(field, models.BooleanField):
        clean_type = _clean_bool
    elif isinstance(field, models.DecimalField):
        assert field.max_digits is not None
        assert field.decimal_places is not None
        clean_type = _decimal_cleaner(field.max_digits, field.decimal_places)
    elif isinstance(field, models.IntegerField | models.AutoField | models.BigAutoField):
        clean_type = _int_cleaner(field)
    elif isinstance(field, models.DateTimeField):
        clean_type = parse_datetime
    elif isinstance(field, models.CharField | models.TextField):
        clean_type = _clean_text
    else:
        raise TypeError(f"no import rule for {type(field).__name__} {model.__name__}.{name}")
    max_length = getattr(field, "max_length", None) if clean_type is _clean_text else None
    choices = frozenset(value for value, _ in field.flatchoices) if field.choices else None
    bounds = _int_bounds(field) if isinstance(field, models.IntegerField) else None
    digits = (
        (field.max_digits - field.decimal_places, field.decimal_places)
        if isinstance(field, models.DecimalField)
        and field.max_digits is not None
        and field.decimal_places is not None
        else None
    )
    return FieldRule(
        name=name,
        null=null,
        clean_type=clean_type,
        max_length=max_length,
        choices=choices,
        bounds=bounds,
        digits=digits,
    )


_LOOKUPS: dict[str, Callable[[Any, Any], bool]] = {
    "exact": operator.eq,
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
    "in": lambda value, allowed: value in allowed,
}


Test = Callable[[Mapping[str, Any]], bool]


@dataclass(frozen=True)
class RowCheck:
    """A model's CheckConstraint as a Python test of a cleaned row (attname -> value)."""

    name: str
    attnames: frozenset[str]
    test: Test
    # When the condition is a plain AND of comparisons, (attname, lookup, value) of each: what
    # `fast.py` writes inline. None otherwise (then only `test` says).
    leaves: tuple[tuple[str, str, Any], ...] | None = None


def _leaf(model: type[models.Model], path: str, expected: Any) -> tuple[str, Test]:
    name, _, lookup = path.partition("__")
    attname = model._meta.get_field(name).attname  # type: ignore[union-attr]
    if lookup == "isnull":
        want_null = bool(expected)
        return attname, lambda row: (row[attname] is None) is want_null
    compare = _LOOKUPS.get(lookup or "exact")
    if compare is None:
        raise TypeError(f"no import rule for the lookup {path!r} of {model.__name__}")
    # SQL: a comparison with NULL is unknown, which a CHECK lets through.
    return attname, lambda row: row[attname] is None or compare(row[attname], expected)


def _compile_q(model: type[models.Model], q: Q) -> tuple[set[str], Test]:
    attnames: set[str] = set()
    parts: list[Test] = []
    for child in q.children:
        if isinstance(child, Q):
            names, part = _compile_q(model, child)
            attnames |= names
        else:
            path, expected = child  # type: ignore[misc]
            name, part = _leaf(model, path, expected)
            attnames.add(name)
        parts.append(part)
    is_and, negated = q.connector == Q.AND, q.negated

    def test(row: Mapping[str, Any]) -> bool:
        result = is_and
        for part in parts:
            if part(row) is not is_and:
                result = not is_and
                break
        return not result if negated else result

    return attnames, test


def _plain_leaves(model: type[models.Model], q: Q) -> tuple[tuple[str, str, Any], ...] | None:
    if q.negated or q.connector != Q.AND:
        return None
    leaves = []
    for child in q.children:
        if isinstance(child, Q):
            return None
        path, expected = child  # type: ignore[misc]
        name, _, lookup = path.partition("__")
        if (lookup or "exact") not in _LOOKUPS:
            return None
        attname = model._meta.get_field(name).attname  # type: ignore[union-attr]
        leaves.append((attname, lookup or "exact", expected))
    return tuple(leaves)


def row_checks(model: type[models.Model]) -> list[RowCheck]:
    """The model's CheckConstraints as Python tests."""
    checks = []
    for constraint in model._meta.constraints:
        if isinstance(constraint, models.CheckConstraint) and isinstance(constraint.condition, Q):
            attnames, test = _compile_q(model, constraint.condition)
            leaves = _plain_leaves(model, constraint.condition)
            checks.append(RowCheck(constraint.name, frozenset(attnames), test, leaves))
    return checks


class RowRules:
    """Clean a record's fields of one model and check the model's constraints."""

    def __init__(self, model: type[models.Model], names: Iterable[str]) -> None:
        self.model = model
        self.rules = {name: field_rule(model, name) for name in names}
        self.cleaners = {name: rule.clean for name, rule in self.rules.items()}
        # The checks this record can be held to: those on the columns it carries.
        self.checks = [check for check in row_checks(model) if check.attnames <= set(self.rules)]

    def check(self, row: Mapping[str, Any]) -> None:
        """Raise Invalid naming the first constraint the cleaned row breaks."""
        for check in self.checks:
            if not check.test(row):
                raise Invalid(f"breaks the rule {check.name}")
