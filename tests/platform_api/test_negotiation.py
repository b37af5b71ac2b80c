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


@pytest.mark.parametrize(
    ("path", "query", "accept", "content_type"),
    [
        # DRF's choice where the client names one of the view's renderers...
        ("/api/v2/schema/", {"format": "json"}, None, "application/vnd.oai.openapi+json"),
        ("/api/v2/schema/", {}, "application/json", "application/json"),
        # ... else the first one, not DRF's 406 or 404 (in YAML, or a bare text/html page).
        ("/api/v2/schema/", {"format": "xml"}, None, "application/vnd.oai.openapi"),
        ("/api/v2/schema/", {}, "text/html", "application/vnd.oai.openapi"),
        ("/api/v2/schema/", {}, "garbage;;", "application/vnd.oai.openapi"),
        ("/api/v2/docs/", {"format": "json"}, None, "text/html"),
        ("/api/v2/docs/", {}, "application/json", "text/html"),
    ],
)
def test_the_schema_and_its_page_answer_whatever_the_client_asks(
    db, path, query, accept, content_type
):
    headers = {"HTTP_ACCEPT": accept} if accept else {}

    response = APIClient().get(path, query, **headers)

    assert response.status_code == 200
    assert response["Content-Type"].split(";")[0] == content_type


@pytest.mark.parametrize("path", ["/api/v2/schema/", "/api/v2/docs/"])
@pytest.mark.parametrize("method", ["post", "delete", "options"])
def test_the_schema_and_its_page_refuse_other_methods_in_the_apis_json(db, path, method):
    # OPTIONS was DRF's metadata: a 500 through the docs page's template renderer.
    response = getattr(APIClient(), method)(path)

    assert response.status_code == 405
    assert response["Content-Type"] == "application/json"
    assert response["Allow"] == "GET, HEAD"
    assert response.json() == {
        "message": f"The {method.upper()} method is not supported for route {path.strip('/')}. "
        "Supported methods: GET, HEAD."
    }
