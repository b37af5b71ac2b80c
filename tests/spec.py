"""The published documentation of the endpoint, read from the committed copy in `tests/data/`.

The example 200 body and the "(nullable)" markers are parsed out of the page rather than retyped,
so that the tests compare the service with the document itself.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

SPEC_NAME = "platform-ambassador-orders.txt"
# The copy the tests read: committed with them, so that they are self-contained.
SPEC_COPY = Path(__file__).resolve().parent / "data" / SPEC_NAME
# The shared original beside the repository (present on development machines and in CI).
SHARED_SPEC = Path(__file__).resolve().parents[1].parent / "shared" / "spec" / SPEC_NAME

_EXAMPLE_HEADING = "Response examples (200)"
# An attribute line of the documentation: `• name type` with an optional "(nullable)".
_ATTRIBUTE_RE = re.compile(r"^(?P<indent>\s*)• (?P<name>\w+) (?P<type>[\w\[\]()\-]+)\s*$")


def spec_text() -> str:
    return SPEC_COPY.read_text(encoding="utf-8")


@cache
def published_example() -> dict[str, Any]:
    """The 200 response example, as JSON (the first JSON object after its heading)."""
    text = spec_text()
    start = text.index("{", text.index(_EXAMPLE_HEADING))
    example, _ = json.JSONDecoder().raw_decode(text, start)
    assert isinstance(example, dict)
    return example


@cache
def documented_attributes() -> dict[tuple[str, ...], str]:
    """Every documented attribute of the 200 body: path of names -> documented type.

    Paths skip arrays (`("data", "buyer", "online")`); nesting is read from the indentation.
    """
    text = spec_text()
    body = text[text.index("200 application/json") : text.index("401 application/json")]
    attributes: dict[tuple[str, ...], str] = {}
    stack: list[tuple[int, str]] = []
    for line in body.splitlines():
        match = _ATTRIBUTE_RE.match(line)
        if match is None:
            continue
        indent = len(match.group("indent"))
        while stack and stack[-1][0] >= indent:
            stack.pop()
        stack.append((indent, match.group("name")))
        attributes[tuple(name for _, name in stack)] = match.group("type")
    return attributes


def nullable_paths() -> set[tuple[str, ...]]:
    """Paths of the attributes the documentation marks "(nullable)"."""
    return {path for path, kind in documented_attributes().items() if "(nullable)" in kind}
