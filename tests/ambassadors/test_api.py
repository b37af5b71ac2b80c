"""`GET /api/v2/platform/ambassadors` and `GET /api/v2/platform/ambassadors/{id}`: the shape, who
sees what, filters, sorts, paging and query counts (the negative matrix: test_platform_routes.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from ambassadors.models import Ambassador
from tests.conftest import bearer
from tests.factories import AmbassadorFactory, ApiTokenFactory, BrandFactory

LIST = "/api/v2/platform/ambassadors"
PUBLISHED_KEYS = [
    "id_ambassador",
    "id_brand",
    "date_insert",
    "customer_id",
    "image",
    "gender",
    "firstname",
    "lastname",
    "username",
    "full_name",
    "gamification_score",
    "active",
    "status",
    "online",
]


def one(ambassador_id: object) -> str:
    return f"{LIST}/{ambassador_id}"


def client_for(token) -> APIClient:
    client = APIClient()
    client.credentials(**bearer(token))
    return client


# --- One ambassador ---------------------------------------------------------------------------


def test_one_ambassador_in_the_published_shape(brand_client, brand):
    # given
    referrer: Any = AmbassadorFactory(brand=brand)
    ambassador: Any = AmbassadorFactory(
        brand=brand,
        firstname="Ada",
        lastname="Lovelace",
        gender="female",
        gamification_score=1234,
        active=Ambassador.Active.BLOCKED,
        status=Ambassador.Role.SELLER,
        referrer=referrer,
        customer_id="C-1",
        image="https://cdn.example.com/a.jpg",
        username="ada",
        date_insert=datetime(2025, 5, 4, 9, 42, 0, 123456, tzinfo=UTC),
        online=True,
    )

    # when
    response = brand_client.get(one(ambassador.pk))

    # then
    assert response.status_code == 200
    body = response.json()
    assert list(body) == PUBLISHED_KEYS
    assert body == {
        "id_ambassador": ambassador.pk,
        "id_brand": brand.pk,
        "date_insert": "2025-05-04T09:42:00Z",
        "customer_id": "C-1",
        "image": "https://cdn.example.com/a.jpg",
        "gender": "female",
        "firstname": "Ada",
        "lastname": "Lovelace",
        "username": "ada",
        "full_name": "Ada Lovelace",
        "gamification_score": 1234,
        "active": -1,
        "status": 3,
        "online": True,
    }


@pytest.mark.parametrize(
    ("firstname", "lastname", "full_name"),
    [
        ("Ada", "", "Ada"),
        ("", "Lovelace", "Lovelace"),
        ("", "", ""),
        (" Ada", "Byron ", "Ada Byron"),
    ],
)
def test_full_name_is_both_names_joined_by_one_space_and_trimmed(
    brand_client, brand, firstname, lastname, full_name
):
    ambassador: Any = AmbassadorFactory(brand=brand, firstname=firstname, lastname=lastname)

    assert brand_client.get(one(ambassador.pk)).json()["full_name"] == full_name


@pytest.mark.parametrize(
    ("seconds_ago", "online"), [(0, True), (299, True), (301, False), (86400, False)]
)
def test_online_means_active_in_the_last_five_minutes(brand_client, brand, seconds_ago, online):
    ambassador: Any = AmbassadorFactory(
        brand=brand, last_action_date=timezone.now() - timedelta(seconds=seconds_ago)
    )

    assert brand_client.get(one(ambassador.pk)).json()["online"] is online


def test_new_fields_default_to_unknown_gender_and_a_zero_score(brand_client, brand):
    ambassador: Any = Ambassador.objects.create(brand=brand, firstname="New")

    body = brand_client.get(one(ambassador.pk)).json()

    assert (body["gender"], body["gamification_score"]) == ("", 0)


def test_an_ambassador_token_reads_itself(db):
    token = ApiTokenFactory(for_ambassador=True)

    response = client_for(token).get(one(token.ambassador_id))

    assert response.status_code == 200
    assert response.json()["id_ambassador"] == token.ambassador_id


def test_one_ambassador_is_the_token_and_one_query(
    brand_client, ambassador, django_assert_num_queries
):
    brand_client.get(one(ambassador.pk))  # the token's first use is written once

    with django_assert_num_queries(2):
        response = brand_client.get(one(ambassador.pk))

    assert response.status_code == 200


# --- The list ---------------------------------------------------------------------------------


@pytest.fixture
def crowd(brand):
    """45 ambassadors of the brand with last actions in ties, and 3 of another brand."""
    base = datetime(2025, 3, 1, 12, tzinfo=UTC)
    people = Ambassador.objects.bulk_create(
        AmbassadorFactory.build(brand=brand, last_action_date=base - timedelta(hours=n % 7))
        for n in range(45)
    )
    AmbassadorFactory.create_batch(3, brand=BrandFactory())
    return people


def test_the_list_holds_the_brands_ambassadors_by_id_each_in_the_shape_of_one(brand_client, crowd):
    body = brand_client.get(LIST, {"per_page": 100}).json()

    assert body["total"] == len(crowd)
    assert [item["id_ambassador"] for item in body["data"]] == sorted(a.pk for a in crowd)
    first = body["data"][0]
    assert list(first) == PUBLISHED_KEYS
    assert first == brand_client.get(one(first["id_ambassador"])).json()


def test_the_envelope_is_laravels(brand_client, crowd):
    body = brand_client.get(LIST, {"per_page": 10, "page": 2, "sort": "-last_action_date"}).json()

    assert list(body) == [
        "current_page",
        "data",
        "first_page_url",
        "from",
        "last_page",
        "last_page_url",
        "links",
        "next_page_url",
        "path",
        "per_page",
        "prev_page_url",
        "to",
        "total",
    ]
    assert body["path"] == "http://testserver/api/v2/platform/ambassadors"
    assert body["next_page_url"] == (
        "http://testserver/api/v2/platform/ambassadors?per_page=10&sort=-last_action_date&page=3"
    )
    assert (body["current_page"], body["from"], body["to"], body["last_page"]) == (2, 11, 20, 5)
    assert len(body["data"]) == 10


@pytest.mark.parametrize("sort", ["last_action_date", "-last_action_date", ""])
def test_walking_every_page_returns_each_ambassador_once_in_order(brand_client, crowd, sort):
    # given: `id_ambassador` breaks ties, in the first key's direction
    descending = sort.startswith("-")
    expected = sorted(
        crowd,
        key=lambda a: (a.last_action_date, a.pk) if sort else (a.pk,),
        reverse=descending,
    )
    url: str | None = f"{LIST}?per_page=7" + (f"&sort={sort}" if sort else "")

    # when
    seen: list[int] = []
    pages = 0
    while url and pages < 20:
        body = brand_client.get(url).json()
        pages += 1
        seen.extend(item["id_ambassador"] for item in body["data"])
        url = body["next_page_url"]

    # then
    assert pages == 7
    assert seen == [a.pk for a in expected]


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("ada", {"Ada Lovelace", "Grace Adams"}),  # firstname or lastname, any case
        ("ADA L", {"Ada Lovelace"}),  # the full name
        ("lovelace,hopper", {"Ada Lovelace", "Grace Hopper"}),  # comma: any of
        ("%", set()),  # no wildcard
        ("zzz", set()),
        ("", {"Ada Lovelace", "Grace Adams", "Grace Hopper"}),  # empty: no filter
    ],
)
def test_filter_by_name(brand_client, brand, text, names):
    for first, last in [("Ada", "Lovelace"), ("Grace", "Adams"), ("Grace", "Hopper")]:
        AmbassadorFactory(brand=brand, firstname=first, lastname=last)
    AmbassadorFactory(firstname="Ada", lastname="Elsewhere")  # another brand

    body = brand_client.get(LIST, {"filter[name]": text}).json()

    assert {item["full_name"] for item in body["data"]} == names


def test_filter_by_referrer_active_and_status(brand_client, brand):
    # given
    referrer: Any = AmbassadorFactory(brand=brand)
    other_referrer: Any = AmbassadorFactory(brand=brand)
    blocked_client: Any = AmbassadorFactory(
        brand=brand,
        referrer=referrer,
        active=Ambassador.Active.BLOCKED,
        status=Ambassador.Role.CLIENT,
    )
    active_temporary: Any = AmbassadorFactory(
        brand=brand, referrer=other_referrer, status=Ambassador.Role.TEMPORARY
    )

    def ids(query: dict[str, str]) -> set[int]:
        return {item["id_ambassador"] for item in brand_client.get(LIST, query).json()["data"]}

    # then
    assert ids({"filter[id_referrer]": str(referrer.pk)}) == {blocked_client.pk}
    assert ids({"filter[id_referrer]": f"{referrer.pk},{other_referrer.pk}"}) == {
        blocked_client.pk,
        active_temporary.pk,
    }
    assert ids({"filter[active]": "-1"}) == {blocked_client.pk}
    assert ids({"filter[active]": "-5,-4"}) == set()  # published values the table never holds
    assert ids({"filter[status]": "7,8"}) == {blocked_client.pk, active_temporary.pk}
    assert ids({"filter[status]": "8", "filter[active]": "1"}) == {active_temporary.pk}


@pytest.mark.parametrize(
    ("query", "key", "message"),
    [
        (
            {"filter[active]": "2"},
            "filter.active",
            "The filter.active field must contain integers between -5 and 1.",
        ),
        (
            {"filter[status]": "-1"},
            "filter.status",
            "The filter.status field must be a comma-separated list of integers.",
        ),
        (
            {"filter[status]": "9"},
            "filter.status",
            "The filter.status field must contain integers between 0 and 8.",
        ),
        (
            {"filter[id_referrer]": "abc"},
            "filter.id_referrer",
            "The filter.id_referrer field must be a comma-separated list of positive integers.",
        ),
        (
            {"filter[name]": "a\x00b"},
            "filter.name",
            "The filter.name field must not contain NUL characters.",
        ),
        ({"per_page": "101"}, "per_page", "The per page field must not be greater than 100."),
        ({"sort[]": "x"}, "sort", "The sort field must be a string."),
    ],
)
def test_malformed_values_are_422(brand_client, brand, query, key, message):
    response = brand_client.get(LIST, query)

    assert response.status_code == 422
    assert response.json() == {"message": message, "errors": {key: [message]}}


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            "sort=firstname",
            "Requested sort(s) `firstname` is not allowed. Allowed sort(s) are `last_action_date`.",
        ),
        (
            "filter[email]=x",
            "Requested filter(s) `email` are not allowed. "
            "Allowed filter(s) are `name, id_referrer, active, status`.",
        ),
    ],
)
def test_unknown_sorts_and_filters_are_400(brand_client, brand, query, message):
    response = brand_client.get(f"{LIST}?{query}")

    assert response.status_code == 400
    assert response.json() == {"message": message}


@pytest.mark.parametrize("query", ["per_page=1", "per_page=100", "per_page=100&page=2"])
def test_a_page_is_a_fixed_number_of_queries(brand_client, brand, query, django_assert_num_queries):
    Ambassador.objects.bulk_create(AmbassadorFactory.build_batch(150, brand=brand))
    brand_client.get(f"{LIST}?{query}")  # the token's first use is written once

    # The token, then on PostgreSQL one statement (the count and the page's JSON); elsewhere
    # the count, then the page.
    with django_assert_num_queries({"postgresql": 2}.get(connection.vendor, 3)):
        response = brand_client.get(
            f"{LIST}?{query}&sort=-last_action_date&filter[status]=0,1&filter[name]=a"
        )

    assert response.status_code == 200


def test_a_page_past_the_end_reads_only_the_count(
    brand_client, ambassador, django_assert_num_queries
):
    brand_client.get(LIST)

    with django_assert_num_queries(2):
        body = brand_client.get(LIST, {"page": "9223372036854775807"}).json()

    assert (body["data"], body["total"], body["from"]) == ([], 1, None)


@pytest.mark.parametrize(
    ("raw_query", "status"),
    [
        ("filter[name]=%FF", 422),  # broken UTF-8
        ("filter[name]=a%00b", 422),  # NUL, which PostgreSQL refuses in text
        ("filter[name][]=x", 422),  # an array
        ("filter[status]=" + "9" * 30, 422),
        ("filter[id_referrer]=99999999999999999999", 422),
        ("sort=" + "x" * 5000, 400),
        ("page=" + "9" * 40, 200),  # Laravel: page 1
        ("per_page[]=1", 422),
    ],
)
def test_hostile_queries_are_json_4xx_never_500(brand_token, raw_query, status):
    response = Client().get(
        f"{LIST}?{raw_query}", HTTP_AUTHORIZATION=f"Bearer {brand_token.secret}"
    )

    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
