"""Importing ambassadors: upserts by id; the referrer known or earlier in the file; the brand."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from django.core.management import call_command

from ambassadors import services
from ambassadors.exports import iter_ambassadors
from ambassadors.imports import KEYS
from ambassadors.models import Ambassador
from tests.bulk import run_import
from tests.factories import AmbassadorFactory, BrandFactory

pytestmark = pytest.mark.django_db

NOWHERE = "is neither in the database nor earlier in the file"


@pytest.fixture
def records() -> list[dict[str, Any]]:
    """Three ambassadors of one brand, the third referred by the first; rows deleted again."""
    brand = BrandFactory()
    first = AmbassadorFactory(brand=brand, gender="female", gamification_score=12)
    AmbassadorFactory(brand=brand)
    AmbassadorFactory(brand=brand, referrer=first)
    exported = list(iter_ambassadors())
    Ambassador.objects.update(referrer=None)
    Ambassador.objects.all().delete()
    return exported


def test_the_record_is_the_route_shape_then_the_buyer_keys_then_referrer_and_date_update():
    assert [key for key, _ in KEYS] == [
        "id_ambassador",
        "id_brand",
        "date_insert",
        "customer_id",
        "image",
        "gender",
        "firstname",
        "lastname",
        "username",
        "gamification_score",
        "active",
        "status",
        "email",
        "email_tmp",
        "last_action_date",
        "anonymized",
        "id_referrer",
        "date_update",
    ]


def test_ambassadors_land_and_export_back_the_same(records):
    totals, recorder = run_import(services.ambassadors_import, records)

    assert (totals.landed, totals.written, recorder.rejects) == (3, 3, [])
    assert list(iter_ambassadors()) == records
    assert (
        Ambassador.objects.get(pk=records[2]["id_ambassador"]).referrer_id
        == records[0]["id_ambassador"]
    )


def test_a_rerun_changes_nothing_and_a_change_is_written_with_its_date_update(records):
    run_import(services.ambassadors_import, records)

    totals, _ = run_import(services.ambassadors_import, records)
    assert totals.written == 0

    changed = {**records[1], "lastname": "Okafor", "date_update": "2031-05-06T07:08:09Z"}
    totals, _ = run_import(services.ambassadors_import, [changed])
    assert totals.written == 1
    stored = Ambassador.objects.get(pk=changed["id_ambassador"])
    assert (stored.lastname, stored.date_update.isoformat()) == (
        "Okafor",
        "2031-05-06T07:08:09+00:00",
    )


@pytest.mark.parametrize("batch_size", [1, 100])
def test_a_referrer_later_in_the_file_is_rejected(records, batch_size):
    referred_first = [records[2], records[0], records[1]]

    totals, recorder = run_import(
        services.ambassadors_import, referred_first, batch_size=batch_size
    )

    assert recorder.reasons == {1: f"id_referrer {records[0]['id_ambassador']} {NOWHERE}"}
    assert totals.landed == 2


def test_a_rejected_referrer_takes_its_referrals_with_it(records):
    bad_first = {**records[0], "id_brand": 999_999}

    _, recorder = run_import(services.ambassadors_import, [bad_first, records[1], records[2]])

    assert recorder.reasons == {
        1: "id_brand 999999: no such brand (brands are created in the admin)",
        3: f"id_referrer {records[0]['id_ambassador']} {NOWHERE}",
    }
    assert list(Ambassador.objects.values_list("pk", flat=True)) == [records[1]["id_ambassador"]]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda a: a.update(active=7), "ambassador.active: 7 is not one of -3, -2, -1, 0, 1"),
        (lambda a: a.update(status="7"), "ambassador.status: expected an integer, got a string"),
        (lambda a: a.update(anonymized=0), "ambassador.anonymized: expected true or false"),
        (lambda a: a.update(nickname="x"), "ambassador: unknown key(s) 'nickname'"),
        (lambda a: a.pop("date_update"), "ambassador: missing key(s) 'date_update'"),
        (
            lambda a: a.update(gamification_score=2**31),
            "gamification_score: 2147483648 is out of range",
        ),
        (
            lambda a: a.update(email="x" * 256),
            "ambassador.email: is 256 characters long, at most 255",
        ),
    ],
)
def test_a_bad_ambassador_is_rejected(records, change, reason):
    bad = copy.deepcopy(records[1])
    change(bad)

    totals, recorder = run_import(services.ambassadors_import, [records[0], bad])

    assert list(recorder.reasons) == [2]
    assert reason in recorder.reasons[2]
    assert totals.landed == 1


def test_an_id_twice_is_rejected_the_second_time(records):
    again = {**records[0], "firstname": "Other"}

    _, recorder = run_import(services.ambassadors_import, [records[0], again])

    assert recorder.reasons == {
        2: f"id_ambassador {records[0]['id_ambassador']} is also on line 1: one line per ambassador"
    }


def test_the_commands_export_one_brand_and_import_it_back(tmp_path, capsys):
    brand, other = BrandFactory(), BrandFactory()
    mine = [AmbassadorFactory(brand=brand).pk, AmbassadorFactory(brand=brand).pk]
    AmbassadorFactory(brand=other)
    out = tmp_path / "ambassadors.jsonl"

    call_command("export_ambassadors", "--brand", str(brand.pk), "--out", str(out))
    Ambassador.objects.filter(brand=brand).delete()
    call_command("import_ambassadors", str(out))

    assert sorted(Ambassador.objects.filter(brand=brand).values_list("pk", flat=True)) == mine
    assert "import ambassadors: done: 2 read, 2 landed (2 written" in capsys.readouterr().out
