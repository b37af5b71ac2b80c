"""PHP's json_encode bytes (default flags), without PHP: the rules pinned one by one."""

from __future__ import annotations

import orjson
import pytest

from platform_api.php_json import PhpJsonResponse, php_json_dumps, php_json_escape


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"url": "http://a/b"}, b'{"url":"http:\\/\\/a\\/b"}'),
        ("é€", b'"\\u00e9\\u20ac"'),
        ("😀", b'"\\ud83d\\ude00"'),  # beyond U+FFFF: a surrogate pair, lowercase hex
        ("\u2028\u2029", b'"\\u2028\\u2029"'),
        ('\x7f\x1f"\\\n', b'"\x7f\\u001f\\"\\\\\\n"'),  # DEL raw; controls as orjson writes them
        ([42.0, 19.99, 7, None, True], b"[42.0,19.99,7,null,true]"),  # the contract's numbers
    ],
)
def test_php_json_dumps(data, expected):
    assert php_json_dumps(data) == expected


def test_non_ascii_across_block_boundaries_is_escaped_whole():
    # Blocks are cut between UTF-8 sequences, never inside one.
    text = ("a" * 2047 + "é" + "b" * 2046 + "😀") * 3

    assert php_json_escape(orjson.dumps(text)) == orjson.dumps(text).decode().encode(
        "ascii", "php-json-unicode"
    )
    assert orjson.loads(php_json_escape(orjson.dumps(text))) == text


def test_pre_rendered_json_is_rewritten_too():
    data = {"data": orjson.Fragment('[{"name":"Thé/vert"}]'.encode())}

    assert php_json_dumps(data) == b'{"data":[{"name":"Th\\u00e9\\/vert"}]}'


def test_the_response_is_compact_json():
    response = PhpJsonResponse({"message": "Server Error"}, status=500)

    assert response.content == b'{"message":"Server Error"}'
    assert response["Content-Type"] == "application/json"
