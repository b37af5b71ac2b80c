"""Creating tokens (the service and `manage.py create_token`): the secret authenticates, and
neither it nor anything that reveals it is stored anywhere in the database."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from ambassadors import tokens
from ambassadors.models import ApiToken
from ambassadors.services import token_create
from tests.factories import AmbassadorFactory, BrandFactory, OrderFactory

pytestmark = pytest.mark.django_db


def _get_orders(ambassador_id: int, secret: str):
    return APIClient().get(
        f"/api/v2/platform/ambassadors/{ambassador_id}/orders",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )


def _everything_stored() -> str:
    """Every value of every row of every table, as one text."""
    parts: list[str] = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            parts.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(parts)


def _revealing_parts(secret: str) -> list[str]:
    """The secret and its random part, which alone would rebuild it with the public prefix."""
    random_part = secret[len(tokens.MARKER) + tokens.PREFIX_LENGTH + 1 :]
    return [secret, random_part, random_part[:16], random_part[-16:]]


@pytest.mark.parametrize("kind", ["brand", "ambassador"])
def test_a_created_token_authenticates(kind):
    # given
    order = OrderFactory()
    ambassador = order.ambassador

    # when
    token, secret = token_create(
        kind=kind,
        brand=ambassador.brand if kind == "brand" else None,
        ambassador=ambassador if kind == "ambassador" else None,
    )

    # then
    response = _get_orders(ambassador.pk, secret)
    assert response.status_code == 200
    assert response.json()["total"] == 1
    assert token.brand_id == ambassador.brand_id


def test_a_guest_token_authenticates_but_may_not_read_orders():
    ambassador = AmbassadorFactory()
    _, secret = token_create(kind="guest")

    assert _get_orders(ambassador.pk, secret).status_code == 403
    assert _get_orders(ambassador.pk, secret + "x").status_code == 401


def test_the_secret_is_nowhere_in_the_database():
    # given
    ambassador = AmbassadorFactory()
    token, secret = token_create(kind="ambassador", ambassador=ambassador, name="pos")
    assert _get_orders(ambassador.pk, secret).status_code == 200  # a use is recorded too

    # then: the token's own row holds the public prefix and the digest only
    row = ApiToken.objects.filter(pk=token.pk).values().get()
    for value in row.values():
        for part in _revealing_parts(secret):
            assert part not in str(value)
    assert row["digest"] == tokens.digest_of(secret)
    assert row["prefix"] == tokens.parse_prefix(secret)
    # and no other table has it either
    stored = _everything_stored()
    assert token.prefix in stored
    for part in _revealing_parts(secret):
        assert part not in stored


def _run_create_token(*args: str) -> list[str]:
    out = StringIO()
    call_command("create_token", *args, stdout=out)
    return out.getvalue().rstrip("\n").split("\n")


def test_create_token_prints_the_secret_alone_on_its_last_line_and_it_works():
    # given
    order = OrderFactory()
    brand = order.ambassador.brand

    # when
    lines = _run_create_token(
        "--kind", "brand", "--brand", str(brand.pk), "--name", "ci", "--expires-in-days", "7"
    )

    # then
    secret = lines[-1]
    assert tokens.parse_prefix(secret) is not None
    assert len(lines) > 1
    assert all(secret not in line for line in lines[:-1])
    token = ApiToken.objects.get()
    assert token.prefix in lines[0]
    assert (token.kind, token.brand_id, token.name) == ("brand", brand.pk, "ci")
    assert token.expires_at is not None
    expected_expiry = timezone.now() + timedelta(days=7)
    assert abs(token.expires_at - expected_expiry) < timedelta(minutes=1)
    assert _get_orders(order.ambassador_id, secret).status_code == 200
    for part in _revealing_parts(secret):
        assert part not in _everything_stored()


@pytest.mark.parametrize(
    ("args", "kind", "expires"),
    [
        (["--kind", "ambassador", "--ambassador", "AMB"], "ambassador", False),
        (["--kind", "guest"], "guest", False),
        (["--kind", "guest", "--brand", "BRAND"], "guest", False),
    ],
)
def test_create_token_kinds(args, kind, expires):
    ambassador = AmbassadorFactory()
    values = {"AMB": str(ambassador.pk), "BRAND": str(ambassador.brand_id)}

    lines = _run_create_token(*[values.get(a, a) for a in args])

    token = ApiToken.objects.get()
    assert token.kind == kind
    assert token.digest == tokens.digest_of(lines[-1])
    assert (token.expires_at is not None) is expires
    if kind == "ambassador":
        assert (token.ambassador_id, token.brand_id) == (ambassador.pk, ambassador.brand_id)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--kind", "brand"], "needs --brand"),
        (["--kind", "brand", "--brand", "999999"], "No brand with id 999999"),
        (["--kind", "ambassador"], "needs --ambassador"),
        (["--kind", "ambassador", "--ambassador", "999999"], "No ambassador with id 999999"),
        (["--kind", "brand", "--brand", "BRAND", "--ambassador", "AMB"], "only for ambassador"),
        (["--kind", "ambassador", "--ambassador", "AMB", "--brand", "OTHER"], "belongs to brand"),
        (["--kind", "brand", "--brand", "BRAND", "--expires-in-days", "0"], "positive"),
        (["--kind", "admin"], "invalid choice"),
        (["--kind", "brand", "--brand", "one"], "invalid int value"),
    ],
)
def test_create_token_refuses_bad_input_clearly(args, message):
    ambassador = AmbassadorFactory()
    other = BrandFactory()
    values = {"AMB": str(ambassador.pk), "BRAND": str(ambassador.brand_id), "OTHER": str(other.pk)}

    with pytest.raises(CommandError, match=message):
        _run_create_token(*[values.get(a, a) for a in args])

    assert not ApiToken.objects.exists()
