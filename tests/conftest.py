"""Shared fixtures: API clients per token kind."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from tests.factories import AmbassadorFactory, ApiTokenFactory, BrandFactory
from tests.php_reference import php_reference


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Rate-limit budgets live in the cache; each test starts with a full budget.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def brand(db):
    return BrandFactory()


@pytest.fixture
def ambassador(brand):
    return AmbassadorFactory(brand=brand)


@pytest.fixture
def brand_token(brand):
    return ApiTokenFactory(brand=brand)


@pytest.fixture
def api_client():
    return APIClient()


def bearer(token) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token.secret}"}


@pytest.fixture
def brand_client(brand_token):
    client = APIClient()
    client.credentials(**bearer(brand_token))
    return client


@pytest.fixture(scope="session")
def php():
    """PHP itself, for the differential tests (tests/php_reference.py)."""
    reference = php_reference()
    yield reference
    reference.close()
