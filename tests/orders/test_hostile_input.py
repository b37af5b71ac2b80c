"""Hostile requests against the orders endpoint: always a JSON `{"message": ...}`, never a 5xx.

Requests are sent raw (percent-escapes untouched) through Django's test client, which hands the
query string and path to the app the way a WSGI server does. Run on PostgreSQL too: NUL bytes and
broken UTF-8 must be refused before they reach a query (PostgreSQL rejects NUL in text).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from tests.factories import AmbassadorFactory, ApiTokenFactory, OrderProductFactory

ROUTE = "/api/v2/platform/ambassadors/{id}/orders"
BIG = "9" * 30
JUNK_PARAMS = "&".join(f"junk{n}={'x' * 40}" for n in range(200))  # ~9.6 KB
JUNK_FILTERS = "&".join(f"filter[junk{n}]={'x' * 40}" for n in range(200))


@dataclass(frozen=True)
class Hostile:
    """One request: the path id, the raw query string, the Authorization header, the method."""

    query: str = ""
    id: str = "{own}"
    auth: str | None = "Bearer {secret}"
    method: str = "GET"


@pytest.fixture
def world(db):
    """A brand token, one of its ambassadors with orders, and another brand's ambassador."""
    token = ApiTokenFactory()
    ambassador = AmbassadorFactory(brand=token.brand)
    for _ in range(3):
        OrderProductFactory(order__ambassador=ambassador)
    stranger = AmbassadorFactory()
    return token, ambassador, stranger


def send(world, case: Hostile):
    token, ambassador, stranger = world
    ambassador_id = case.id.format(own=ambassador.pk, stranger=stranger.pk)
    path = ROUTE.format(id=ambassador_id) + (f"?{case.query}" if case.query else "")
    headers: dict[str, Any] = {}
    if case.auth is not None:
        headers["HTTP_AUTHORIZATION"] = case.auth.format(secret=token.secret)
    return Client().generic(case.method, path, **headers)


# Each must be a 4xx, JSON, with a message. The status is pinned so that a change of policy is
# a visible decision, not an accident.
REFUSED: dict[str, tuple[Hostile, int]] = {
    # --- path ids: anything but a positive 64-bit integer names no ambassador (404) ---
    "id-letters": (Hostile(id="abc"), 404),
    "id-negative": (Hostile(id="-1"), 404),
    "id-zero": (Hostile(id="0"), 404),
    "id-plus-sign": (Hostile(id="+{own}"), 404),
    "id-decimal": (Hostile(id="{own}.0"), 404),
    "id-exponent": (Hostile(id="1e3"), 404),
    "id-hex": (Hostile(id="0x1"), 404),
    "id-int64-max-plus-one": (Hostile(id="9223372036854775808"), 404),
    "id-beyond-64-bits": (Hostile(id=BIG), 404),
    "id-int64-max": (Hostile(id="9223372036854775807"), 404),
    "id-fullwidth-digit": (Hostile(id="%EF%BC%91"), 404),
    "id-space": (Hostile(id="%20{own}"), 404),
    "id-nul": (Hostile(id="%00"), 404),
    "id-nul-after-digits": (Hostile(id="{own}%00"), 404),
    "id-invalid-utf8": (Hostile(id="%C3%28"), 404),
    "id-invalid-utf8-ff": (Hostile(id="%FF"), 404),
    "id-empty": (Hostile(id=""), 404),
    "id-other-brand": (Hostile(id="{stranger}"), 404),
    # --- per_page: 1..100, anything else 422 ---
    "per-page-empty": (Hostile("per_page="), 422),
    "per-page-zero": (Hostile("per_page=0"), 422),
    "per-page-negative": (Hostile("per_page=-5"), 422),
    "per-page-decimal": (Hostile("per_page=1.5"), 422),
    "per-page-exponent": (Hostile("per_page=1e2"), 422),
    "per-page-array": (Hostile("per_page[]=10"), 422),
    "per-page-repeated-last-bad": (Hostile("per_page=10&per_page=abc"), 422),
    "per-page-too-large": (Hostile("per_page=101"), 422),
    "per-page-beyond-64-bits": (Hostile(f"per_page={BIG}"), 422),
    "per-page-nul": (Hostile("per_page=1%000"), 422),
    "per-page-invalid-utf8": (Hostile("per_page=%C3%28"), 422),
    "per-page-ff": (Hostile("per_page=%FF"), 422),
    # --- filter values: NUL and broken UTF-8 never reach the database ---
    "filter-source-nul": (Hostile("filter[source]=shop%00ify"), 422),
    "filter-source-invalid-utf8": (Hostile("filter[source]=%C3%28"), 422),
    "filter-type-ff": (Hostile("filter[type]=%FF"), 422),
    "filter-last-status-nul": (Hostile("filter[last_status]=a%00b"), 422),
    "filter-currency-nul": (Hostile("filter[currency]=EU%00"), 422),
    "filter-assignment-invalid-utf8": (Hostile("filter[assignment]=%C3%28"), 422),
    "filter-id-chatroom-nul": (Hostile("filter[id_chatroom]=1%002"), 422),
    "filter-id-buyer-beyond-64-bits": (Hostile(f"filter[id_buyer]={BIG}"), 422),
    "filter-id-buyer-negative": (Hostile("filter[id_buyer]=-1"), 422),
    "filter-id-chatroom-beyond-32-bits": (Hostile("filter[id_chatroom]=2147483648"), 422),
    "filter-updated-since-nul": (Hostile("filter[updated_since]=2024-01%00-01"), 422),
    "filter-updated-since-garbage": (Hostile("filter[updated_since]=yesterday"), 422),
    "filter-value-array": (Hostile("filter[source][]=shopify"), 422),
    "filter-placed-between-nul": (Hostile("filter[placed_between]=2024-01-01%00,"), 422),
    "filter-placed-between-invalid-utf8": (
        Hostile("filter[placed_between]=%C3%28,2024-01-01"),
        422,
    ),
    # --- date ranges: malformed, reversed, out of range, one-sided without a comma ---
    "range-garbage": (Hostile("filter[placed_between]=soon,later"), 422),
    "range-reversed": (Hostile("filter[placed_between]=2024-02-01,2024-01-01"), 422),
    "range-month-13": (Hostile("filter[placed_between]=2024-13-45,2024-12-31"), 422),
    "range-day-45": (Hostile("filter[placed_between]=2024-01-01,2024-01-45"), 422),
    "range-year-zero": (Hostile("filter[placed_between]=0000-01-01,2024-01-01"), 422),
    "range-year-10000": (Hostile("filter[placed_between]=2024-01-01,10000-01-01"), 422),
    "range-end-9999-12-31-overflow-free": (
        Hostile("filter[placed_between]=9999-12-31,9999-12-30"),
        422,
    ),
    "range-one-sided-no-comma": (Hostile("filter[placed_between]=2024-01-01"), 422),
    "range-three-bounds": (Hostile("filter[placed_between]=2024-01-01,2024-01-02,2024-01-03"), 422),
    "range-time-out-of-range": (Hostile("filter[placed_between]=2024-01-01T25:00:00Z,"), 422),
    # --- unknown filters and sorts: 400 naming what is allowed ---
    "filter-unknown": (Hostile("filter[nope]=1"), 400),
    "filter-unknown-invalid-utf8-name": (Hostile("filter[%C3%28]=1"), 400),
    "filter-unknown-ff-name": (Hostile("filter[%FF]=1"), 400),
    "filters-several-kilobytes": (Hostile(JUNK_FILTERS), 400),
    "sort-unknown": (Hostile("sort=password"), 400),
    "sort-unknown-desc": (Hostile("sort=-nope"), 400),
    "sort-nul": (Hostile("sort=date%00_order"), 400),
    "sort-invalid-utf8": (Hostile("sort=%C3%28"), 400),
    "sort-ff": (Hostile("sort=-%FF"), 400),
    "sort-sql": (Hostile("sort=id_order;DROP%20TABLE%20orders_order"), 400),
    "sort-leading-space-in-a-part": (Hostile("sort=date_order,%20id_order"), 400),
    "sort-array": (Hostile("sort[]=date_order"), 422),
    # --- Authorization: every malformed header is the same 401 ---
    "auth-missing": (Hostile(auth=None), 401),
    "auth-empty": (Hostile(auth=""), 401),
    "auth-scheme-only": (Hostile(auth="Bearer"), 401),
    "auth-scheme-and-space": (Hostile(auth="Bearer "), 401),
    "auth-basic": (Hostile(auth="Basic dXNlcjpwYXNz"), 401),
    "auth-token-scheme": (Hostile(auth="Token {secret}"), 401),
    "auth-lowercase-unknown-token": (Hostile(auth="bearer pat_aaaaaaaaaa_" + "A" * 43), 401),
    "auth-doubled-space": (Hostile(auth="Bearer  {secret}"), 401),
    "auth-leading-space": (Hostile(auth=" Bearer {secret}"), 401),
    "auth-trailing-junk": (Hostile(auth="Bearer {secret} junk"), 401),
    "auth-trailing-char": (Hostile(auth="Bearer {secret}x"), 401),
    "auth-tab-separator": (Hostile(auth="Bearer\t{secret}"), 401),
    "auth-no-marker": (Hostile(auth="Bearer aaaaaaaaaa_" + "A" * 43), 401),
    "auth-10kb": (Hostile(auth="Bearer pat_" + "a" * 10_240), 401),
    "auth-10kb-after-secret": (Hostile(auth="Bearer {secret}" + "a" * 10_240), 401),
    "auth-non-ascii": (Hostile(auth="Bearer pat_\u00e9\u00e9\u00e9"), 401),
    # --- other methods: 405 JSON ---
    "method-post": (Hostile(method="POST"), 405),
    "method-put": (Hostile(method="PUT"), 405),
    "method-patch": (Hostile(method="PATCH"), 405),
    "method-delete": (Hostile(method="DELETE"), 405),
    "method-options": (Hostile(method="OPTIONS"), 405),
    "method-trace": (Hostile(method="TRACE"), 405),
}


@pytest.mark.parametrize(("case", "status"), REFUSED.values(), ids=REFUSED.keys())
def test_hostile_request_is_refused_with_a_json_message(world, case, status):
    response = send(world, case)

    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert isinstance(body.get("message"), str)
    assert body["message"]


def test_there_are_at_least_fifty_hostile_requests():
    assert len(REFUSED) >= 50


# Laravel reads an unusable `page` as page 1, and ignores parameters it does not know: these are
# answered normally. They must still never be a 5xx, and must never pass junk to the database.
ANSWERED: dict[str, Hostile] = {
    "page-empty": Hostile("page="),
    "page-zero": Hostile("page=0"),
    "page-negative": Hostile("page=-2"),
    "page-decimal": Hostile("page=1.5"),
    "page-exponent": Hostile("page=1e3"),
    "page-leading-zero": Hostile("page=01"),
    "page-array": Hostile("page[]=1"),
    "page-nested-array": Hostile("page[a][b]=1"),
    "page-repeated-last-bad": Hostile("page=2&page=x"),
    "page-beyond-64-bits": Hostile(f"page={BIG}"),
    "page-int64-max-plus-one": Hostile("page=9223372036854775808"),
    "page-nul": Hostile("page=2%003"),
    # PHP ends a key at NUL: `filter[` is then an unclosed bracket, the name `filter_`.
    "filter-nul-in-name": Hostile("filter[%00]=1"),
    "page-invalid-utf8": Hostile("page=%C3%28"),
    "page-ff": Hostile("page=%FF"),
    "unknown-params-several-kilobytes": Hostile(JUNK_PARAMS),
    "unknown-param-nul": Hostile("x%00=%00"),
    "unknown-param-invalid-utf8": Hostile("%FF=%C3%28"),
    "plain-filter-is-ignored": Hostile("filter=%00"),
    "empty-filter-value": Hostile("filter[source]="),
    # spatie drops empty items of the sort list (`collect(explode(...))->filter()`).
    "sort-empty-item": Hostile("sort=date_order,,id_order"),
    # spatie reads a sort's name as ltrim($part, '-'): `--date_order` is `-date_order`.
    "sort-double-dash": Hostile("sort=--date_order"),
    "sort-zero-item": Hostile("sort=0,date_order"),
    "lowercase-bearer-scheme": Hostile(auth="bearer {secret}"),
    "uppercase-bearer-scheme": Hostile(auth="BEARER {secret}"),
}


@pytest.mark.parametrize("case", ANSWERED.values(), ids=ANSWERED.keys())
def test_unusable_page_or_unknown_parameter_is_page_one(world, case):
    response = send(world, case)

    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["current_page"] == 1
    assert len(body["data"]) == 3


def test_junk_echoed_back_in_page_urls_is_valid_json(world):
    # Page URLs repeat the request's parameters: broken UTF-8 must be re-encoded, not crash.
    response = send(world, Hostile("x=%FF%C3%28&page=%00"))

    assert response.status_code == 200
    assert "x=%FF%C3%28" in response.json()["first_page_url"]


def test_head_is_answered_like_get_without_a_body(world):
    response = send(world, Hostile(method="HEAD"))

    assert response.status_code == 200
    assert response.content == b""
