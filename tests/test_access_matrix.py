"""Who may read whose orders: every kind of token against every kind of ambassador.

Order of checks (contract): 401 (who are you), then 403 (may your kind of token ask this), then
404 (does this ambassador exist for you) — so an ambassador token cannot probe which ids exist.
Also: the Django admin is for staff only, at a configurable path.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from orders.models import Order
from tests.conftest import bearer
from tests.factories import AmbassadorFactory, ApiTokenFactory, BrandFactory, OrderFactory

UNAUTHORIZED = {"message": "Unauthorized."}
FORBIDDEN = {"message": "You don't have permission to access this route."}
NOT_FOUND = {"message": "The ambassador does not exist."}
NONEXISTENT_ID = 987_654_321


@pytest.fixture
def world(db):
    """Two brands; brand A has two ambassadors (each with an order), brand B one."""
    brand_a, brand_b = BrandFactory(), BrandFactory()
    a1: Any = AmbassadorFactory(brand=brand_a)
    a2: Any = AmbassadorFactory(brand=brand_a)
    b1: Any = AmbassadorFactory(brand=brand_b)
    for ambassador in (a1, a2, b1):
        OrderFactory(ambassador=ambassador)
    tokens = {
        "brand-a": ApiTokenFactory(brand=brand_a),
        "brand-b": ApiTokenFactory(brand=brand_b),
        "ambassador-a1": ApiTokenFactory(for_ambassador=True, ambassador=a1),
        "guest": ApiTokenFactory(guest=True),
        "brand-a-expired": ApiTokenFactory(brand=brand_a, expired=True),
        "brand-a-revoked": ApiTokenFactory(brand=brand_a, revoked=True),
        "ambassador-a1-expired": ApiTokenFactory(for_ambassador=True, ambassador=a1, expired=True),
        "ambassador-a1-revoked": ApiTokenFactory(for_ambassador=True, ambassador=a1, revoked=True),
    }
    ambassadors: dict[str, Any] = {
        "a1": a1.pk,
        "a2": a2.pk,
        "b1": b1.pk,
        "nonexistent": NONEXISTENT_ID,
    }
    return tokens, ambassadors


MATRIX = [
    # token, ambassador, status, body (None: a 200 page)
    ("brand-a", "a1", 200, None),
    ("brand-a", "a2", 200, None),
    ("brand-a", "b1", 404, NOT_FOUND),
    ("brand-a", "nonexistent", 404, NOT_FOUND),
    ("brand-b", "b1", 200, None),
    ("brand-b", "a1", 404, NOT_FOUND),
    ("ambassador-a1", "a1", 200, None),
    ("ambassador-a1", "a2", 403, FORBIDDEN),
    ("ambassador-a1", "b1", 403, FORBIDDEN),
    ("ambassador-a1", "nonexistent", 403, FORBIDDEN),
    ("guest", "a1", 403, FORBIDDEN),
    ("guest", "b1", 403, FORBIDDEN),
    ("guest", "nonexistent", 403, FORBIDDEN),
    ("brand-a-expired", "a1", 401, UNAUTHORIZED),
    ("brand-a-revoked", "a1", 401, UNAUTHORIZED),
    ("brand-a-expired", "nonexistent", 401, UNAUTHORIZED),
    ("ambassador-a1-expired", "a1", 401, UNAUTHORIZED),
    ("ambassador-a1-revoked", "a1", 401, UNAUTHORIZED),
    (None, "a1", 401, UNAUTHORIZED),
    (None, "nonexistent", 401, UNAUTHORIZED),
]


@pytest.mark.parametrize(
    ("token_name", "ambassador_name", "status", "body"),
    MATRIX,
    ids=[f"{t or 'anonymous'}-reads-{a}" for t, a, _, _ in MATRIX],
)
def test_access_matrix(client, world, token_name, ambassador_name, status, body):
    tokens, ambassadors = world
    ambassador_id = ambassadors[ambassador_name]
    headers = bearer(tokens[token_name]) if token_name else {}

    response = client.get(f"/api/v2/platform/ambassadors/{ambassador_id}/orders", **headers)

    assert response.status_code == status
    if body is None:
        page = response.json()
        assert page["total"] == 1
        assert [order["id_order"] for order in page["data"]] == _order_ids(ambassador_id)
    else:
        assert response.json() == body
    if status == 401:
        assert response["WWW-Authenticate"] == "Bearer"


def _order_ids(ambassador_id: int) -> list[int]:
    return list(Order.objects.filter(ambassador_id=ambassador_id).values_list("pk", flat=True))


def test_a_brand_never_sees_another_brands_orders_through_filters(client, world):
    # id_buyer of another brand's buyer: filtered to nothing, never leaked.
    tokens, ambassadors = world
    foreign_buyer = Order.objects.get(ambassador_id=ambassadors["b1"]).buyer_id
    response = client.get(
        f"/api/v2/platform/ambassadors/{ambassadors['a1']}/orders",
        {"filter[id_buyer]": str(foreign_buyer)},
        **bearer(tokens["brand-a"]),
    )

    assert response.status_code == 200
    assert response.json()["data"] == []


# --- Django admin ------------------------------------------------------------------------------


@pytest.fixture
def users(db):
    model = get_user_model()
    return {
        "staff": model.objects.create_user("staff", password="pw-staff", is_staff=True),
        "superuser": model.objects.create_superuser("root", password="pw-root"),
        "not-staff": model.objects.create_user("plain", password="pw-plain"),
    }


@pytest.mark.parametrize(
    ("who", "status"),
    [("anonymous", 302), ("not-staff", 302), ("staff", 200), ("superuser", 200)],
)
def test_admin_is_for_staff_only(client, users, who, status):
    if who != "anonymous":
        client.force_login(users[who])

    response = client.get("/admin/")

    assert response.status_code == status
    if status == 302:
        assert response["Location"].startswith("/admin/login/")


def test_api_tokens_do_not_open_the_admin(client, world):
    tokens, _ = world

    response = client.get("/admin/", **bearer(tokens["brand-a"]))

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_admin_path_is_configurable():
    # urls.py reads ADMIN_URL once, at import: check it in a fresh process.
    script = (
        "import django; django.setup()\n"
        "from django.urls import Resolver404, resolve, reverse\n"
        "print(reverse('admin:index'))\n"
        "try:\n"
        "    resolve('/admin/')\n"
        "    print('old path still served')\n"
        "except Resolver404:\n"
        "    print('old path gone')\n"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "platform_api.settings.test",
        "ADMIN_URL": "/back-office-7f3a/",
    }
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", script],
        env=env,
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    assert result.stdout.split() == ["/back-office-7f3a/", "old", "path", "gone"]
