"""Checking one decoded record against the keys of its shape, with reasons a person can act on."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from platform_api.bulk.rules import Invalid, RowRules


def as_object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise Invalid(f"{what} must be a JSON object, got {type(value).__name__}")
    return value


def as_array(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise Invalid(f"{what} must be a JSON array")
    return value


def check_keys(
    value: Mapping[str, Any],
    *,
    required: Collection[str],
    optional: Collection[str] = (),
    what: str,
) -> None:
    """Refuse unknown keys and missing required ones, naming them."""
    unknown = [key for key in value if key not in required and key not in optional]
    if unknown:
        raise Invalid(
            f"{what}: unknown key(s) {', '.join(map(repr, unknown))}; "
            f"expected {', '.join([*required, *optional])}"
        )
    missing = [key for key in required if key not in value]
    if missing:
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
    row: dict[str, Any] = dict(fixed or {})
    for key, attname in keys:
        try:
            row[attname] = rules.rules[attname].clean(value[key])
        except Invalid as exc:
            raise Invalid(f"{what}.{key}: {exc}") from None
    try:
        rules.check(row)
    except Invalid as exc:
        raise Invalid(f"{what}: {exc}") from None
    return row
