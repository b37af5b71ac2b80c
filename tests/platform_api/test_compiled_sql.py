import pytest

from ambassadors.models import Ambassador
from platform_api.compiled_sql import CompiledQuery
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


def test_only_int_and_str_parameters_can_be_compiled():
    with pytest.raises(TypeError):
        CompiledQuery(lambda when: Ambassador.objects.filter(last_action_date=when), when=float)
