"""PHP's `parse_str` and `http_build_query(..., PHP_QUERY_RFC3986)`, byte for byte.

Expected values are what PHP 8 produces for the same input (`php -r 'parse_str(...)'`).
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from platform_api.php_query import http_build_query, parse_str, raw_query_string, text_problem


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", {}),
        ("a=1&b=2", {"a": "1", "b": "2"}),
        # Repeated keys: the last value wins, at the position of the first.
        ("a=1&b=2&a=3", {"a": "3", "b": "2"}),
        # Bracketed keys group under their base name, at its first appearance.
        (
            "filter[type]=WEB&x=1&filter[currency]=EUR",
            {"filter": {"type": "WEB", "currency": "EUR"}, "x": "1"},
        ),
        ("filter[type]=WEB&filter[type]=MAG", {"filter": {"type": "MAG"}}),
        ("a[x][y]=1&a[x][z]=2", {"a": {"x": {"y": "1", "z": "2"}}}),
        ("a[]=1&a[]=2", {"a": {"0": "1", "1": "2"}}),
        ("a[5]=x&a[]=y", {"a": {"5": "x", "6": "y"}}),
        # A plain value replaces an array and vice versa, keeping the key's position.
        ("a[b]=1&c=0&a=2", {"a": "2", "c": "0"}),
        ("a=2&c=0&a[b]=1", {"a": {"b": "1"}, "c": "0"}),
        # "+" and %20 are spaces; percent-escapes decode as UTF-8; invalid escapes stay.
        ("q=a+b&r=a%20b&s=%C3%A9&t=%ZZ", {"q": "a b", "r": "a b", "s": "é", "t": "%ZZ"}),
        ("p=%2B3", {"p": "+3"}),
        # PHP's variable-name mangling: spaces and dots in the base name become "_".
        ("a+b=1&c.d=2&e%20f=3", {"a_b": "1", "c_d": "2", "e_f": "3"}),
        ("a.b[c.d]=1", {"a_b": {"c.d": "1"}}),
        # Leading spaces of a name are dropped; an unbalanced "[" becomes "_".
        ("%20a=1", {"a": "1"}),
        ("a[=1", {"a_": "1"}),
        # What follows a closed bracket that is not another bracket is ignored.
        ("a[b]c=1", {"a": {"b": "1"}}),
        # No "=": an empty value. Empty names and empty pairs are skipped.
        ("a&b=", {"a": "", "b": ""}),
        ("=1&&c=2&", {"c": "2"}),
        ("a=1=2", {"a": "1=2"}),
        # Integer keys (ASCII, canonical, 64-bit) decide the next append index; others do not.
        ("a[05]=1&a[]=2", {"a": {"05": "1", "0": "2"}}),
        ("a[-0]=x&a[]=y", {"a": {"-0": "x", "0": "y"}}),
        ("a[-5]=x&a[]=y", {"a": {"-5": "x", "-4": "y"}}),  # PHP 8.2
        ("a[%C2%B2]=x&a[]=y", {"a": {"²": "x", "0": "y"}}),
        ("a[%D9%A3]=x&a[]=y", {"a": {"٣": "x", "0": "y"}}),
        ("a[%EF%BC%93]=x&a[]=y", {"a": {"\uff13": "x", "0": "y"}}),
        ("a[9223372036854775807]=x&a[]=y", {"a": {"9223372036854775807": "x"}}),
        ("a[9223372036854775808]=x&a[]=y", {"a": {"9223372036854775808": "x", "0": "y"}}),
        # One space inside brackets is still an append; two are a key; a leading one stays.
        ("a[ ]=1", {"a": {"0": "1"}}),
        ("a[  ]=1", {"a": {"  ": "1"}}),
        ("a[ b]=1", {"a": {" b": "1"}}),
        # No base name: dropped. A NUL ends the key.
        ("[a]=1&[]=1", {}),
        ("a%00b=1&%00=1", {"a": "1"}),
        ("a[b%00c]=1", {"a_b": "1"}),
        ("x=%00", {"x": "\x00"}),
        # An unclosed bracket: joined to the name at the first level, ignored deeper.
        ("a[b[c=1", {"a_b_c": "1"}),
        ("a[x][y=1", {"a": {"x": "1"}}),
        ("1=b&0=c", {"1": "b", "0": "c"}),
    ],
)
def test_parse_str_reads_like_php(query, expected):
    parsed = parse_str(query)

    assert parsed == expected
    assert list(parsed) == list(expected)  # order matters: page URLs keep it


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({}, ""),
        ({"a": "1", "b": "x y"}, "a=1&b=x%20y"),
        (
            {"filter": {"placed_between": "2024-01-01,2024-01-31"}, "page": "2"},
            "filter%5Bplaced_between%5D=2024-01-01%2C2024-01-31&page=2",
        ),
        # RFC 3986: only unreserved characters stay as they are.
        ({"u": "AZaz09-_.~"}, "u=AZaz09-_.~"),
        ({"r": "*+/:?#&=@!$'()"}, "r=%2A%2B%2F%3A%3F%23%26%3D%40%21%24%27%28%29"),
        ({"e": "é€"}, "e=%C3%A9%E2%82%AC"),
        ({"a b": "1"}, "a%20b=1"),
        ({"a": {"0": "x", "1": "y"}}, "a%5B0%5D=x&a%5B1%5D=y"),
        ({"a": {"b": {"c": ""}}}, "a%5Bb%5D%5Bc%5D="),
    ],
)
def test_http_build_query_writes_like_php_rfc3986(data, expected):
    assert http_build_query(data) == expected


@pytest.mark.parametrize(
    "query",
    [
        "filter%5Bplaced_between%5D=2024-01-01%2C2024-01-31&page=2",
        "a=1&b%5Bc%5D%5Bd%5D=%C3%A9&e=x%20y",
    ],
)
def test_an_rfc3986_query_survives_a_round_trip(query):
    assert http_build_query(parse_str(query)) == query


def test_raw_query_string_reads_wsgi_latin1_as_utf8():
    # WSGI hands the bytes over decoded as latin-1.
    request = SimpleNamespace(META={"QUERY_STRING": "x=é".encode().decode("latin-1")})

    assert raw_query_string(request) == "x=é"
    assert raw_query_string(SimpleNamespace(META={})) == ""


def test_raw_query_string_keeps_invalid_utf8_as_surrogates():
    request = SimpleNamespace(META={"QUERY_STRING": b"x=\xff".decode("latin-1")})

    assert text_problem(raw_query_string(request)) == "be valid UTF-8"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("abc", None),
        ("é", None),
        ("a\x00b", "not contain NUL characters"),
        ("\udcff", "be valid UTF-8"),
    ],
)
def test_text_problem(text, problem):
    assert text_problem(text) == problem


def test_nesting_deeper_than_64_levels_removes_the_variable():
    # php_register_variable_ex deletes the whole base name, values set before included.
    assert parse_str("a[x]=1&a" + "[b]" * 64 + "=1&c=2").keys() == {"a", "c"}
    assert parse_str("a[x]=1&a" + "[b]" * 65 + "=1&c=2") == {"c": "2"}
    # A key nested 950 levels deep costs one pass, no recursion.
    assert parse_str("a" + "[b]" * 950 + "=1") == {}


def test_pairs_past_the_1000th_are_not_read():
    # Empty pairs do not count; pairs with an empty name do.
    query = "&&" + "&".join(f"v{n}=1" for n in range(999)) + "&=x&last=1"

    assert len(parse_str(query)) == 999
    assert "last" not in parse_str(query)
    assert "last" in parse_str(query.replace("&=x", ""))


def test_http_build_query_skips_nulls_and_empty_arrays():
    assert http_build_query({"a": None, "b": {"c": None}, "d": {}, "e": "1"}) == "e=1"
