"""Bearer authentication: every failure is the same 401, and last use is written sparingly."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from ambassadors.models import ApiToken
from platform_api.authentication import credentials_from_header
from tests.conftest import bearer
from tests.factories import AmbassadorFactory, ApiTokenFactory

UNAUTHORIZED = {"message": "Unauthorized."}
WELL_FORMED_UNKNOWN = "pat_abcdefghij_" + "A" * 43


def client_for(token) -> APIClient:
    client = APIClient()
    client.credentials(**bearer(token))
    return client


def orders_url(ambassador) -> str:
    return f"/api/v2/platform/ambassadors/{ambassador.pk}/orders"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Bearer abc", "abc"),
        ("bearer abc", "abc"),  # the scheme is case-insensitive (RFC 7235)
        ("BEARER abc", "abc"),
        ("Bearer", None),
        ("Bearer ", None),
        ("Basic abc", None),
        ("Token abc", None),
        ("", None),
        ("Bearerabc", None),
        ("Bearer " + "a" * 257, None),
    ],
)
def test_credentials_from_header(header, expected):
    assert credentials_from_header(header) == expected


def assert_unauthorized(response):
    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED
    assert response["WWW-Authenticate"] == "Bearer"
    assert response["Content-Type"] == "application/json"


@pytest.mark.django_db
def test_no_authorization_header_is_401(ambassador):
    assert_unauthorized(APIClient().get(orders_url(ambassador)))


@pytest.mark.parametrize(
    "header",
    [
        "",
        "Bearer",
        "Bearer ",
        "Bearer  {secret}",  # two spaces
        "Bearer {secret} ",
        "Basic {secret}",
        "Token {secret}",
        "{secret}",
        "Bearer {secret}x",
        "Bearer {secret_upper}",
        "Bearer pat_",
        "Bearer not-a-token",
        f"Bearer {WELL_FORMED_UNKNOWN}",  # well-formed, unknown prefix
        "Bearer {known_prefix_wrong_secret}",
        "Bearer " + "x" * 10_000,
    ],
)
@pytest.mark.django_db
def test_malformed_or_unknown_tokens_are_401(ambassador, brand_token, header):
    secret = brand_token.secret
    known_prefix_wrong_secret = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    header = header.format(
        secret=secret,
        secret_upper=secret.upper(),
        known_prefix_wrong_secret=known_prefix_wrong_secret,
    )

    response = APIClient().get(orders_url(ambassador), HTTP_AUTHORIZATION=header)

    assert_unauthorized(response)


@pytest.mark.parametrize(
    "trait", [{"expired": True}, {"revoked": True}, {"expired": True, "revoked": True}]
)
@pytest.mark.parametrize("kind", ["brand", "ambassador", "guest"])
@pytest.mark.django_db
def test_expired_and_revoked_tokens_are_401_whatever_their_kind(ambassador, kind, trait):
    token: Any  # factory_boy instances are typed as the factory
    if kind == "brand":
        token = ApiTokenFactory(brand=ambassador.brand, **trait)
    elif kind == "ambassador":
        token = ApiTokenFactory(for_ambassador=True, ambassador=ambassador, **trait)
    else:
        token = ApiTokenFactory(guest=True, **trait)

    response = client_for(token).get(orders_url(ambassador))

    assert_unauthorized(response)
    token.refresh_from_db()
    assert token.last_used_at is None  # a refused token is not "used"


@pytest.mark.django_db
def test_a_token_revoked_in_the_future_still_works(ambassador):
    token = ApiTokenFactory(brand=ambassador.brand, revoked_at=timezone.now() + timedelta(hours=1))

    response = client_for(token).get(orders_url(ambassador))

    assert response.status_code == 200


@pytest.mark.django_db
def test_a_token_that_expires_later_works(ambassador):
    token = ApiTokenFactory(
        brand=ambassador.brand, expires_at=timezone.now() + timedelta(minutes=1)
    )

    assert client_for(token).get(orders_url(ambassador)).status_code == 200


@pytest.mark.django_db
def test_401_comes_before_403_and_404():
    # An unknown id and no credentials: still 401, never a hint about the id.
    response = APIClient().get("/api/v2/platform/ambassadors/999999/orders")

    assert_unauthorized(response)


@pytest.mark.django_db
def test_first_use_is_recorded_once_then_not_within_the_interval(
    ambassador, brand_token, django_assert_num_queries, settings
):
    # given
    settings.TOKEN_LAST_USED_INTERVAL = 60
    client = APIClient()
    client.credentials(**bearer(brand_token))
    assert brand_token.last_used_at is None

    # when / then: the first request pays one UPDATE
    with django_assert_num_queries(3) as first:
        assert client.get(orders_url(ambassador)).status_code == 200
    assert sum(query["sql"].startswith("UPDATE") for query in first.captured_queries) == 1
    brand_token.refresh_from_db()
    first_use = brand_token.last_used_at
    assert first_use is not None

    # when / then: the next one within the interval writes nothing
    with django_assert_num_queries(2) as second:
        assert client.get(orders_url(ambassador)).status_code == 200
    assert not any(query["sql"].startswith("UPDATE") for query in second.captured_queries)
    brand_token.refresh_from_db()
    assert brand_token.last_used_at == first_use


@pytest.mark.django_db
def test_use_is_recorded_again_after_the_interval(ambassador, brand_token, settings):
    settings.TOKEN_LAST_USED_INTERVAL = 60
    long_ago = timezone.now() - timedelta(seconds=61)
    ApiToken.objects.filter(pk=brand_token.pk).update(last_used_at=long_ago)
    client = APIClient()
    client.credentials(**bearer(brand_token))

    assert client.get(orders_url(ambassador)).status_code == 200

    brand_token.refresh_from_db()
    assert brand_token.last_used_at > long_ago


@pytest.mark.django_db
def test_an_ambassador_token_authenticates_as_its_ambassador():
    own = AmbassadorFactory()
    token = ApiTokenFactory(for_ambassador=True, ambassador=own)

    response = client_for(token).get(orders_url(own))

    assert response.status_code == 200
    assert response.json()["total"] == 0
