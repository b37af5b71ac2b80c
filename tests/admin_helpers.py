"""Helpers shared by the admin tests of every app."""

from __future__ import annotations

from django.db import connection
from django.db.models import Model
from django.test.utils import CaptureQueriesContext
from django.urls import reverse


def admin_url(model: type[Model], view: str, *args: object) -> str:
    """The admin URL of `view` (changelist, change, add…) for `model`."""
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def count_queries(client, url: str) -> int:
    """Queries of one successful GET of `url`."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)
