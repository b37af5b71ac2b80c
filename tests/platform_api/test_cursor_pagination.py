"""Laravel's cursor encoding and CursorPaginator envelope (expected cursors from PHP 8.2)."""

from __future__ import annotations

import base64

import pytest
from rest_framework.test import APIRequestFactory

from platform_api.cursor_pagination import (
    Cursor,
    LaravelCursorPagination,
    cursor_links,
    decode_cursor,
)

# What `Cursor::encode()` printed under php-cli 8.2 for the same parameters.
PHP_ENCODED = [
    (
        Cursor({"date_order": "2024-03-01 12:00:00", "id_order": 42}, True),
        "eyJkYXRlX29yZGVyIjoiMjAyNC0wMy0wMSAxMjowMDowMCIsImlkX29yZGVyIjo0MiwiX3BvaW50c1RvTmV4dEl0ZW1zIjp0cnVlfQ",
    ),
    (
        Cursor({"total_amount": "19.90", "id_order": 7}, False),
        "eyJ0b3RhbF9hbW91bnQiOiIxOS45MCIsImlkX29yZGVyIjo3LCJfcG9pbnRzVG9OZXh0SXRlbXMiOmZhbHNlfQ",
    ),
    (
        Cursor({"x": "a/\u00e9"}, True),
        "eyJ4IjoiYVwvXHUwMGU5IiwiX3BvaW50c1RvTmV4dEl0ZW1zIjp0cnVlfQ",
    ),
]


@pytest.mark.parametrize(("cursor", "encoded"), PHP_ENCODED)
def test_cursors_encode_as_laravel_encodes_them(cursor, encoded):
    assert cursor.encode() == encoded
    assert decode_cursor(encoded) == cursor


def test_decoding_skips_what_php_base64_decode_skips():
    encoded = PHP_ENCODED[0][1]

    assert decode_cursor(f"{encoded[:10]}!!\n{encoded[10:]}") == PHP_ENCODED[0][0]
    assert decode_cursor(encoded + "==") == PHP_ENCODED[0][0]


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "not a cursor",
        "%%%",
        {"0": "eyJ4IjoxfQ"},
        "WzEsMl0",  # [1,2]: not an object
        "eyJ4IjoxfQ",  # {"x":1}: no _pointsToNextItems
        "eyJfcG9pbnRzVG9OZXh0SXRlbXMiOjF9",  # {"_pointsToNextItems":1}: not a boolean
        "_w",  # bytes that are not UTF-8
    ],
)
def test_anything_but_a_cursor_decodes_to_none(value):
    assert decode_cursor(value) is None


def _encoded(json_text: str) -> str:
    return base64.urlsafe_b64encode(json_text.encode()).decode().rstrip("=")


def _with_extra(value: str) -> str:
    return _encoded(f'{{"id_order":9,"x":{value},"_pointsToNextItems":true}}')


@pytest.mark.parametrize(
    ("encoded", "decodes"),
    [
        # php -r 'var_dump(json_decode(...))': 511 levels of nesting decode, 512 do not.
        (_with_extra("[" * 510 + "]" * 510), True),
        (_with_extra("[" * 511 + "]" * 511), False),
        # Deeper than Python's own parser goes (a RecursionError, not a 500).
        (_encoded("[" * 5000 + "]" * 5000), False),
        (_with_extra("[" * 5000 + "]" * 5000), False),
        # "Single unpaired UTF-16 surrogate in unicode escape"; a pair is a character.
        (_with_extra('"\\ud800"'), False),
        (_encoded('{"\\udfff":1,"_pointsToNextItems":true}'), False),
        (_with_extra('"\\ud83d\\ude00"'), True),
        # PHP's JSON has no NaN or Infinity (Python's parser accepts them).
        (_with_extra("NaN"), False),
        (_with_extra("-Infinity"), False),
    ],
)
def test_what_php_json_decode_refuses_is_the_first_page(encoded, decodes):
    assert (decode_cursor(encoded) is not None) is decodes


FIRST = {"id_order": 9}
LAST = {"id_order": 5}


@pytest.mark.parametrize(
    ("current", "has_more", "expected"),
    [
        (None, False, (None, None)),
        (None, True, (Cursor(LAST, True), None)),
        (Cursor(FIRST, True), False, (None, Cursor(FIRST, False))),
        (Cursor(FIRST, True), True, (Cursor(LAST, True), Cursor(FIRST, False))),
        (Cursor(FIRST, False), False, (Cursor(LAST, True), None)),
        (Cursor(FIRST, False), True, (Cursor(LAST, True), Cursor(FIRST, False))),
    ],
)
def test_next_and_previous_cursors_follow_laravel(current, has_more, expected):
    links = cursor_links(current, has_more=has_more, first_item=FIRST, last_item=LAST)

    assert (links.next_cursor, links.prev_cursor) == expected


def test_an_empty_page_has_no_cursors():
    links = cursor_links(Cursor(FIRST, True), has_more=True, first_item=None, last_item=None)

    assert (links.next_cursor, links.prev_cursor) == (None, None)


def test_envelope_keys_and_urls_keep_the_query_with_the_cursor_last():
    query = "cursor=abc&sort=-total_amount&filter%5Btype%5D=WEB&per_page=5&page=3"
    request = APIRequestFactory().get(f"/api/v2/platform/ambassadors/1/orders?{query}")
    pagination = LaravelCursorPagination(request, per_page=5)
    links = cursor_links(None, has_more=True, first_item=FIRST, last_item=LAST)

    body = pagination.envelope([], links)

    assert list(body) == [
        "data",
        "path",
        "per_page",
        "next_cursor",
        "next_page_url",
        "prev_cursor",
        "prev_page_url",
    ]
    assert body["path"] == "http://testserver/api/v2/platform/ambassadors/1/orders"
    assert body["next_page_url"] == (
        f"{body['path']}?sort=-total_amount&filter%5Btype%5D=WEB&per_page=5&page=3"
        f"&cursor={Cursor(LAST, True).encode()}"
    )
    assert body["prev_cursor"] is None
    assert body["prev_page_url"] is None
