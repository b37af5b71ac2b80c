"""Laravel's CursorPaginator: the cursor's encoding and the envelope around a cursor page.

`Illuminate\\Pagination\\Cursor` encodes a cursor as base64url (no padding) of the JSON object
of the sort keys' values plus `_pointsToNextItems`; `CursorPaginator::toArray` writes the
envelope; `AbstractCursorPaginator::url` keeps the request's other query parameters in their
order and puts `cursor` last. A cursor that does not decode is the first page, as in Laravel.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any

from rest_framework.request import Request

from platform_api.laravel_request import request_page_urls
from platform_api.php_json import php_json_dumps
from platform_api.php_query import PhpValue

CURSOR_PARAM = "cursor"
_POINTS_TO_NEXT = "_pointsToNextItems"
_NOT_BASE64_RE = re.compile(r"[^A-Za-z0-9+/]")
# `json_decode`'s default depth: 512 nested arrays or objects are already too deep.
_JSON_MAX_DEPTH = 511


def _php_json_decodes(value: Any) -> bool:
    """Whether PHP's `json_decode` would accept what Python's parser returned: no nesting
    deeper than its default depth, no unpaired surrogate escape (PHP fails where Python
    keeps the lone surrogate)."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            if not item.isascii():
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError:
                    return False
        elif isinstance(item, dict | list):
            if depth > _JSON_MAX_DEPTH:
                return False
            children = [*item, *item.values()] if isinstance(item, dict) else item
            pending.extend((child, depth + 1) for child in children)
    return True


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")  # PHP's json_decode has no NaN or Infinity


@dataclass(frozen=True)
class Cursor:
    """A position between two items: the sort keys' values of an item, and which side of it."""

    parameters: dict[str, Any]
    points_to_next_items: bool = True

    def encode(self) -> str:
        """`Cursor::encode()`: base64url of PHP's `json_encode`, padding dropped."""
        payload = {**self.parameters, _POINTS_TO_NEXT: self.points_to_next_items}
        encoded = base64.b64encode(php_json_dumps(payload)).decode("ascii")
        return encoded.replace("+", "-").replace("/", "_").replace("=", "")


def decode_cursor(value: PhpValue | None) -> Cursor | None:
    """`Cursor::fromEncoded()`, or None for anything that is not a cursor (not a string, not
    base64, not a JSON object with a boolean `_pointsToNextItems`): the first page.

    PHP's non-strict `base64_decode` skips characters outside the alphabet; so does this.
    """
    if not isinstance(value, str):
        return None
    text = _NOT_BASE64_RE.sub("", value.replace("-", "+").replace("_", "/"))
    if len(text) % 4 == 1:  # a lone trailing sextet carries no whole byte
        text = text[:-1]
    try:
        decoded = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
        parameters = json.loads(decoded.decode("utf-8"), parse_constant=_refuse_constant)
    except (binascii.Error, UnicodeDecodeError, ValueError, RecursionError):
        # RecursionError: nested deeper than Python's parser goes (PHP's limit is lower).
        return None
    if not isinstance(parameters, dict) or not _php_json_decodes(parameters):
        return None
    points_to_next = parameters.pop(_POINTS_TO_NEXT, None)
    if not isinstance(points_to_next, bool):
        return None
    return Cursor(parameters=parameters, points_to_next_items=points_to_next)


@dataclass(frozen=True)
class CursorLinks:
    """The cursors either side of a page, in the order the page shows its items."""

    next_cursor: Cursor | None
    prev_cursor: Cursor | None


def cursor_links(
    current: Cursor | None,
    *,
    has_more: bool,
    first_item: dict[str, Any] | None,
    last_item: dict[str, Any] | None,
) -> CursorLinks:
    """`CursorPaginator::nextCursor()` / `previousCursor()`: `first_item` and `last_item` are
    the cursor parameters of the page's first and last items (None for an empty page);
    `has_more` says whether the query found an item beyond the page, in its direction."""
    if first_item is None or last_item is None:
        return CursorLinks(next_cursor=None, prev_cursor=None)
    forward = current is None or current.points_to_next_items
    next_cursor = None if forward and not has_more else Cursor(last_item, True)
    if current is None or (not current.points_to_next_items and not has_more):
        prev_cursor = None
    else:
        prev_cursor = Cursor(first_item, False)
    return CursorLinks(next_cursor=next_cursor, prev_cursor=prev_cursor)


class LaravelCursorPagination:
    """The envelope of `CursorPaginator::toArray()` for one request, keys in Laravel's order."""

    def __init__(self, request: Request, *, per_page: int) -> None:
        self.per_page = per_page
        # `AbstractCursorPaginator::url()`: Laravel's query without `cursor`, then `cursor`.
        self._urls = request_page_urls(request, CURSOR_PARAM)

    def envelope(self, data: Any, links: CursorLinks) -> dict[str, Any]:
        next_cursor = links.next_cursor.encode() if links.next_cursor else None
        prev_cursor = links.prev_cursor.encode() if links.prev_cursor else None
        return {
            "data": data,
            "path": self._urls.path,
            "per_page": self.per_page,
            "next_cursor": next_cursor,
            "next_page_url": self._urls.url(next_cursor) if next_cursor else None,
            "prev_cursor": prev_cursor,
            "prev_page_url": self._urls.url(prev_cursor) if prev_cursor else None,
        }
