"""The API speaks JSON whatever the client asks for, as the Laravel original does: never a 406,
and `format` is an ordinary query parameter rather than DRF's format override."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

ROUTE = "/api/v2/platform/ambassadors/{id}/orders"


@pytest.mark.parametrize(
    "accept", ["text/html", "application/xml", "garbage;;", "application/json;q=0", "*/*"]
)
def test_any_accept_header_gets_the_json_body(brand_client, ambassador, accept):
    expected = brand_client.get(ROUTE.format(id=ambassador.pk)).content

    response = brand_client.get(ROUTE.format(id=ambassador.pk), HTTP_ACCEPT=accept)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.content == expected


@pytest.mark.parametrize("value", ["xml", "json", "api"])
def test_format_is_an_ordinary_query_parameter(brand_client, ambassador, value):
    response = brand_client.get(ROUTE.format(id=ambassador.pk), {"format": value})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json()["first_page_url"].endswith(f"?format={value}&page=1")


def test_errors_are_json_whatever_the_accept_header(db, ambassador):
    response = APIClient().get(ROUTE.format(id=ambassador.pk), HTTP_ACCEPT="text/html")

    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"message": "Unauthorized."}
