"""Property-based fuzzing of every operation in the published OpenAPI schema (Schemathesis).

The schema is the one the service serves (`/api/v2/schema/`), loaded in process through the WSGI
application, with data in the database and a valid brand token, so that generated requests reach
the query and the 200 bodies are checked against the schema too.

Checks: no server error, status codes documented, content type documented, bodies and headers
matching the schema, values the schema allows never refused (bad input: test_hostile_input.py).

Examples per test: FUZZ_EXAMPLES (default 100). A longer run, e.g. before a release:
    FUZZ_EXAMPLES=2000 .venv/bin/pytest tests/test_fuzz_schemathesis.py
"""

from __future__ import annotations

import copy
import os
from datetime import timedelta
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from ambassadors.models import ApiToken
from ambassadors.services import token_create
from orders.models import Order
from tests.factories import (
    AmbassadorFactory,
    BrandFactory,
    I18nContentFactory,
    OrderFactory,
    OrderProductFactory,
    ProductFactory,
)

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "100"))

# What the answers must be: never a 5xx, and exactly what the schema documents.
RESPONSE_CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Whether the schema describes the accepted input: values it allows are not refused with a
# 400/422. (Not the converse: the test must point the path at a real ambassador and send a valid
# token, which turns Schemathesis' negative cases that mutated the id or the header back into
# valid requests, so "negative data accepted" would be the test's artefact, not the service's.)
REQUEST_CHECKS = [positive_data_acceptance]

fuzz_settings = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    # The data fixture is created once per test and only read by the examples (GET only).
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=os.environ.get("FUZZ_RANDOM", "") == "",
    database=None,
)


def load_schema() -> schemathesis.schemas.BaseSchema:
    """The schema as the service serves it. Loaded at collection (pytest-django has configured
    Django by then; the schema view touches no database): Schemathesis' lazy `from_fixture`
    loader does not work with pytest 9 (it reads the removed `Item._nodeid`). Django's own WSGI
    handler, not platform_api.wsgi: that module logs the pooler mode, which connects."""
    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()

    return schemathesis.openapi.from_wsgi("/api/v2/schema/?format=json", application)


# Free-form dates: "2024-02-30" fits any pattern a JSON schema can hold but is no date, so the
# schema cannot describe them exactly. The precision test leaves them out; the others fuzz them.
FREE_FORM_PARAMETERS = {"filter[placed_between]", "filter[updated_since]"}


def load_strict_schema() -> schemathesis.schemas.BaseSchema:
    """The served schema without the free-form parameters, generating no made-up parameters
    (the contract ignores unknown ones, as Laravel does, which no OpenAPI schema can say)."""
    served = load_schema()
    raw = copy.deepcopy(served.raw_schema)
    for operations in raw["paths"].values():
        for operation in operations.values():
            if isinstance(operation, dict) and "parameters" in operation:
                operation["parameters"] = [
                    p for p in operation["parameters"] if p.get("name") not in FREE_FORM_PARAMETERS
                ]
    strict = schemathesis.openapi.from_dict(raw)
    strict.app = served.app
    strict.config.generation.update(allow_extra_parameters=False)
    return strict


schema = load_schema()
strict_schema = load_strict_schema()


@pytest.fixture
def keep_connection():
    """Schemathesis calls the real WSGI handler, whose request hooks close a connection that is
    not in autocommit mode, which the test's is (inside the test transaction): on PostgreSQL
    every later query would fail. Django's own test client unhooks them the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def loaded(db, keep_connection):
    """A brand with an ambassador who has orders of every kind the filters can select; another
    brand with its own; a brand token (the secret is returned)."""
    brand: Any = BrandFactory()
    other: Any = BrandFactory()
    ambassador = AmbassadorFactory(brand=brand)
    now = timezone.now()
    products = [ProductFactory() for _ in range(3)]
    for product in products:
        I18nContentFactory(product=product)
        I18nContentFactory(product=product, lang="fr_FR")
    variants: list[dict[str, Any]] = [
        {"currency": "EUR", "source": "shopify", "type": Order.Type.WEB},
        {"currency": "USD", "source": "pos", "last_status": Order.Status.OK, "id_chatroom": 7},
        {"currency": "GBP", "assignment": Order.Assignment.values[0], "id_order_external": None},
    ]
    for index in range(24):
        order = OrderFactory(
            ambassador=ambassador,
            date_order=now - timedelta(days=index, hours=index),
            **variants[index % len(variants)],
        )
        for line in range(index % 3 + 1):
            OrderProductFactory(order=order, product=products[line], quantity=line + 1)
    OrderProductFactory(order__ambassador=AmbassadorFactory(brand=other))
    _, secret = token_create(kind=ApiToken.Kind.BRAND, brand=brand)
    return ambassador, {"Authorization": f"Bearer {secret}"}


@schema.parametrize()
@fuzz_settings
def test_every_operation_with_generated_ids(case, loaded):
    # Ids are generated too: mostly unknown ambassadors (404), never a 5xx.
    _, headers = loaded

    case.call_and_validate(headers=headers, checks=RESPONSE_CHECKS)


@schema.parametrize()
@fuzz_settings
def test_every_operation_on_an_ambassador_with_orders(case, loaded):
    # The same, with the path pointing at an ambassador of the token's brand, so that generated
    # filters, sorts and pages reach the query and 200 bodies are validated against the schema.
    ambassador, headers = loaded
    if case.path_parameters is not None and "id" in case.path_parameters:
        case.path_parameters["id"] = ambassador.pk

    case.call_and_validate(headers=headers, checks=RESPONSE_CHECKS)


@strict_schema.parametrize()
@fuzz_settings
def test_schema_describes_accepted_input_exactly(case, loaded):
    ambassador, headers = loaded
    if case.path_parameters is not None and "id" in case.path_parameters:
        case.path_parameters["id"] = ambassador.pk

    case.call_and_validate(headers=headers, checks=REQUEST_CHECKS)
