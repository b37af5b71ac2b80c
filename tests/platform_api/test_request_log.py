"""One structured log line per request, whatever its outcome; a request id echoed to the caller."""

from __future__ import annotations

import json
import logging
import re
import sys

import pytest
from django.db import OperationalError, connection
from django.test import override_settings
from rest_framework.test import APIClient

from platform_api.pagination import LaravelPagination
from platform_api.request_log import JsonFormatter
from tests.conftest import bearer
from tests.factories import ApiTokenFactory, OrderFactory

LOGGER = "platform_api.request"
GENERATED_ID = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def request_logs(caplog):
    """The request log records of the test, in order."""
    caplog.set_level(logging.INFO, logger=LOGGER)

    def records() -> list[logging.LogRecord]:
        return [record for record in caplog.records if record.name == LOGGER]

    return records


def orders_url(ambassador_id: object) -> str:
    return f"/api/v2/platform/ambassadors/{ambassador_id}/orders"


@pytest.mark.django_db
def test_a_successful_call_is_one_line_with_the_token_prefix_and_no_secret(
    request_logs, ambassador, brand_token
):
    # given: a secret-looking value in the query string too
    OrderFactory(ambassador=ambassador)
    client = APIClient()
    client.credentials(**bearer(brand_token))

    # when
    response = client.get(
        orders_url(ambassador.pk) + "?page=1&api_token=leaked-secret",
        HTTP_X_REQUEST_ID="trace-123",
    )

    # then
    assert response.status_code == 200
    assert response["X-Request-ID"] == "trace-123"
    [record] = request_logs()
    fields = record.fields
    assert fields == {
        "method": "GET",
        "path": orders_url(ambassador.pk),
        "status": 200,
        "duration_ms": fields["duration_ms"],
        "request_id": "trace-123",
        "token_prefix": brand_token.prefix,
    }
    assert isinstance(fields["duration_ms"], float)
    assert fields["duration_ms"] >= 0
    line = JsonFormatter().format(record)
    assert brand_token.secret not in line
    assert "leaked-secret" not in line
    assert "api_token" not in line


@pytest.mark.django_db
@pytest.mark.parametrize(
    "sent",
    [
        None,  # absent: generated
        "",
        "x" * 129,  # too long to be an id
        "bad id with spaces",
        'forged"}, {"status": 200',  # log-forging attempt
    ],
)
def test_a_missing_or_unusable_request_id_is_replaced_by_a_generated_one(
    request_logs, sent, api_client
):
    headers = {} if sent is None else {"HTTP_X_REQUEST_ID": sent}

    response = api_client.get("/healthz", **headers)

    assert GENERATED_ID.fullmatch(response["X-Request-ID"])
    [record] = request_logs()
    assert record.fields["request_id"] == response["X-Request-ID"]


@pytest.mark.django_db
def test_each_request_gets_its_own_generated_id(request_logs, api_client):
    first = api_client.get("/healthz")["X-Request-ID"]
    second = api_client.get("/healthz")["X-Request-ID"]

    assert first != second


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),  # no token
        ({"HTTP_AUTHORIZATION": "Bearer pat_notatoken"}, 401),  # malformed token
        ("guest", 403),
        ("other brand", 404),
    ],
)
def test_refused_calls_are_logged_too(request_logs, api_client, ambassador, headers, status):
    if headers == "guest":
        headers = bearer(ApiTokenFactory(guest=True))
    elif headers == "other brand":
        headers = bearer(ApiTokenFactory())

    response = api_client.get(orders_url(ambassador.pk), **headers)

    assert response.status_code == status
    [record] = request_logs()
    fields = record.fields
    assert (fields["status"], fields["path"]) == (status, orders_url(ambassador.pk))
    assert fields["request_id"] == response["X-Request-ID"]
    # A token that authenticated is named by its prefix, even when it may not see the route.
    if status == 401:
        assert fields["token_prefix"] is None


@pytest.mark.django_db
def test_a_throttled_call_is_logged_with_429(request_logs, ambassador, brand_token):
    client = APIClient()
    client.credentials(**bearer(brand_token))
    rates = {"token": "1/minute"}
    with override_settings(REST_FRAMEWORK={"DEFAULT_THROTTLE_RATES": rates}):
        first = client.get(orders_url(ambassador.pk))
        second = client.get(orders_url(ambassador.pk))

    assert (first.status_code, second.status_code) == (200, 429)
    assert [r.fields["status"] for r in request_logs()] == [200, 429]
    assert request_logs()[1].fields["token_prefix"] == brand_token.prefix


@pytest.mark.django_db
def test_a_database_outage_is_logged_with_503(request_logs, monkeypatch, ambassador, brand_client):
    def outage(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly (simulated)")

    # The first query (the token's lookup) fails, as it would with the database gone.
    monkeypatch.setattr(connection, "cursor", outage)

    response = brand_client.get(orders_url(ambassador.pk))

    assert response.status_code == 503
    [record] = request_logs()
    assert record.fields["status"] == 503


@pytest.mark.django_db
def test_a_crash_is_logged_with_500(request_logs, monkeypatch, ambassador, brand_token):
    def crash(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(LaravelPagination, "envelope", crash)
    OrderFactory(ambassador=ambassador)
    client = APIClient(raise_request_exception=False)
    client.credentials(**bearer(brand_token))

    response = client.get(orders_url(ambassador.pk))

    assert response.status_code == 500
    assert response.json() == {"message": "Server Error"}
    [record] = request_logs()
    fields = record.fields
    assert (fields["status"], fields["token_prefix"]) == (500, brand_token.prefix)
    assert fields["request_id"] == response["X-Request-ID"]


def test_json_formatter_writes_one_json_object_per_line_with_the_fields_merged():
    record = logging.LogRecord(LOGGER, logging.INFO, __file__, 1, "request", None, None)
    record.fields = {"method": "GET", "path": "/x\ny", "status": 200}

    line = JsonFormatter().format(record)

    assert "\n" not in line  # a newline in a value cannot split the line
    payload = json.loads(line)
    assert payload["level"] == "INFO"
    assert payload["logger"] == LOGGER
    assert payload["message"] == "request"
    assert (payload["method"], payload["path"], payload["status"]) == ("GET", "/x\ny", 200)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", payload["time"])


def test_json_formatter_includes_the_exception():
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord(
            LOGGER, logging.ERROR, __file__, 1, "failed", None, sys.exc_info()
        )

    payload = json.loads(JsonFormatter().format(record))

    assert "ValueError: boom" in payload["exception"]
