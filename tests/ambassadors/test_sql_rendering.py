"""The list's page rendered by PostgreSQL is byte for byte the Python path's, for every awkward
value; both answer the same totals and pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from django.db import connection

from ambassadors import sql_rendering
from ambassadors.models import Ambassador
from ambassadors.query import AMBASSADOR_PARAMETERS
from ambassadors.selectors import select_ambassadors
from platform_api.php_query import parse_str
from tests.factories import AmbassadorFactory, ApiTokenFactory, BrandFactory

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
NAMES = [
    "",
    " ",
    "O'Brien",
    'say "hi"',
    "back\\slash",
    "Zoë Ñandú",
    "emoji 🎉",
    "\t tabbed \n",
    "\x0bvertical\x0b",
    "line\u2028separator",
    "control\x01\x1f",
    "%_wild",
    "DEL\x7f",
]
# Seconds before NOW; negative: after it.
LAST_ACTION = [300, 299.999999, 300.000001, 0, -60, 86400]

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL renders the list"
)


@pytest.fixture
def brand_token(db):
    """A brand with an ambassador per awkward first/last name pair and online boundary."""
    brand = BrandFactory()
    rows = []
    for index, first in enumerate(NAMES):
        last = NAMES[(index * 5 + 3) % len(NAMES)]
        rows.append(
            AmbassadorFactory.build(
                brand=brand,
                firstname=first,
                lastname=last,
                gender=["", "female", "male"][index % 3],
                gamification_score=index * 1000,
                image=first,
                username=last,
                customer_id=first + last,
                last_action_date=NOW - timedelta(seconds=LAST_ACTION[index % len(LAST_ACTION)]),
                date_insert=NOW - timedelta(days=index, microseconds=index * 7),
            )
        )
    Ambassador.objects.bulk_create(rows)
    AmbassadorFactory.create_batch(2)  # another brand's
    return ApiTokenFactory(brand=brand)


def _both(token: Any, query_string: str, monkeypatch, *, page: int, per_page: int):
    query = AMBASSADOR_PARAMETERS.read(parse_str(query_string))
    selection = select_ambassadors(token=token, filters=query.filters, ordering=query.ordering)
    in_sql = sql_rendering.render_ambassador_page(
        selection, number=page, per_page=per_page, now=NOW
    )
    monkeypatch.setattr(sql_rendering, "renders_in_sql", lambda alias: False)
    in_python = sql_rendering.render_ambassador_page(
        selection, number=page, per_page=per_page, now=NOW
    )
    return in_sql, in_python


@pytest.mark.parametrize(
    ("query_string", "page", "per_page"),
    [
        ("", 1, 100),
        ("sort=-last_action_date", 1, 5),
        ("sort=last_action_date", 2, 5),
        ("filter[name]=o", 1, 100),
        ("filter[name]=%25_", 1, 100),
        ("filter[status]=0,1&filter[active]=1", 1, 3),
        ("", 3, 100),  # past the end
        ("", 2**62, 100),  # far past the end: no OFFSET error
    ],
)
def test_sql_and_python_pages_are_byte_identical(
    brand_token, monkeypatch, query_string, page, per_page
):
    in_sql, in_python = _both(brand_token, query_string, monkeypatch, page=page, per_page=per_page)

    assert isinstance(in_sql.page.data, orjson.Fragment)
    assert orjson.dumps(in_sql.page.data) == orjson.dumps(in_python.page.data)
    assert (in_sql.total, in_sql.page.item_count) == (in_python.total, in_python.page.item_count)


def test_the_page_is_one_statement(brand_token, django_assert_num_queries):
    query = AMBASSADOR_PARAMETERS.read({})
    selection = select_ambassadors(token=brand_token, filters={}, ordering=query.ordering)

    with django_assert_num_queries(1):
        rendered = sql_rendering.render_ambassador_page(selection, number=1, per_page=7, now=NOW)

    assert (rendered.total, rendered.page.item_count) == (len(NAMES), 7)
