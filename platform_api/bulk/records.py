"""Checking one decoded record against the keys of its shape, with reasons a person can act on."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from platform_api.bulk.rules import Invalid, RowRules, json_type


def as_object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise Invalid(f"{what} must be a JSON object, got {json_type(value)}")
    return value


def as_array(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise Invalid(f"{what} must be a JSON array, got {json_type(value)}")
    return value


class Keys:
    """The keys an object of a shape must have, and those it may have."""

    def __init__(self, required: Iterable[str], optional: Iterable[str] = ()) -> None:
        self.required = tuple(required)
        self.optional = tuple(optional)
        self.required_set = frozenset(self.required)
        self.allowed = frozenset(self.required + self.optional)

    def fits(self, value: Mapping[str, Any]) -> bool:
        """No unknown key and no missing one (the check below says which)."""
        keys = value.keys()
        return keys <= self.allowed and keys >= self.required_set

    def check(self, value: Mapping[str, Any], what: str) -> None:
        """Refuse unknown keys and missing required ones, naming them."""
        keys = value.keys()
        if keys - self.allowed:
            unknown = [key for key in value if key not in self.allowed]
            raise Invalid(
                f"{what}: unknown key(s) {', '.join(map(repr, unknown))}; "
                f"expected {', '.join(self.required + self.optional)}"
            )
        if not keys >= self.required_set:
            missing = [key for key in self.required if key not in value]
            raise Invalid(f"{what}: missing key(s) {', '.join(map(repr, missing))}")


def clean_row(
    value: Mapping[str, Any],
    rules: RowRules,
    keys: Sequence[tuple[str, str]],
    *,
    what: str,
    fixed: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The cleaned row (attname -> value) from (key, attname) pairs, then the model's checks.

    `fixed` adds values the record does not carry itself (the parent's id).
    """
    row: dict[str, Any] = dict(fixed) if fixed else {}
    cleaners = rules.cleaners
    for key, attname in keys:
        try:
            row[attname] = cleaners[attname](value[key])
        except Invalid as exc:
            raise Invalid(f"{what}.{key}: {exc}") from None
    try:
        rules.check(row)
    except Invalid as exc:
        raise Invalid(f"{what}: {exc}") from None
    return row
