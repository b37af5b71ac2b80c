"""The ambassadors' 0002 migration, built online on PostgreSQL: the referrer's constraint ends
up validated, the indexes valid, and the new columns keep their defaults in the database."""

from __future__ import annotations

import pytest
from django.db import connection

from ambassadors.models import Ambassador
from tests.factories import AmbassadorFactory

pytestmark = pytest.mark.django_db

TABLE = Ambassador._meta.db_table


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the online path is PostgreSQL's")
def test_the_referrer_constraint_is_validated_and_the_indexes_are_valid():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT convalidated, confdeltype FROM pg_constraint"
            " WHERE conrelid = %s::regclass AND conname = %s",
            [TABLE, f"{TABLE}_id_referrer_fk"],
        )
        assert cursor.fetchall() == [(True, "a")]  # "a": NO ACTION, the ORM applies PROTECT
        cursor.execute(
            "SELECT c.relname, i.indisvalid FROM pg_index i JOIN pg_class c"
            " ON c.oid = i.indexrelid WHERE i.indrelid = %s::regclass",
            [TABLE],
        )
        indexes = dict(cursor.fetchall())
    for name in (
        f"{TABLE}_id_referrer_idx",
        "ambassador_brand_id_idx",
        "ambassador_brand_action_idx",
    ):
        assert indexes[name] is True


def test_the_database_fills_in_the_defaults_of_rows_older_code_writes():
    ambassador = AmbassadorFactory()
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        # What code from before the migration inserts: none of the new columns.
        cursor.execute(
            f"INSERT INTO {quote(TABLE)} (brand_id, image, firstname, lastname, username, email,"  # noqa: S608
            " email_tmp, active, status, last_action_date, customer_id, anonymized, date_insert,"
            " date_update) SELECT brand_id, image, firstname, lastname, username, email,"
            " email_tmp, active, status, last_action_date, customer_id, anonymized, date_insert,"
            f" date_update FROM {quote(TABLE)} WHERE id_ambassador = %s",
            [ambassador.pk],
        )
    copy = Ambassador.objects.exclude(pk=ambassador.pk).get(brand=ambassador.brand)
    assert (copy.gender, copy.gamification_score, copy.referrer_id) == ("", 0, None)
