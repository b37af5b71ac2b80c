"""JSON read once, with the exact text of each value kept: exports write the API's own bytes.

Numbers are read as `Decimal` (`42.0` stays `42.0`, not 42), so a value printed again reads as
the API wrote it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

_DECODER = json.JSONDecoder(parse_float=Decimal)
_SPACE = re.compile(r"[ \t\n\r]*")


class MalformedJson(ValueError):
    """The text is not the JSON the walker expected at this place."""


@dataclass(frozen=True)
class Raw:
    """A parsed JSON value and its exact text."""

    value: Any
    text: str


def loads(text: str) -> Any:
    """`json.loads` with numbers as `Decimal`."""
    try:
        return _DECODER.decode(text)
    except ValueError as exc:
        raise MalformedJson(str(exc)) from exc


def members(text: str, start: int = 0) -> Iterator[tuple[str, int, int]]:
    """The members of the object at `start`: (key, start, end) of each value's text."""
    index = _expect(text, start, "{")
    if text.startswith("}", index):
        return
    while True:
        key, index = _decode(text, index)
        if not isinstance(key, str):
            raise MalformedJson(f"an object key at {index}")
        index = _expect(text, index, ":")
        value_start, value_end = _span(text, index)
        yield key, value_start, value_end
        index = _SPACE.match(text, value_end).end()  # type: ignore[union-attr]
        if text.startswith(",", index):
            index = _SPACE.match(text, index + 1).end()  # type: ignore[union-attr]
            continue
        _expect(text, index, "}")
        return


def items(text: str, start: int = 0) -> Iterator[Raw]:
    """The items of the array at `start`, each parsed and with its text."""
    index = _expect(text, start, "[")
    if text.startswith("]", index):
        return
    while True:
        value, end = _decode(text, index)
        yield Raw(value=value, text=text[index:end])
        index = _SPACE.match(text, end).end()  # type: ignore[union-attr]
        if text.startswith(",", index):
            index = _SPACE.match(text, index + 1).end()  # type: ignore[union-attr]
            continue
        _expect(text, index, "]")
        return


def member_text(text: str, key: str) -> str | None:
    """The exact text of the member `key` of the object `text`, or None when absent."""
    for name, start, end in members(text):
        if name == key:
            return text[start:end]
    return None


def _expect(text: str, index: int, char: str) -> int:
    index = _SPACE.match(text, index).end()  # type: ignore[union-attr]
    if not text.startswith(char, index):
        raise MalformedJson(f"expected {char!r} at {index}")
    return _SPACE.match(text, index + 1).end()  # type: ignore[union-attr]


def _decode(text: str, index: int) -> tuple[Any, int]:
    try:
        return _DECODER.raw_decode(text, index)
    except ValueError as exc:
        raise MalformedJson(str(exc)) from exc


def _span(text: str, index: int) -> tuple[int, int]:
    _, end = _decode(text, index)
    return index, end
