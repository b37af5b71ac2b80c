"""The orders endpoint answers as a default Laravel application does (../shared/spec/CONTRACT.md,
"What a default Laravel application does before the controller", "JSON bytes", "Laravel's
other answers"), on whichever renderer the test database selects: PostgreSQL renders the page
in SQL, SQLite in Python; CI runs the suite on both.

The expected page URLs come from the Laravel model of tests/platform_api/test_pagination.py,
with the query as PHP and Laravel's own code (tests/php/reference.php) read it.
"""

from __future__ import annotations

from urllib.parse import quote_from_bytes

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import AmbassadorFactory, ApiTokenFactory, OrderProductFactory
from tests.platform_api.test_pagination import laravel_envelope

ROUTE = "/api/v2/platform/ambassadors/{id}/orders"


@pytest.fixture
def world(db, settings):
    settings.ALLOWED_HOSTS = [".example.test", "testserver"]
    token = ApiTokenFactory()
    seller = AmbassadorFactory(brand=token.brand)
    for _ in range(3):
        OrderProductFactory(
            order__ambassador=seller,
            order__order_info="Café crème / 😀 </script>",
            product__name="Thé vert",
        )
    return token, seller


def get(world, query: str = "", *, path: str | None = None, **extra):
    token, seller = world
    path = path or ROUTE.format(id=seller.pk)
    # Raw, as a WSGI server hands it over: bytes as latin-1, percent-escapes untouched.
    return Client().get(
        path,
        QUERY_STRING=query,
        HTTP_AUTHORIZATION=f"Bearer {token.secret}",
        **extra,
    )


def envelope(body):
    return {key: value for key, value in body.items() if key != "data"}


# --- TrimStrings and ConvertEmptyStringsToNull --------------------------------------------------
@pytest.mark.parametrize(
    ("query", "page", "other_query"),
    [
        ("page=%C2%A02&per_page=1", 2, "per_page=1"),  # NBSP trimmed: page 2
        ("page=%202%09&per_page=1", 2, "per_page=1"),
        ("flag=&per_page=1&page=2", 2, "per_page=1"),  # null: absent from page URLs
        ("q=%20x%20&per_page=1&page=2", 2, "q=x&per_page=1"),
        ("page=&per_page=1", 1, "per_page=1"),  # empty page: null, page 1
        ("per_page=%201%20&page=3", 3, "per_page=1"),
        ("filter[type]=%20&per_page=1&page=2", 2, "per_page=1"),  # an empty filter filters nothing
        ("password=%20p%20&per_page=1&page=2", 2, "password=%20p%20&per_page=1"),
    ],
)
def test_default_middleware_runs_before_the_paginator(world, query, page, other_query):
    response = get(world, query)

    assert response.status_code == 200
    body = response.json()
    _, seller = world
    assert envelope(body) == laravel_envelope(
        path=f"http://testserver{ROUTE.format(id=seller.pk)}",
        other_query=other_query,
        current=page,
        per_page=1,
        total=3,
    )


def test_an_empty_per_page_is_still_422(world):
    # ConvertEmptyStringsToNull: null is not an integer for Laravel's validator.
    response = get(world, "per_page=%20")

    assert response.status_code == 422
    assert response.json()["errors"] == {"per_page": ["The per page field must be an integer."]}


def test_filter_values_are_trimmed(world):
    trimmed = get(world, "filter[type]=%20WEB%20").json()
    plain = get(world, "filter[type]=WEB").json()

    assert trimmed["total"] == plain["total"]
    assert "filter%5Btype%5D=WEB&page=1" in trimmed["first_page_url"]


# --- The request URL ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("extra", "base"),
    [
        ({"HTTP_HOST": "API.EXAMPLE.TEST"}, "http://api.example.test"),
        ({"HTTP_HOST": "api.example.test:80"}, "http://api.example.test"),
        ({"HTTP_HOST": "api.example.test:8443"}, "http://api.example.test:8443"),
        ({"HTTP_HOST": "api.example.test:443", "secure": True}, "https://api.example.test"),
    ],
)
def test_page_urls_use_symfonys_scheme_and_http_host(world, extra, base):
    _, seller = world

    body = get(world, "per_page=1", **extra).json()

    assert body["path"] == f"{base}{ROUTE.format(id=seller.pk)}"
    assert body["next_page_url"] == f"{base}{ROUTE.format(id=seller.pk)}?per_page=1&page=2"


def test_the_path_keeps_the_clients_percent_encoding(world):
    _, seller = world
    raw_path = (
        f"/api/v2/platform/ambassadors/%{ord(str(seller.pk)[0]):X}{str(seller.pk)[1:]}/orders"
    )

    body = get(world, "", path=ROUTE.format(id=seller.pk), RAW_URI=raw_path).json()

    assert body["path"] == f"http://testserver{raw_path}"


# --- PHP's parse_str and limits at the endpoint -------------------------------------------------
@pytest.mark.parametrize(
    ("query", "other_query"),
    [
        ("a[%C2%B2]=x&a[]=y", "a%5B%C2%B2%5D=x&a%5B0%5D=y"),
        ("a[05]=1&a[]=2", "a%5B05%5D=1&a%5B0%5D=2"),
        ("a[9223372036854775807]=x&a[]=y", "a%5B9223372036854775807%5D=x"),
        ("a[%20]=1", "a%5B0%5D=1"),
        ("[a]=1&[]=1&a%00b=1&%00=1", "a=1"),
        ("1=b&0=c", "0=b&1=c"),
        ("a" + "[b]" * 65 + "=1&c=2", "c=2"),
        ("a" + "[b]" * 950 + "=1", ""),
    ],
)
def test_php_input_rules_decide_the_query(world, query, other_query):
    response = get(world, query)

    assert response.status_code == 200
    assert response.json()["first_page_url"].endswith(
        f"?{other_query}{'&' if other_query else ''}page=1"
    )


def test_variables_past_the_1000th_are_not_read(world):
    junk = "&".join(f"v{n}=1" for n in range(1000))

    body = get(world, f"{junk}&page=2&per_page=1").json()

    assert body["current_page"] == 1
    assert body["per_page"] == 15


# --- JSON bytes ---------------------------------------------------------------------------------
def test_bodies_are_json_encodes_bytes(world, php):
    response = get(world, "q=%C3%A9")

    assert response.status_code == 200
    raw = response.content
    assert b"http:\\/\\/testserver\\/api\\/v2\\/platform\\/ambassadors\\/" in raw
    assert b"Caf\\u00e9 cr\\u00e8me \\/ \\ud83d\\ude00 <\\/script>" in raw
    assert raw.isascii()
    assert raw == php.ask("reencode", raw).encode()


@pytest.mark.parametrize(
    ("query", "status"),
    [("per_page=abc", 422), ("sort=%C3%A9", 400), ("filter[%C3%A9]=1", 400)],
)
def test_error_bodies_are_json_encodes_bytes(world, php, query, status):
    response = get(world, query)

    assert response.status_code == status
    assert response.content == php.ask("reencode", response.content).encode()


# --- Laravel's other answers --------------------------------------------------------------------
def test_unknown_routes_are_laravels_404(client, db):
    response = client.get("/api/v2/n%C3%A9/x", RAW_URI="/api/v2/n%C3%A9/x/")

    assert response.status_code == 404
    assert response.content == b'{"message":"The route api\\/v2\\/n%C3%A9\\/x could not be found."}'


# --- Whatever the query string: JSON below 500 (issue 11) ---------------------------------------
ANY_QUERY = st.one_of(
    st.binary(max_size=200),
    st.lists(
        st.tuples(
            st.sampled_from(["page", "per_page", "sort", "filter", "filter[type]", "a", ""])
            | st.text(max_size=10),
            st.lists(st.sampled_from(["[", "]", "[]", "[x]", ".", " ", "%00"]), max_size=6),
            st.text(max_size=10) | st.binary(max_size=6).map(quote_from_bytes),
        ),
        max_size=6,
    ).map(
        lambda pairs: "&".join(
            quote_from_bytes(name.encode("utf-8", "surrogatepass"), safe="[]%")
            + "".join(suffix)
            + "="
            + value
            for name, suffix, value in pairs
        ).encode("utf-8", "surrogatepass")
    ),
    st.integers(0, 2000).map(lambda depth: b"a" + b"[b]" * depth + b"=1"),
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ANY_QUERY)
def test_no_query_string_answers_500(world, query):
    response = get(world, query.decode("latin-1"))

    assert response.status_code < 500, response.content[:300]
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert "message" in body if response.status_code >= 400 else "current_page" in body
    assert response.content.isascii()
