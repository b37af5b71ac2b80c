"""The request as Laravel's controller sees it: each rule names the Laravel code it follows."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from platform_api.laravel_request import (
    PageUrls,
    laravel_middleware,
    laravel_query,
    laravel_trim,
    request_path,
    request_url,
)
from platform_api.php_query import PhpArray, parse_str

PATH = "/api/v2/platform/ambassadors/1/orders"


@pytest.fixture
def any_host(settings):
    settings.ALLOWED_HOSTS = [".example.test", "testserver"]


@pytest.mark.parametrize(
    ("value", "trimmed"),
    [
        (" 2 ", "2"),
        ("\u00a02", "2"),  # NBSP: in Str::INVISIBLE_CHARACTERS and PCRE's \s
        ("\u200b2\ufeff", "2"),  # zero-width space, BOM
        ("\x002\x00", "2"),  # NUL: Str::trim's $trimDefaultCharacters
        ("\u3164x\U000e0020", "x"),  # Hangul filler, tag space
        ("\x1cx\x1f", "\x1cx\x1f"),  # Python's isspace() characters PCRE does not trim
        ("a b", "a b"),  # only the ends
        # Invalid UTF-8: preg_replace fails and Laravel falls back to PHP's trim().
        ("\udcff \u00a0", "\udcff \u00a0"),
        ("  \udcff  ", "\udcff"),
    ],
)
def test_laravel_trim_is_str_trim(value, trimmed):
    assert laravel_trim(value) == trimmed


def test_the_middleware_trims_then_turns_empty_strings_into_null():
    # TrimStrings then ConvertEmptyStringsToNull, over nested input too.
    query = laravel_middleware(parse_str("q=%20x%20&flag=&blank=%20&f[a]=%C2%A0&f[b]=%20y"))

    assert query == {"q": "x", "flag": None, "blank": None, "f": {"a": None, "b": "y"}}


def test_trim_strings_leaves_laravels_except_keys_alone():
    # TrimStrings::$except: current_password, password, password_confirmation (top-level only).
    query = laravel_middleware(parse_str("password=%20p%20&x[password]=%20p%20"))

    assert query == {"password": " p ", "x": {"password": "p"}}


def test_the_laravel_query_is_read_once_per_request():
    request = RequestFactory().get(PATH, {"page": " 2 "})

    first = laravel_query(request)

    assert first == {"page": "2"}
    assert laravel_query(request) is first


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        # Symfony's Request::getHost() lowercases the host.
        ({"HTTP_HOST": "API.EXAMPLE.TEST"}, f"http://api.example.test{PATH}"),
        # getHttpHost() drops the scheme's default port and keeps any other.
        ({"HTTP_HOST": "api.example.test:80"}, f"http://api.example.test{PATH}"),
        ({"HTTP_HOST": "api.example.test:8080"}, f"http://api.example.test:8080{PATH}"),
        ({"HTTP_HOST": "api.example.test:443"}, f"http://api.example.test:443{PATH}"),
        ({"HTTP_HOST": "api.example.test:443", "secure": True}, f"https://api.example.test{PATH}"),
        (
            {"HTTP_HOST": "api.example.test:80", "secure": True},
            f"https://api.example.test:80{PATH}",
        ),
        # getPort() reads the port with PHP's (int): leading zeros go.
        ({"HTTP_HOST": "api.example.test:0080"}, f"http://api.example.test{PATH}"),
    ],
)
def test_request_url_scheme_and_host_as_symfony_writes_them(any_host, headers, expected):
    headers = dict(headers)
    secure = headers.pop("secure", False)

    request = RequestFactory().get(PATH, secure=secure, **headers)

    assert request_url(request) == expected


@pytest.mark.parametrize(
    ("raw_uri", "url", "path"),
    [
        # The path as sent: percent-encoding kept (Symfony's getPathInfo() is not decoded).
        ("/api/v2/a/%31/orders?page=2", "/api/v2/a/%31/orders", "api/v2/a/%31/orders"),
        # Laravel's url() trims the trailing slash; path() the surrounding ones.
        ("/api/v2/x/", "/api/v2/x", "api/v2/x"),
        ("/", "", "/"),
        # An absolute-form request target: only its path.
        ("http://api.example.test/a%2Fb?x=1", "/a%2Fb", "a%2Fb"),
    ],
)  # fmt: skip
def test_request_url_keeps_the_path_as_sent(any_host, raw_uri, url, path):
    request = RequestFactory().get("/ignored", HTTP_HOST="api.example.test", RAW_URI=raw_uri)

    assert request_url(request) == f"http://api.example.test{url}"
    assert request_path(request) == path


def test_without_the_raw_uri_the_path_is_re_encoded_from_the_decoded_one(any_host):
    request = RequestFactory().get("/caf%C3%A9/x%20y", HTTP_HOST="api.example.test")

    assert request_url(request) == "http://api.example.test/caf%C3%A9/x%20y"


def test_page_urls_follow_abstract_paginator_url():
    query = laravel_middleware(parse_str("1=b&0=c&page=9&flag=&f[x]=a%2Cb&q=%20x%20y"))

    urls = PageUrls("http://h/p", query, "page")

    # array_merge renumbers integer keys; nulls are skipped; `page` last; RFC 3986.
    assert urls.url(2) == "http://h/p?0=b&1=c&f%5Bx%5D=a%2Cb&q=x%20y&page=2"
    assert urls.url("a b/c") == "http://h/p?0=b&1=c&f%5Bx%5D=a%2Cb&q=x%20y&page=a%20b%2Fc"
    assert PageUrls("http://h/p", PhpArray(), "cursor").url("e30") == "http://h/p?cursor=e30"
