"""platform_api's PHP and Laravel emulation against PHP itself, on generated inputs.

Each test throws hypothesis-generated input at both sides: `php_query.parse_str`,
`http_build_query`, `php_int` against PHP's `parse_str`, `http_build_query` and
`filter_var(FILTER_VALIDATE_INT)`; `laravel_trim`, the middleware and the page URL query
against Laravel's code run by PHP (tests/php/reference.php); `php_json_dumps` against
`json_encode`. Inputs mix what PHP treats specially: brackets, dots, spaces, `+`, NUL, broken
escapes, invalid UTF-8, digits of every script, integer-like keys at the 64-bit limits, deep
nesting and more variables than PHP reads.
"""

from __future__ import annotations

from urllib.parse import quote_from_bytes

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from platform_api.laravel_request import PageUrls, laravel_middleware, laravel_trim
from platform_api.pagination import resolve_page
from platform_api.php_json import php_json_dumps
from platform_api.php_query import http_build_query, parse_str, php_int
from tests.php_reference import dump

DIFFERENTIAL = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

# Pieces PHP's parser treats specially, as raw bytes of a query string.
KEY_PIECES = [
    b"a", b"b", b"page", b"per_page", b"filter", b"password", b"[", b"]", b"[]", b"[ ]",
    b"[  ]", b".", b" ", b"+", b"_", b"-", b"0", b"1", b"05", b"-0", b"-5",
    b"9223372036854775807", b"9223372036854775808", b"-9223372036854775808",
    b"%00", b"%20", b"%2E", b"%5B", b"%5D", b"%5b", b"%ZZ", b"%4", b"%", b"%C2%B2",
    b"%D9%A3", b"%EF%BC%93", b"%C3%A9", b"%FF", b"\xff", b"\xc3", b"=",
]  # fmt: skip
VALUE_PIECES = [
    b"x", b"2", b"02", b"+2", b"-1", b" ", b"+", b"%20", b"%09", b"%0B", b"%0C", b"%00",
    b"%C2%A0", b"%E2%80%8B", b"%EF%BB%BF", b"%E3%80%80", b"%E1%A0%8E", b"%C2%85",
    b"%C3%A9", b"%FF", b"%C3%28", b"%2C", b"%26", b"%3D", b"=", b"\xff", b"9223372036854775807",
]  # fmt: skip


def _pieces(pieces: list[bytes], max_size: int) -> st.SearchStrategy[bytes]:
    escaped = st.binary(min_size=1, max_size=2).map(lambda raw: quote_from_bytes(raw).encode())
    return st.lists(st.sampled_from(pieces) | escaped, max_size=max_size).map(b"".join)


def _nested(depth: int) -> bytes:
    return b"a" + b"[b]" * depth + b"=1"


PAIRS = st.tuples(_pieces(KEY_PIECES, 8), st.booleans(), _pieces(VALUE_PIECES, 5)).map(
    lambda pair: pair[0] + (b"=" + pair[2] if pair[1] else b"")
)
QUERIES = st.one_of(
    st.lists(PAIRS, max_size=8).map(b"&".join),
    st.binary(max_size=40),
    # Around PHP's nesting limit (64 levels), before or after other variables.
    st.tuples(st.integers(60, 70), st.lists(PAIRS, max_size=3)).map(
        lambda case: b"&".join([b"a[x]=0", _nested(case[0]), *case[1]])
    ),
)
# Around PHP's 1,000-variable limit; empty pairs (`&&`) do not count, empty names do.
MANY = st.tuples(st.integers(995, 1005), st.sampled_from([b"", b"&", b"=1&", b"[]=1&"])).map(
    lambda case: case[1] * 3 + b"&".join(b"v%d=1" % n for n in range(case[0])) + b"&last=1"
)


@DIFFERENTIAL
@given(QUERIES)
def test_parse_str_is_phps(php, query):
    assert dump(parse_str(query)) == php.ask("parse_str", query)


@settings(max_examples=30, deadline=None)
@given(MANY)
def test_parse_str_stops_where_php_stops_reading(php, query):
    assert dump(parse_str(query)) == php.ask("parse_str", query)


@DIFFERENTIAL
@given(QUERIES)
def test_http_build_query_is_phps(php, query):
    assert http_build_query(parse_str(query)) == php.ask("http_build_query", query)


INTEGER_TEXT = st.one_of(
    st.text(alphabet=" \t\n\r\v\f\x00+-0123456789xe.٣３²", max_size=12),
    st.integers(-(2**64), 2**64).map(str),
    st.tuples(st.sampled_from(["", " ", "\t", "+", "-", "0"]), st.integers(0, 2**63)).map(
        lambda case: f"{case[0]}{case[1]}"
    ),
)


@DIFFERENTIAL
@given(INTEGER_TEXT)
def test_php_int_is_filter_validate_int(php, text):
    expected = php.ask("filter_int", text)

    assert php_int(text) == (None if expected is None else int(expected))


# Every control, space, format and filler character near Laravel's list, independently of it.
EDGE_CHARACTERS = "".join(
    map(
        chr,
        [
            *range(0x00, 0x21), 0x7F, *range(0x80, 0xA1), 0xAD, 0x34F, 0x61C, 0x115F, 0x1160,
            0x1680, 0x17B4, 0x17B5, 0x180E, *range(0x2000, 0x2070), 0x2800, 0x3000, 0x3164,
            0xFEFF, 0xFFA0, 0x1D159, *range(0x1D173, 0x1D17B), 0xE0020, 0xE0001,
        ],
    )
)  # fmt: skip
TRIMMABLE = st.text(alphabet=EDGE_CHARACTERS + "axé", max_size=8)
INVALID_UTF8 = st.binary(max_size=6).map(lambda raw: raw.decode("utf-8", "surrogateescape"))


def test_laravel_trim_on_every_edge_character(php):
    for character in EDGE_CHARACTERS:
        for text in (f"{character}x", f"x{character}", f"{character}{character}"):
            expected = bytes.fromhex(php.ask("str_trim", text))
            assert laravel_trim(text).encode() == expected, f"U+{ord(character):04X}"


@DIFFERENTIAL
@given(st.tuples(TRIMMABLE, st.text(max_size=4) | INVALID_UTF8, TRIMMABLE).map("".join))
def test_laravel_trim_is_str_trim(php, text):
    expected = bytes.fromhex(php.ask("str_trim", text))

    assert laravel_trim(text).encode("utf-8", "surrogateescape") == expected


@DIFFERENTIAL
@given(QUERIES)
def test_the_middleware_page_and_page_urls_are_laravels(php, query):
    expected = php.ask("laravel", query)

    laravel = laravel_middleware(parse_str(query))

    assert dump(laravel) == expected["query"]
    assert str(resolve_page(laravel)) == expected["page"]
    assert PageUrls("", laravel, "page").url(2) == "?" + expected["url_query"]


@DIFFERENTIAL
@given(st.text())
def test_json_bytes_are_json_encodes(php, text):
    expected = php.ask("json_encode", text).encode()

    assert php_json_dumps({"0": text, "k/" + text: True}) == expected
