"""Tokens are secrets: stored as a digest, never logged, compared in constant time, and their
expiry, revocation and last use behave as the contract says."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ambassadors import tokens
from ambassadors.models import ApiToken
from ambassadors.services import token_create, token_revoke
from platform_api.request_log import JsonFormatter
from tests.conftest import bearer
from tests.factories import AmbassadorFactory, ApiTokenFactory, BrandFactory

pytestmark = pytest.mark.django_db


def random_part(secret: str) -> str:
    """The secret after `pat_<prefix>_` (it may itself contain underscores)."""
    return secret[len(tokens.MARKER) + tokens.PREFIX_LENGTH + 1 :]


def orders_url(ambassador) -> str:
    return f"/api/v2/platform/ambassadors/{ambassador.pk}/orders"


@pytest.fixture
def token_and_secret():
    brand: Any = BrandFactory()
    token, secret = token_create(kind=ApiToken.Kind.BRAND, brand=brand, name="ci")
    return token, secret, AmbassadorFactory(brand=brand)


def test_secret_is_recognisable_by_secret_scanners(token_and_secret):
    token, secret, _ = token_and_secret

    assert secret.startswith("pat_")
    assert tokens.TOKEN_RE.fullmatch(secret)
    assert secret.startswith(f"pat_{token.prefix}_")


def test_only_the_digest_and_the_public_prefix_are_stored(token_and_secret):
    token, secret, _ = token_and_secret

    row = ApiToken.objects.filter(pk=token.pk).values().get()

    assert row["digest"] == hashlib.sha256(secret.encode()).hexdigest()
    assert row["prefix"] == token.prefix
    secret_part = random_part(secret)
    for value in row.values():
        assert secret not in str(value)
        assert secret_part not in str(value)


def test_secret_is_never_shown_again_after_creation(token_and_secret):
    token, secret, _ = token_and_secret

    reloaded = ApiToken.objects.get(pk=token.pk)

    assert not hasattr(reloaded, "secret")
    assert secret not in str(reloaded)
    assert secret not in repr(reloaded)
    assert token.prefix in str(reloaded)


def test_two_tokens_never_share_a_secret_or_a_prefix():
    brand: Any = BrandFactory()
    created = [token_create(kind=ApiToken.Kind.BRAND, brand=brand) for _ in range(20)]

    assert len({secret for _, secret in created}) == 20
    assert len({token.prefix for token, _ in created}) == 20


@pytest.fixture
def captured_logs():
    """Every record of the service's loggers, whatever the logging configuration in force."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep(level=logging.DEBUG)
    loggers = [logging.getLogger(name) for name in ("platform_api", "django", "")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    yield records
    for logger, level in zip(loggers, levels, strict=True):
        logger.removeHandler(handler)
        logger.setLevel(level)


@pytest.mark.parametrize(
    "mangle",
    [lambda s: s, lambda s: s[:-1] + ("A" if s[-1] != "A" else "B"), lambda s: "bearer-" + s],
    ids=["valid", "wrong-secret-right-prefix", "garbled"],
)
def test_secret_never_appears_in_the_logs(client, token_and_secret, captured_logs, mangle):
    _, secret, ambassador = token_and_secret
    sent = mangle(secret)

    client.get(orders_url(ambassador), HTTP_AUTHORIZATION=f"Bearer {sent}")

    formatter = JsonFormatter()
    lines = [formatter.format(record) for record in captured_logs]
    request_lines = [
        json.loads(line) for line in lines if '"logger": "platform_api.request"' in line
    ]
    assert request_lines, "the request log middleware wrote nothing"
    text = "\n".join(lines)
    assert sent not in text
    assert secret not in text
    assert random_part(secret) not in text


def test_request_log_names_the_token_by_its_prefix(client, token_and_secret, captured_logs):
    token, secret, ambassador = token_and_secret

    response = client.get(orders_url(ambassador), HTTP_AUTHORIZATION=f"Bearer {secret}")

    assert response.status_code == 200
    logged = [getattr(r, "fields", {}) for r in captured_logs if r.name == "platform_api.request"]
    assert logged[-1]["token_prefix"] == token.prefix
    assert logged[-1]["status"] == 200


def test_lookup_is_by_prefix_then_constant_time_comparison(client, token_and_secret):
    token, secret, ambassador = token_and_secret
    wrong = secret[:-1] + ("A" if secret[-1] != "A" else "B")

    with (
        mock.patch("ambassadors.tokens.hmac.compare_digest", wraps=hmac.compare_digest) as compare,
        CaptureQueriesContext(connection) as queries,
    ):
        refused = client.get(orders_url(ambassador), HTTP_AUTHORIZATION=f"Bearer {wrong}")

    assert refused.status_code == 401
    compare.assert_called_once()
    presented_digest, stored_digest = compare.call_args.args
    assert stored_digest == token.digest
    assert presented_digest == hashlib.sha256(wrong.encode()).hexdigest()
    token_queries = [
        q["sql"] for q in queries.captured_queries if "ambassadors_apitoken" in q["sql"]
    ]
    assert len(token_queries) == 1
    # The database is asked for the public prefix, never for the secret or its digest.
    assert token.prefix in token_queries[0]
    assert token.digest not in token_queries[0]
    assert presented_digest not in token_queries[0]


def test_unknown_prefix_is_refused_without_comparison(client, ambassador):
    unknown = "pat_zzzzzzzzzz_" + "A" * 43

    with mock.patch("ambassadors.tokens.hmac.compare_digest") as compare:
        response = client.get(orders_url(ambassador), HTTP_AUTHORIZATION=f"Bearer {unknown}")

    assert response.status_code == 401
    compare.assert_not_called()


def test_revocation_takes_effect_on_the_next_request(client, token_and_secret):
    token, secret, ambassador = token_and_secret
    assert client.get(orders_url(ambassador), **bearer_of(secret)).status_code == 200

    token_revoke(token=token)

    response = client.get(orders_url(ambassador), **bearer_of(secret))
    assert response.status_code == 401
    assert response.json() == {"message": "Unauthorized."}
    assert response["WWW-Authenticate"] == "Bearer"


def test_expiry_takes_effect_on_the_next_request(client):
    brand: Any = BrandFactory()
    token, secret = token_create(kind=ApiToken.Kind.BRAND, brand=brand, expires_in_days=1)
    ambassador = AmbassadorFactory(brand=brand)
    assert client.get(orders_url(ambassador), **bearer_of(secret)).status_code == 200

    assert token.expires_at is not None
    later = token.expires_at + timedelta(seconds=1)
    with mock.patch("django.utils.timezone.now", return_value=later):
        response = client.get(orders_url(ambassador), **bearer_of(secret))

    assert response.status_code == 401


def test_a_future_revocation_is_not_yet_in_force(client):
    token = ApiTokenFactory(revoked_at=timezone.now() + timedelta(hours=1))
    ambassador = AmbassadorFactory(brand=token.brand)

    assert client.get(orders_url(ambassador), **bearer(token)).status_code == 200


def bearer_of(secret: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def token_updates(queries: CaptureQueriesContext) -> list[str]:
    return [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith("UPDATE") and "ambassadors_apitoken" in q["sql"]
    ]


def test_last_use_is_written_at_most_once_a_minute(client, token_and_secret, settings):
    settings.TOKEN_LAST_USED_INTERVAL = 60
    token, secret, ambassador = token_and_secret
    start = timezone.now()

    # given two quick requests
    with (
        mock.patch("django.utils.timezone.now", return_value=start),
        CaptureQueriesContext(connection) as first_two,
    ):
        assert client.get(orders_url(ambassador), **bearer_of(secret)).status_code == 200
        assert client.get(orders_url(ambassador), **bearer_of(secret)).status_code == 200
    # then one write, for the first
    assert len(token_updates(first_two)) == 1
    assert ApiToken.objects.get(pk=token.pk).last_used_at == start

    # when less than a minute has passed: no write
    with (
        mock.patch("django.utils.timezone.now", return_value=start + timedelta(seconds=59)),
        CaptureQueriesContext(connection) as within,
    ):
        assert client.get(orders_url(ambassador), **bearer_of(secret)).status_code == 200
    assert token_updates(within) == []

    # when a minute has passed: one write, recording the new time
    moved = start + timedelta(seconds=61)
    with (
        mock.patch("django.utils.timezone.now", return_value=moved),
        CaptureQueriesContext(connection) as after,
    ):
        assert client.get(orders_url(ambassador), **bearer_of(secret)).status_code == 200
        assert client.get(orders_url(ambassador), **bearer_of(secret)).status_code == 200
    assert len(token_updates(after)) == 1
    assert ApiToken.objects.get(pk=token.pk).last_used_at == moved


def test_refused_requests_do_not_record_a_use(client):
    token: Any = ApiTokenFactory(expired=True)
    ambassador = AmbassadorFactory(brand=token.brand)

    assert client.get(orders_url(ambassador), **bearer(token)).status_code == 401

    assert ApiToken.objects.get(pk=token.pk).last_used_at is None
