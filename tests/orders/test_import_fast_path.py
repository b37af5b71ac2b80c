"""The orders import with the row triggers off (`session_replication_role = replica` per batch).

Its batches do the foreign keys' and the order counter's work set-based (orders/imports.py,
`_merge_orders_replica`); these tests hold it to what the triggers guarantee: no dangling row
even against a concurrent delete, a counter equal to `count(*)`, and the triggers' own path for
a role that may not skip them. Concurrent writers are real separate connections (psycopg).
"""

from __future__ import annotations

import io
import os
import secrets
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from orders import imports, services
from orders.exports import iter_orders, orders_for_export
from orders.models import Order, OrderProduct, Product
from platform_api.bulk.batches import RedoBatch, read_json_lines
from platform_api.bulk.batches import run_import as run_batches
from tests.bulk import Recorder, json_lines, run_import
from tests.factories import (
    AmbassadorFactory,
    BrandFactory,
    I18nContentFactory,
    OrderFactory,
    OrderProductFactory,
    ProductFactory,
)
from tests.orders.test_order_counts import connection_url, counter, mismatches

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

FAST = "references checked per batch"
DEADLINE_SECONDS = 30


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("session_replication_role is PostgreSQL's")


@pytest.fixture
def shop():
    brand = BrandFactory()
    seller, other, buyer = (AmbassadorFactory(brand=brand) for _ in range(3))
    kept, doomed = ProductFactory(), ProductFactory()
    I18nContentFactory(product=doomed)
    for ambassador in (seller, seller, other):
        order = OrderFactory(ambassador=ambassador, buyer=buyer)
        OrderProductFactory(order=order, product=kept, quantity=1)
        OrderProductFactory(order=order, product=doomed, quantity=2)
    records = list(iter_orders(orders_for_export()))
    Order.objects.all().delete()
    return {"records": records, "seller": seller, "other": other, "doomed": doomed}


def test_missing_references_are_rejected_and_the_rest_lands(shop):
    first, second, third = shop["records"]
    unknown = max(Product.objects.values_list("pk", flat=True)) + 100
    bad_seller = {**first, "id_ambassador": 999_999}
    bad_buyer = {**second, "buyer": {"id_ambassador": 999_998}}
    bad_product = {**third, "products": [{**third["products"][0], "id_product": unknown}]}
    bad_product["products"][0]["order_details"] = {
        **third["products"][0]["order_details"],
        "id_product": unknown,
    }
    fine = {**first, "id_order": first["id_order"] + 1000, "products": []}

    totals, recorder = run_import(
        services.orders_import, [bad_seller, bad_buyer, bad_product, fine], batch_size=10
    )

    assert totals.note == FAST
    assert recorder.reasons == {
        1: "id_ambassador 999999: no such ambassador (import the ambassadors first)",
        2: "buyer.id_ambassador 999998: no such ambassador (import the ambassadors first)",
        3: f"products: id_product {unknown}: no such product (import the products first)",
    }
    assert list(Order.objects.values_list("pk", flat=True)) == [fine["id_order"]]
    assert OrderProduct.objects.count() == 0
    assert mismatches() == []


def test_an_order_naming_two_missing_ambassadors_is_rejected_once(shop):
    record = {**shop["records"][0], "id_ambassador": 999_999, "buyer": {"id_ambassador": 999_998}}

    totals, recorder = run_import(services.orders_import, [record])

    assert [item.line for item in recorder.rejects] == [1]
    assert (totals.landed, totals.rejected) == (0, 1)


def test_inserts_updates_and_reattributions_keep_the_counter_exact(shop):
    records, seller, other = shop["records"], shop["seller"], shop["other"]
    third = AmbassadorFactory(brand=seller.brand)

    totals, _ = run_import(services.orders_import, records, batch_size=2)
    assert (totals.note, counter(seller), counter(other), mismatches()) == (FAST, 2, 1, [])

    # a feed: one order re-credited, one changed in place, one moved back and forth, one new
    moved = {**records[0], "id_ambassador": third.pk}
    changed = {**records[1], "last_status": "CANCELLED"}
    swapped = {**records[2], "id_ambassador": seller.pk}
    added = {**records[2], "id_order": records[2]["id_order"] + 1000, "products": []}
    totals, recorder = run_import(
        services.orders_import, [moved, changed, swapped, added], batch_size=3
    )

    assert (totals.landed, totals.written, recorder.rejects) == (4, 4, [])
    assert (counter(seller), counter(other), counter(third)) == (2, 1, 1)
    assert Order.objects.get(pk=records[1]["id_order"]).last_status == "CANCELLED"
    assert mismatches() == []

    # and a re-run of the feed writes nothing and moves nothing
    totals, _ = run_import(services.orders_import, [moved, changed, swapped, added])
    assert (totals.written, mismatches()) == (0, [])


def test_changed_lines_of_an_unchanged_order_are_replaced(shop):
    records = shop["records"]
    run_import(services.orders_import, records)
    fewer = {**records[0], "products": records[0]["products"][:1]}

    totals, _ = run_import(services.orders_import, [fewer])

    assert totals.written == 1
    assert OrderProduct.objects.filter(order_id=records[0]["id_order"]).count() == 1
    assert mismatches() == []


def _delete_product(product_id: int) -> None:
    with psycopg.connect(connection_url(), autocommit=True) as other:
        other.execute("DELETE FROM orders_i18ncontent WHERE id_product = %s", [product_id])
        other.execute("DELETE FROM orders_product WHERE id_product = %s", [product_id])


def test_a_product_deleted_before_the_batch_locks_it_rejects_its_orders(shop):
    # given a product deleted by a transaction still open when the import starts
    doomed = shop["doomed"].pk
    deleter = psycopg.connect(connection_url())
    deleter.execute("DELETE FROM orders_i18ncontent WHERE id_product = %s", [doomed])
    deleter.execute("DELETE FROM orders_product WHERE id_product = %s", [doomed])
    result: dict[str, object] = {}

    def land() -> None:
        try:
            result["run"] = run_import(services.orders_import, shop["records"])
        finally:
            connection.close()

    importer = threading.Thread(target=land)
    importer.start()
    try:
        # when the import waits on the product's lock, and the delete then commits
        _wait_until_blocked('SELECT "id_product" FROM "orders_product"')
        deleter.commit()
        importer.join(DEADLINE_SECONDS)
    finally:
        deleter.close()

    # then its orders are rejected, nothing names the product
    totals, recorder = result["run"]
    assert totals.note == FAST
    assert set(recorder.reasons.values()) == {
        f"products: id_product {doomed}: no such product (import the products first)"
    }
    assert Order.objects.count() == 0
    assert not OrderProduct.objects.filter(product_id=doomed).exists()


def test_a_delete_during_the_batch_waits_for_it_and_then_fails(shop, monkeypatch):
    # given a batch paused after its merge, inside its transaction
    doomed = shop["doomed"].pk
    merged, resume = threading.Event(), threading.Event()
    merge = imports._merge_orders_replica

    def paused(*args, **kwargs):
        written = merge(*args, **kwargs)
        merged.set()
        assert resume.wait(DEADLINE_SECONDS)
        return written

    monkeypatch.setattr(imports, "_merge_orders_replica", paused)
    result: dict[str, object] = {}

    def delete() -> None:
        try:
            _delete_product(doomed)
        except psycopg.Error as exc:
            result["error"] = exc

    importer = threading.Thread(target=lambda: _land_and_close(shop["records"], result))
    importer.start()
    assert merged.wait(DEADLINE_SECONDS)
    # when a concurrent transaction deletes a product the batch's lines name
    deleter = threading.Thread(target=delete)
    deleter.start()
    try:
        _wait_until_blocked("DELETE FROM orders_product")
    finally:
        resume.set()
        importer.join(DEADLINE_SECONDS)
        deleter.join(DEADLINE_SECONDS)

    # then the delete waited for the batch's commit and then failed on its lines
    assert isinstance(result["error"], psycopg.errors.ForeignKeyViolation)
    assert Order.objects.count() == 3
    assert OrderProduct.objects.filter(product_id=doomed).count() == 3
    assert Product.objects.filter(pk=doomed).exists()


def _land_and_close(records, result: dict[str, object]) -> None:
    try:
        result["run"] = run_import(services.orders_import, records)
    finally:
        connection.close()


def _wait_until_blocked(query_start: str) -> None:
    """Until a backend running a statement that starts so waits on a lock."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    with psycopg.connect(connection_url(), autocommit=True) as watcher:
        while time.monotonic() < deadline:
            waiting = watcher.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND query LIKE %s",
                [f"{query_start}%"],
            ).fetchone()
            if waiting and waiting[0]:
                return
            time.sleep(0.02)
    raise AssertionError(f"no backend blocked on {query_start!r}")


def test_a_batch_a_concurrent_writer_got_in_the_way_of_is_redone_with_the_triggers(
    shop, monkeypatch
):
    merge = imports._merge_orders_replica
    calls = []

    def once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            merge(*args, **kwargs)  # its writes roll back with the batch
            raise RedoBatch("simulated")
        return merge(*args, **kwargs)

    monkeypatch.setattr(imports, "_merge_orders_replica", once)

    totals, recorder = run_import(services.orders_import, shop["records"], batch_size=2)

    # the first batch twice (its second time with the triggers), the second one fast
    assert (len(calls), totals.redone, totals.landed, recorder.rejects) == (2, 1, 3, [])
    assert OrderProduct.objects.count() == 6
    assert mismatches() == []


ROOT = Path(settings.BASE_DIR)


@pytest.fixture
def limited_role():
    """A login role that owns nothing and may write the tables, as an application role would."""
    name = f"h_import_limited_{secrets.token_hex(4)}"
    with psycopg.connect(connection_url(), autocommit=True) as admin:
        admin.execute(f'CREATE ROLE "{name}" LOGIN')
        admin.execute(f'GRANT CREATE, USAGE ON SCHEMA public TO "{name}"')
        admin.execute(f'GRANT ALL ON ALL TABLES IN SCHEMA public TO "{name}"')
        admin.execute(f'GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO "{name}"')
    try:
        yield name
    finally:
        with psycopg.connect(connection_url(), autocommit=True) as admin:
            admin.execute(f'DROP OWNED BY "{name}"')
            admin.execute(f'DROP ROLE "{name}"')


def _import_as(role: str, path: Path) -> subprocess.CompletedProcess[str]:
    db = connection.settings_dict
    url = f"postgres://{role}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "import_orders", str(path)],
        cwd=ROOT,
        env={
            **os.environ,
            "DATABASE_URL": url,
            "DJANGO_SETTINGS_MODULE": "platform_api.settings.local",
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def test_a_role_that_may_not_skip_the_triggers_imports_with_them(shop, limited_role, tmp_path):
    path = tmp_path / "orders.jsonl"
    path.write_bytes(json_lines(shop["records"]))

    done = _import_as(limited_role, path)

    assert "3 landed (3 written, 0 unchanged), 0 rejected" in done.stdout
    assert (
        "(references checked row by row: this role may not set session_replication_role"
        in done.stdout
    )
    assert OrderProduct.objects.count() == 6
    assert mismatches() == []


def test_the_grant_on_the_parameter_lets_a_role_skip_them(shop, limited_role, tmp_path):
    with psycopg.connect(connection_url(), autocommit=True) as admin:
        admin.execute(f'GRANT SET ON PARAMETER session_replication_role TO "{limited_role}"')
    path = tmp_path / "orders.jsonl"
    path.write_bytes(json_lines(shop["records"]))

    done = _import_as(limited_role, path)

    assert done.stdout.rstrip().endswith(f"records/s ({FAST})")
    assert OrderProduct.objects.count() == 6
    assert (counter(shop["seller"]), counter(shop["other"]), mismatches()) == (2, 1, [])


def test_an_order_the_database_refuses_is_isolated_not_redone(shop):
    # given an importer that does not know the amount rule (as a new constraint would be)
    records = shop["records"]
    refused = {**records[1], "total_amount": -5}
    importer = imports.OrderImporter()
    importer.order_rules.checks = []
    recorder = Recorder()

    totals = run_batches(
        read_json_lines(io.BytesIO(json_lines([records[0], refused, records[2]]))),
        importer,
        batch_size=10,
        listener=recorder,
    )

    assert list(recorder.reasons) == [2]
    assert "order_total_amount_gte_0" in recorder.reasons[2]
    assert (totals.note, totals.redone, totals.landed) == (FAST, 0, 2)
    assert mismatches() == []


@pytest.fixture
def audited_orders():
    """An operator's own trigger on the orders table, counting the rows it saw inserted."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE audit_seen (id_order bigint)")
        cursor.execute(
            "CREATE FUNCTION audit_order() RETURNS trigger LANGUAGE plpgsql AS $$"
            " BEGIN INSERT INTO audit_seen VALUES (NEW.id_order); RETURN NEW; END $$"
        )
        cursor.execute(
            "CREATE TRIGGER audit_order AFTER INSERT ON orders_order"
            " FOR EACH ROW EXECUTE FUNCTION audit_order()"
        )
    yield
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER audit_order ON orders_order")
        cursor.execute("DROP FUNCTION audit_order()")
        cursor.execute("DROP TABLE audit_seen")


def audited() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM audit_seen")
        return int(cursor.fetchone()[0])


@pytest.mark.parametrize(("flags", "note", "seen"), [([], FAST, 0), (["--row-triggers"], None, 3)])
def test_row_triggers_keeps_an_operators_own_trigger_firing(
    shop, audited_orders, tmp_path, flags, note, seen
):
    path = tmp_path / "orders.jsonl"
    path.write_bytes(json_lines(shop["records"]))
    out = io.StringIO()

    call_command("import_orders", str(path), *flags, stdout=out, stderr=io.StringIO())

    summary = out.getvalue().rstrip()
    assert summary.endswith(f"({note or 'references checked row by row: --row-triggers'})")
    assert "3 landed (3 written, 0 unchanged)" in summary
    assert audited() == seen
    assert mismatches() == []


def _lines_as_listed(order_id: int) -> list[tuple[int, int]]:
    """(product, quantity) of an order's lines, in line order (by id)."""
    return list(
        OrderProduct.objects.filter(order_id=order_id)
        .order_by("id_order_product")
        .values_list("product_id", "quantity")
    )


def _as_in_file(record) -> list[tuple[int, int]]:
    return [(p["id_product"], p["order_details"]["quantity"]) for p in record["products"]]


def test_a_batch_of_new_and_existing_orders_lands_both_as_the_file_says(shop):
    # given two orders landed, credited to different ambassadors
    records, seller, other = shop["records"], shop["seller"], shop["other"]
    run_import(services.orders_import, records[:2])
    # when one batch brings new orders (credited in descending ambassador order, their lines
    # in the file's order) and an existing one whose lines change
    later = max(record["id_order"] for record in records) + 10
    first_new = {**records[2], "id_order": later, "id_ambassador": max(seller.pk, other.pk)}
    second_new = {**records[2], "id_order": later + 1, "id_ambassador": min(seller.pk, other.pk)}
    for record in (first_new, second_new):
        record["products"] = [
            {**p, "order_details": {**p["order_details"], "id_order": record["id_order"]}}
            for p in reversed(records[2]["products"])
        ]
    fewer = {**records[0], "products": records[0]["products"][1:]}

    totals, recorder = run_import(
        services.orders_import, [fewer, first_new, second_new, records[1]], batch_size=10
    )

    # then the new ones are inserted, the changed one replaced, the unchanged one untouched
    assert (totals.note, totals.landed, totals.written, recorder.rejects) == (FAST, 4, 3, [])
    for record in (fewer, first_new, second_new, records[1]):
        assert _lines_as_listed(record["id_order"]) == _as_in_file(record)
    assert mismatches() == []


def test_a_file_out_of_id_order_rejects_an_id_an_earlier_batch_had(shop):
    template = shop["records"][0]
    base = template["id_order"] + 100
    records = []
    for id_order in (base + 2, base, base + 1, base + 2, base - 1):
        record = {**template, "id_order": id_order}
        record["products"] = [
            {**p, "order_details": {**p["order_details"], "id_order": id_order}}
            for p in template["products"]
        ]
        records.append(record)

    totals, recorder = run_import(services.orders_import, records, batch_size=2)

    assert recorder.reasons == {4: f"id_order {base + 2} is also on line 1: one line per order"}
    assert (totals.note, totals.landed) == (FAST, 4)
    assert sorted(Order.objects.values_list("pk", flat=True)) == [
        base - 1,
        base,
        base + 1,
        base + 2,
    ]
    assert mismatches() == []


def test_after_a_redone_batch_its_ids_are_still_duplicates_later(shop, monkeypatch):
    merge = imports._merge_orders_replica
    calls = []

    def once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RedoBatch("simulated")
        return merge(*args, **kwargs)

    monkeypatch.setattr(imports, "_merge_orders_replica", once)
    first, second, third = shop["records"]

    totals, recorder = run_import(
        services.orders_import, [first, second, third, first], batch_size=2
    )

    assert totals.redone == 1
    assert recorder.reasons == {
        4: f"id_order {first['id_order']} is also on line 1: one line per order"
    }
    assert (Order.objects.count(), mismatches()) == (3, [])


def test_an_order_inserted_concurrently_before_the_copy_redoes_the_batch(shop, monkeypatch):
    # given another writer that inserts one of the batch's new orders just before its COPY
    records, seller = shop["records"], shop["seller"]
    taken = records[1]
    copy_text = imports.copy_text
    inserted = []

    def racing(cursor, table, *args, **kwargs):
        if table == Order._meta.db_table and not inserted:
            with psycopg.connect(connection_url(), autocommit=True) as other:
                other.execute(
                    "INSERT INTO orders_order (id_order, total_amount, total_paid, total_ws,"
                    " id_popliste, source, last_status, id_meeting, customer_id, order_info,"
                    " currency, date_order, type, id_chat_segment, id_chatroom, date_insert,"
                    " date_update, assignment, id_ambassador, id_buyer) VALUES (%s, 1, 1, 1, 0,"
                    " '', 'PENDING', 0, '', '', 'EUR', now(), 'WEB', 0, 0, now(), now(),"
                    " 'unassigned', %s, %s)",
                    [taken["id_order"], seller.pk, taken["buyer"]["id_ambassador"]],
                )
            inserted.append(taken["id_order"])
        return copy_text(cursor, table, *args, **kwargs)

    monkeypatch.setattr(imports, "copy_text", racing)

    # when
    totals, recorder = run_import(services.orders_import, records, batch_size=10)

    # then the batch is redone with the triggers: the concurrent row is updated to the file's
    assert inserted == [taken["id_order"]]
    assert (totals.redone, totals.landed, recorder.rejects) == (1, 3, [])
    assert Order.objects.get(pk=taken["id_order"]).last_status == taken["last_status"]
    assert _lines_as_listed(taken["id_order"]) == _as_in_file(taken)
    assert mismatches() == []


def test_an_existing_orders_lines_in_another_order_are_replaced_in_that_order(shop):
    records = shop["records"]
    run_import(services.orders_import, records)
    swapped = {**records[1], "products": list(reversed(records[1]["products"]))}

    totals, _ = run_import(services.orders_import, [records[0], swapped])

    assert (totals.note, totals.written) == (FAST, 1)
    assert _lines_as_listed(swapped["id_order"]) == _as_in_file(swapped)
    assert _lines_as_listed(records[0]["id_order"]) == _as_in_file(records[0])
