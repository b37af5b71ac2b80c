"""The base of the platform routes: the 404-before-400/422 rule and the path id."""

from __future__ import annotations

import pytest
from rest_framework import exceptions

from platform_api.errors import BadQuery, UnprocessableQuery
from platform_api.views import PlatformView, found_before_query_errors


@pytest.mark.parametrize(
    "error", [BadQuery("unknown"), UnprocessableQuery({"per_page": ["bad"]})], ids=["400", "422"]
)
def test_a_query_error_about_what_the_caller_may_not_see_is_its_404(error):
    with (
        pytest.raises(exceptions.NotFound) as raised,
        found_before_query_errors(lambda: False, "Gone."),
    ):
        raise error

    assert raised.value.detail == "Gone."


def test_a_query_error_about_what_the_caller_sees_stays_itself():
    with pytest.raises(BadQuery), found_before_query_errors(lambda: True, "Gone."):
        raise BadQuery("unknown")


def test_the_lookup_runs_only_when_the_query_was_refused():
    looked_up: list[bool] = []

    with found_before_query_errors(lambda: looked_up.append(True) or True, "Gone."):
        pass

    assert looked_up == []


@pytest.mark.parametrize(
    ("raw", "parsed"), [("42", 42), ("0", None), ("abc", None), ("9223372036854775808", None)]
)
def test_the_path_id_is_parsed_once_from_the_declared_keyword(raw, parsed):
    class Route(PlatformView):
        id_kwarg = "thing_id"

    view = Route()
    view.kwargs = {"thing_id": raw}

    assert view.path_id == parsed
