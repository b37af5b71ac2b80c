"""The library against a live server: typed orders by cursor pages, filters, errors, retries."""

from __future__ import annotations

import http.server
import json
import re
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
import requests
from platform_api_client import (
    Forbidden,
    InvalidQuery,
    NotFound,
    Order,
    PlatformApiClient,
    PlatformApiError,
    RetryPolicy,
    Unauthorized,
    Unavailable,
    UnexpectedResponse,
)
from platform_api_client.client import filter_params

from orders.models import Order as OrderModel
from tests.client.conftest import SELLER_ORDERS
from tests.client.faulty_proxy import Fault
from tests.factories import AmbassadorFactory, ApiTokenFactory

ORDERS = "/api/v2/platform/ambassadors/{id}/orders"


def test_orders_come_typed_and_whole_by_cursor_pages(live_server, shop):
    client = PlatformApiClient(live_server.url, shop["token"].secret)

    pages = list(client.order_pages(shop["seller"].pk, per_page=10))
    orders = [order for page in pages for order in page.orders]

    assert [len(page.orders) for page in pages] == [10, 10, 10, 10, 5]
    assert pages[0].cursor == ""
    assert pages[-1].next_cursor is None
    assert len({order.id_order for order in orders}) == SELLER_ORDERS
    newest = orders[0]
    assert isinstance(newest, Order)
    assert newest.total_amount == Decimal("44.10")
    assert newest.date_order == datetime(2025, 1, 1, 22, tzinfo=UTC)
    assert newest.products == []
    assert orders[1].products[0].order_details.unit_price == Decimal("19.9")
    assert newest.buyer.firstname == 'Zoë "Z" O\'Neil, \u00e9/\u2028'


def test_each_order_keeps_the_api_text(live_server, shop):
    client = PlatformApiClient(live_server.url, shop["token"].secret)
    url = f"{live_server.url}{ORDERS.format(id=shop['seller'].pk)}?per_page=100&cursor="
    body = requests.get(
        url, headers={"Authorization": f"Bearer {shop['token'].secret}"}, timeout=10
    )

    orders = list(client.orders(shop["seller"].pk))

    data = body.text[body.text.index("[") + 1 :]
    assert body.text.startswith('{"data":[')
    assert all(data.startswith(order.raw) or f",{order.raw}" in data for order in orders)
    assert [json.loads(order.raw) for order in orders] == body.json()["data"]


def test_filters_and_sort_are_keyword_arguments(live_server, shop):
    client = PlatformApiClient(live_server.url, shop["token"].secret)

    orders = list(
        client.orders(
            shop["seller"].pk,
            sort="total_amount",
            updated_since=datetime(2025, 2, 1, tzinfo=UTC),
            type=["WEB", "STORE"],
        )
    )

    expected = OrderModel.objects.filter(
        ambassador=shop["seller"], date_update__gte=datetime(2025, 2, 1, tzinfo=UTC)
    ).order_by("total_amount")
    assert [order.id_order for order in orders] == [order.pk for order in expected]
    assert client.count_orders(shop["seller"].pk, updated_since="2025-02-01") == len(expected)


def test_filter_values_are_written_as_the_api_reads_them():
    assert filter_params(
        {
            "last_status": ["OK", "FULFILLED"],
            "placed_between": ("2025-01-01", None),
            "id_buyer": 7,
            "type": None,
        }
    ) == [
        ("filter[last_status]", "OK,FULFILLED"),
        ("filter[placed_between]", "2025-01-01,"),
        ("filter[id_buyer]", "7"),
    ]


def test_a_naive_datetime_filter_is_refused_rather_than_read_as_utc():
    with pytest.raises(ValueError, match="naive datetime"):
        filter_params({"updated_since": datetime(2025, 6, 1, 12)})
    with pytest.raises(ValueError, match="naive datetime"):
        filter_params({"placed_between": (datetime(2025, 6, 1), None)})


def test_updated_since_in_any_offset_is_the_same_instant(live_server, shop):
    client = PlatformApiClient(live_server.url, shop["token"].secret)
    since = datetime(2025, 2, 10, tzinfo=UTC)
    paris = since.astimezone(timezone(timedelta(hours=1)))

    in_utc = [order.id_order for order in client.orders(shop["seller"].pk, updated_since=since)]
    in_paris = [order.id_order for order in client.orders(shop["seller"].pk, updated_since=paris)]

    assert in_paris == in_utc
    assert len(in_utc) == SELLER_ORDERS - 40


def test_refusals_raise_with_the_api_message(live_server, shop):
    seller = shop["seller"].pk
    guest = ApiTokenFactory(guest=True)
    client = PlatformApiClient(live_server.url, shop["token"].secret)

    with pytest.raises(Unauthorized, match=re.escape("Unauthorized.")):
        list(PlatformApiClient(live_server.url, "pat_nope").orders(seller))
    with pytest.raises(
        Forbidden, match=re.escape("You don't have permission to access this route.")
    ):
        list(PlatformApiClient(live_server.url, guest.secret).orders(seller))
    with pytest.raises(NotFound, match=re.escape("The ambassador does not exist.")) as not_found:
        list(client.orders(AmbassadorFactory().pk))
    with pytest.raises(InvalidQuery) as invalid:
        list(client.orders(seller, per_page=500))

    assert not_found.value.status == 404
    assert invalid.value.status == 422
    assert invalid.value.errors == {
        "per_page": ["The per page field must not be greater than 100."]
    }


def test_429_and_503_are_retried_after_retry_after(proxy, plan, shop, pauses):
    plan.faults = {
        2: Fault(429, "Too Many Attempts.", "7"),
        3: Fault(503, "Service Unavailable", "2"),
        4: Fault(502, "Bad Gateway"),
    }
    client = PlatformApiClient(proxy, shop["token"].secret)

    orders = list(client.orders(shop["seller"].pk, per_page=10))

    assert len(orders) == SELLER_ORDERS
    assert client.retries == 3
    assert pauses[:2] == [7.0, 2.0]
    assert 0 <= pauses[2] <= RetryPolicy().backoff * 4  # third retry: backoff with jitter


def test_a_server_that_stays_unavailable_is_an_error_after_the_last_attempt(
    proxy, plan, shop, pauses
):
    plan.always = Fault(503, "Service Unavailable", "1")
    client = PlatformApiClient(proxy, shop["token"].secret, retry=RetryPolicy(attempts=4))

    with pytest.raises(Unavailable, match="Service Unavailable"):
        list(client.orders(shop["seller"].pk))

    assert len(plan.requests) == 4
    assert pauses == [1.0, 1.0, 1.0]


def test_an_answer_cut_off_midway_is_retried(proxy, plan, shop, pauses):
    plan.cuts = {2, 3}
    client = PlatformApiClient(proxy, shop["token"].secret)

    orders = list(client.orders(shop["seller"].pk, per_page=10))

    assert [order.id_order for order in orders] == [
        order.id_order for order in client.orders(shop["seller"].pk)
    ]
    assert len(orders) == SELLER_ORDERS
    assert client.retries == 2


def test_an_answer_always_cut_off_is_reported_as_unavailable(proxy, plan, shop, pauses):
    plan.cuts = set(range(1, 4))
    client = PlatformApiClient(proxy, shop["token"].secret, retry=RetryPolicy(attempts=3))

    with pytest.raises(Unavailable, match="the connection broke"):
        list(client.orders(shop["seller"].pk))

    assert len(plan.requests) == 3


def test_a_count_without_a_total_is_an_unexpected_response(proxy, plan, shop):
    plan.always = Fault(200, "not a page")
    client = PlatformApiClient(proxy, shop["token"].secret)

    with pytest.raises(UnexpectedResponse, match="total count"):
        client.count_orders(shop["seller"].pk)
    with pytest.raises(UnexpectedResponse, match="total count"):
        client.count_ambassadors()


@pytest.mark.parametrize(
    ("read", "message"),
    [
        (lambda client, seller: list(client.orders(seller)), "without cursor pagination"),
        (lambda client, seller: list(client.ambassadors()), "a data array"),
        (lambda client, seller: client.count_orders(seller), "total count"),
    ],
)
def test_an_unexpected_answer_says_which_answer(proxy, plan, shop, read, message):
    plan.always = Fault(200, "not a page")
    client = PlatformApiClient(proxy, shop["token"].secret)

    with pytest.raises(UnexpectedResponse, match=message) as unexpected:
        read(client, shop["seller"].pk)

    assert unexpected.value.status == 200
    assert unexpected.value.url is not None
    assert unexpected.value.url.startswith(f"{proxy}/api/v2/platform/ambassadors")
    assert f"(200 from {unexpected.value.url})" in str(unexpected.value)


def test_connection_errors_are_retried_then_reported(pauses):
    client = PlatformApiClient("http://127.0.0.1:9", "token", retry=RetryPolicy(attempts=3))

    with pytest.raises(Unavailable, match="cannot reach the API"):
        list(client.orders(1))

    assert client.retries == 2
    assert len(pauses) == 2


class _RedirectsToItself(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(302)
        self.send_header("Location", self.path)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_a_request_error_that_is_not_retried_is_a_platform_api_error(pauses):
    # given a server that redirects every request to itself (requests gives up: TooManyRedirects)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _RedirectsToItself)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    client = PlatformApiClient(f"http://127.0.0.1:{server.server_address[1]}", "token")
    try:
        # when, then: the client's own error, not requests' exception
        with pytest.raises(PlatformApiError, match="the request failed: Exceeded 30 redirects"):
            list(client.orders(1))
    finally:
        server.shutdown()
        server.server_close()
    assert pauses == []


@pytest.mark.parametrize("base_url", ["api.example.com", "127.0.0.1:8000", "ftp://x", "http://"])
def test_a_base_url_without_scheme_or_host_is_refused_at_once(base_url):
    with pytest.raises(ValueError, match="the base URL must be http:// or https://"):
        PlatformApiClient(base_url, "token")


def test_retry_after_is_capped():
    policy = RetryPolicy(max_retry_after=60)

    assert policy.pause(0, 3600) == 60
    assert policy.pause(5, 0) == 0
    assert 0 <= policy.pause(10, None) <= policy.max_backoff


def test_the_client_needs_no_django():
    code = (
        "import sys, platform_api_client.cli; "
        "print(sorted({m.split('.')[0] for m in sys.modules}"
        " & {'django', 'rest_framework', 'psycopg'}))"
    )

    output = subprocess.run(  # noqa: S603 - the test's own interpreter
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )

    assert output.stdout.strip() == "[]"
