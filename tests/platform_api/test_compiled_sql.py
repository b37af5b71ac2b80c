from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.db.models import QuerySet

from ambassadors.models import Ambassador
from platform_api.compiled_sql import CompiledQuery, CompiledQueryFamily
from tests.factories import AmbassadorFactory, BrandFactory


@pytest.mark.django_db
def test_a_compiled_query_answers_what_the_orm_answers_for_each_call():
    brand = BrandFactory()
    first, second = AmbassadorFactory(brand=brand), AmbassadorFactory(brand=brand)
    query = CompiledQuery(
        lambda pk, username: Ambassador.objects.filter(pk=pk, username=username).values_list(
            "email"
        ),
        pk=int,
        username=str,
    )

    for ambassador in (first, second):
        row = query.fetchone("default", pk=ambassador.pk, username=ambassador.username)
        assert row == (ambassador.email,)
    assert query.fetchone("default", pk=first.pk, username=second.username) is None


@pytest.mark.django_db
def test_a_parameter_the_query_does_not_bind_is_refused():
    # `username` never reaches the SQL: a value frozen into the query must not pass silently.
    query = CompiledQuery(
        lambda pk, username: Ambassador.objects.filter(pk=pk), pk=int, username=str
    )

    with pytest.raises(ValueError, match="username"):
        query.bind("default", pk=1, username="x")


def test_only_int_str_and_datetime_parameters_can_be_compiled():
    with pytest.raises(TypeError):
        CompiledQuery(lambda when: Ambassador.objects.filter(last_action_date=when), when=float)


@pytest.mark.django_db
def test_datetime_parameters_are_bound_as_the_backend_binds_them():
    # SQLite's backend turns instants into text; PostgreSQL's passes them through.
    brand = BrandFactory()
    seen = datetime(2025, 5, 4, 9, 42, 7, tzinfo=UTC)
    AmbassadorFactory(brand=brand, last_action_date=seen)
    query = CompiledQuery(
        lambda since: Ambassador.objects.filter(last_action_date__gte=since).values_list("pk"),
        since=datetime,
    )

    assert query.fetchone("default", since=seen) is not None
    assert query.fetchone("default", since=seen + timedelta(microseconds=1)) is None


@dataclass(frozen=True)
class Window:
    start: datetime | None
    end: datetime | None


def _ambassadors(key: object, values: dict[str, Any]) -> QuerySet[Any]:
    ambassadors = Ambassador.objects.filter(brand_id=values["brand"])
    if values.get("usernames"):
        ambassadors = ambassadors.filter(username__in=values["usernames"])
    window = values.get("window")
    if window is not None and window.start is not None:
        ambassadors = ambassadors.filter(last_action_date__gte=window.start)
    if window is not None and window.end is not None:
        ambassadors = ambassadors.filter(last_action_date__lt=window.end)
    return ambassadors.order_by(str(key)).values_list("username")


@pytest.fixture
def seen():
    return [datetime(2025, 1, day, tzinfo=UTC) for day in (1, 2, 3)]


@pytest.fixture
def team(seen):
    brand = BrandFactory()
    return brand, [
        AmbassadorFactory(brand=brand, username=name, last_action_date=when)
        for name, when in zip(["ann", "bob", "cid"], seen, strict=True)
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("order", ["username", "-username"])
@pytest.mark.parametrize(
    "variant",
    [
        {},
        {"usernames": ["bob"]},
        {"usernames": ["cid", "ann"]},
        {"usernames": ["ann", "ann", "zed"]},
        {"window": (None, None)},
        {"window": (2, None)},
        {"window": (1, 3), "usernames": ["bob", "cid"]},
    ],
)
def test_a_family_answers_what_the_orm_answers_for_every_shape(team, seen, order, variant):
    # given
    brand, _ = team
    if "window" in variant:  # days of January 2025, as in `seen`
        start, end = variant["window"]
        variant = {
            **variant,
            "window": Window(
                start=seen[start - 1] if start else None, end=seen[end - 1] if end else None
            ),
        }
    values = {"brand": brand.pk, **variant}
    family = CompiledQueryFamily(_ambassadors)
    # when
    sql, params = family.bind("default", key=order, values=values)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    # then
    assert [tuple(row) for row in rows] == list(_ambassadors(order, values))


@pytest.mark.django_db
def test_a_family_compiles_once_per_shape_and_reuses_it_for_new_values(team, seen):
    brand, _ = team
    built: list[object] = []

    def build(key: object, values: dict[str, Any]) -> QuerySet[Any]:
        built.append(values)
        return _ambassadors(key, values)

    family = CompiledQueryFamily(build)
    for names in (["ann"], ["bob"], ["cid"]):
        family.fetchone("default", key="username", values={"brand": brand.pk, "usernames": names})
    assert len(built) == 1  # one shape: a one-name list
    assert family.fetchone(
        "default", key="username", values={"brand": brand.pk, "usernames": ["bob", "cid"]}
    ) == ("bob",)
    family.fetchone("default", key="-username", values={"brand": brand.pk, "usernames": ["x"]})
    assert len(built) == 3  # a longer list, another key: two more shapes


@pytest.mark.django_db
def test_a_family_keeps_only_its_most_recent_shapes(team):
    brand, _ = team
    built: list[object] = []

    def build(key: object, values: dict[str, Any]) -> QuerySet[Any]:
        built.append(values)
        return _ambassadors(key, values)

    family = CompiledQueryFamily(build, maxsize=2)
    for length in (1, 2, 3, 1):
        family.bind("default", key="pk", values={"brand": brand.pk, "usernames": ["a"] * length})
    assert len(built) == 4  # the one-name shape was evicted by the two later ones


def test_a_family_refuses_values_it_cannot_stand_in_for():
    family = CompiledQueryFamily(_ambassadors)
    with pytest.raises(TypeError, match="float"):
        family.bind("default", key="pk", values={"brand": 1.5})


@pytest.mark.django_db
def test_first_builds_the_instance_the_orm_builds():
    # given: dates are where the backends differ (SQLite hands them back as text)
    brand = BrandFactory()
    ambassador = AmbassadorFactory(
        brand=brand, last_action_date=datetime(2025, 5, 4, 9, 42, 7, 123456, tzinfo=UTC)
    )
    query = CompiledQuery(lambda pk: Ambassador.objects.filter(pk=pk), pk=int)
    # when
    built = query.first("default", pk=ambassador.pk)
    # then
    expected = Ambassador.objects.get(pk=ambassador.pk)
    assert isinstance(built, Ambassador)
    assert built._state.db == "default"
    assert not built._state.adding
    fields = [field.attname for field in Ambassador._meta.concrete_fields]
    assert [getattr(built, name) for name in fields] == [getattr(expected, name) for name in fields]
    assert built.last_action_date == datetime(2025, 5, 4, 9, 42, 7, 123456, tzinfo=UTC)
    assert query.first("default", pk=ambassador.pk + 1000) is None


@pytest.mark.django_db
def test_first_refuses_a_query_of_values():
    query = CompiledQuery(lambda pk: Ambassador.objects.filter(pk=pk).values_list("pk"), pk=int)
    with pytest.raises(TypeError, match="fetchone"):
        query.first("default", pk=1)
