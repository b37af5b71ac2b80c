"""A live server with a seller's orders, a brand token, and the faulty proxy in front of it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from platform_api_client import http as client_http

from tests.client.faulty_proxy import Plan, start_proxy
from tests.factories import (
    AmbassadorFactory,
    ApiTokenFactory,
    BrandFactory,
    I18nContentFactory,
    OrderFactory,
    OrderProductFactory,
    ProductFactory,
)

TOKEN_ENV = "PLATFORM_API_TEST_TOKEN"
SELLER_ORDERS = 45


@pytest.fixture
def shop(transactional_db):
    """A brand with a seller of 45 orders (0 to 3 lines each, awkward text and numbers), a
    second seller with 3, and a brand token."""
    brand = BrandFactory()
    seller, other = AmbassadorFactory(brand=brand), AmbassadorFactory(brand=brand)
    buyer = AmbassadorFactory(brand=brand, firstname='Zoë "Z" O\'Neil, \u00e9/\u2028')
    products = [ProductFactory(price=Decimal("42.00"), description="a,b\r\nc") for _ in range(3)]
    for product in products[:2]:
        I18nContentFactory(product=product, lang="en_GB")
        I18nContentFactory(product=product, lang="fr_FR")
    base = datetime(2025, 1, 1, tzinfo=UTC)
    for n in range(SELLER_ORDERS):
        order = OrderFactory(
            ambassador=seller,
            buyer=buyer,
            date_order=base + timedelta(hours=n // 2),  # pairs share an instant
            date_update=base + timedelta(days=n),
            total_amount=Decimal(n) + Decimal("0.10"),
            id_meeting_external=None if n % 2 else f"M-{n}",
        )
        for m in range(n % 4):
            OrderProductFactory(order=order, product=products[m], unit_price=Decimal("19.90"))
    for _ in range(3):
        OrderFactory(ambassador=other, buyer=buyer)
    token = ApiTokenFactory(brand=brand)
    return {"seller": seller, "other": other, "token": token, "brand": brand}


@pytest.fixture
def token_env(shop, monkeypatch) -> str:
    monkeypatch.setenv(TOKEN_ENV, shop["token"].secret)
    return TOKEN_ENV


@pytest.fixture
def plan() -> Plan:
    return Plan()


@pytest.fixture
def proxy(live_server, plan) -> Iterator[str]:
    server, url = start_proxy(live_server.url, plan)
    yield url
    plan.release.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def pauses(monkeypatch) -> list[float]:
    """The retry pauses the client takes, recorded instead of slept."""
    recorded: list[float] = []
    monkeypatch.setattr(client_http, "sleep", recorded.append)
    return recorded
