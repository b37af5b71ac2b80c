"""The per-ambassador order counter PostgreSQL's triggers keep: exact whoever writes, whenever.

Concurrent tests use real separate connections (psycopg, one per thread) on the test database,
so the transactions truly overlap; the counter must then equal `count(*)` for every
ambassador, in every snapshot a reader takes while they run and after they end.
"""

from __future__ import annotations

import random
import threading
from io import StringIO

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.utils import ProgrammingError

from ambassadors.models import Ambassador
from orders.exports import iter_orders, orders_for_export
from orders.models import AmbassadorOrderCount, Order
from orders.selectors import select_ambassador_orders, visible_ambassador_order_total
from orders.services import order_counts_rebuild, orders_import
from tests.bulk import run_import
from tests.factories import AmbassadorFactory, ApiTokenFactory, BrandFactory, OrderFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WORKERS = 4
ROUNDS = 40

# `%s` orders for each ambassador of an array, in one statement (buyer, source, ambassadors).
INSERT = (
    "INSERT INTO orders_order (id_ambassador, id_buyer, total_amount, total_paid, total_ws,"
    " id_popliste, source, last_status, id_meeting, customer_id, order_info, currency,"
    " date_order, type, id_chat_segment, id_chatroom, date_insert, date_update, assignment)"
    " SELECT a, %s, 0, 0, 0, 0, %s, 'OK', 0, '', '', 'EUR', now(), 'WEB', 0, 0, now(), now(),"
    " 'unassigned' FROM unnest(%s::bigint[]) AS a"
)


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("the counter is PostgreSQL's (SQLite counts on every request)")


def connection_url() -> str:
    settings = connection.settings_dict
    return (
        f"postgresql://{settings['USER'] or 'postgres'}@{settings['HOST'] or '127.0.0.1'}:"
        f"{settings['PORT'] or 5432}/{settings['NAME']}"
    )


def mismatches() -> list[tuple[int, int | None, int | None]]:
    """(ambassador, counted, counter) wherever the counter is not `count(*)`; [] when exact."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id_ambassador, e.n, c.order_count FROM"
            " (SELECT id_ambassador, count(*) AS n FROM orders_order GROUP BY 1) AS e"
            " FULL JOIN orders_ambassador_order_count AS c USING (id_ambassador)"
            " WHERE coalesce(e.n, 0) <> coalesce(c.order_count, 0)"
        )
        return cursor.fetchall()


def counter(ambassador) -> int:
    row = AmbassadorOrderCount.objects.filter(ambassador=ambassador).first()
    return 0 if row is None else row.order_count


@pytest.fixture
def people():
    brand = BrandFactory()
    return [AmbassadorFactory(brand=brand) for _ in range(4)]


def test_every_kind_of_write_keeps_the_counter_exact(people):
    seller, other, third, buyer = people
    # ORM saves, bulk_create (one multi-row INSERT), raw INSERT ... SELECT
    OrderFactory.create_batch(3, ambassador=seller, buyer=buyer)
    Order.objects.bulk_create(
        [Order(ambassador=other, buyer=buyer), Order(ambassador=seller, buyer=buyer)]
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO orders_order (id_ambassador, id_buyer, total_amount, total_paid,"
            " total_ws, id_popliste, source, last_status, id_meeting, customer_id, order_info,"
            " currency, date_order, type, id_chat_segment, id_chatroom, date_insert,"
            " date_update, assignment)"
            " SELECT %s, %s, 0, 0, 0, 0, '', 'OK', 0, '', '', 'EUR', now(), 'WEB', 0, 0,"
            " now(), now(), 'unassigned' FROM generate_series(1, 5)",
            [third.pk, buyer.pk],
        )
    assert (counter(seller), counter(other), counter(third)) == (4, 1, 5)
    assert mismatches() == []
    # re-attribution: one order through save(), then a set-based move both ways at once
    moved = Order.objects.filter(ambassador=seller).first()
    moved.ambassador = other
    moved.save()
    Order.objects.filter(ambassador=third).update(ambassador=seller)
    assert (counter(seller), counter(other), counter(third)) == (8, 2, 0)
    # an UPDATE that moves nothing, and an upsert (insert and update triggers both fire)
    Order.objects.filter(ambassador=seller).update(source="web")
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO orders_order SELECT * FROM orders_order WHERE id_ambassador = %s"
            " ON CONFLICT (id_order) DO UPDATE SET id_ambassador = %s",
            [other.pk, third.pk],
        )
    assert (counter(seller), counter(other), counter(third)) == (8, 0, 2)
    assert mismatches() == []
    # deletes, then TRUNCATE
    Order.objects.filter(pk__in=Order.objects.filter(ambassador=seller).values("pk")[:3]).delete()
    assert counter(seller) == 5
    assert mismatches() == []
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE orders_order CASCADE")
    assert AmbassadorOrderCount.objects.count() == 0
    assert mismatches() == []


def test_a_rolled_back_transaction_counts_nothing(people):
    seller, _, _, buyer = people
    OrderFactory(ambassador=seller, buyer=buyer)
    seen = []

    def add_then_fail():
        with transaction.atomic():
            OrderFactory.create_batch(4, ambassador=seller, buyer=buyer)
            seen.append(counter(seller))  # the writer sees its own orders counted
            raise RuntimeError("roll back")

    with pytest.raises(RuntimeError):
        add_then_fail()
    assert seen == [5]
    assert counter(seller) == 1
    assert mismatches() == []


def test_an_ambassador_deleted_without_orders_takes_its_counter_along(people):
    seller, _, _, buyer = people
    Order.objects.filter(pk=OrderFactory(ambassador=seller, buyer=buyer).pk).delete()
    assert AmbassadorOrderCount.objects.get(ambassador=seller).order_count == 0
    seller.delete()
    assert not AmbassadorOrderCount.objects.filter(ambassador_id=seller.pk).exists()


def test_the_unfiltered_total_is_the_counter_and_a_filtered_one_is_counted(people):
    seller, _, _, buyer = people
    OrderFactory.create_batch(3, ambassador=seller, buyer=buyer, currency="EUR")
    token = ApiTokenFactory(brand=seller.brand)
    # A counter made wrong on purpose shows which totals read it.
    AmbassadorOrderCount.objects.filter(ambassador=seller).update(order_count=999)

    def total(filters):
        orders = select_ambassador_orders(
            ambassador_id=seller.pk, filters=filters, ordering=["-date_order", "-id_order"]
        )
        return visible_ambassador_order_total(token=token, ambassador_id=seller.pk, orders=orders)

    assert total({}) == 999
    assert total({"currency": "EUR"}) == 3
    # an ambassador who never had an order has no counter row: 0
    newcomer = AmbassadorFactory(brand=seller.brand)
    assert (
        visible_ambassador_order_total(
            token=token,
            ambassador_id=newcomer.pk,
            orders=select_ambassador_orders(
                ambassador_id=newcomer.pk, filters={}, ordering=["-date_order", "-id_order"]
            ),
        )
        == 0
    )


def test_rebuild_corrects_counters_after_a_load_without_triggers(people):
    seller, other, _, buyer = people
    OrderFactory.create_batch(2, ambassador=seller, buyer=buyer)
    with connection.cursor() as cursor:
        # As bench/dataset.sql loads: no trigger fires (superuser only).
        cursor.execute("SET session_replication_role = replica")
        cursor.execute(INSERT, [buyer.pk, "raw", [seller.pk] * 3])
        cursor.execute(
            "UPDATE orders_order SET id_ambassador = %s WHERE id_order ="
            " (SELECT min(id_order) FROM orders_order WHERE id_ambassador = %s)",
            [other.pk, seller.pk],
        )
        cursor.execute("RESET session_replication_role")
    assert sorted(mismatches()) == sorted([(seller.pk, 4, 2), (other.pk, 1, None)])
    # Removing orders the counter never saw is refused, with what to do.
    with pytest.raises(ProgrammingError, match="rebuild_order_counts"), transaction.atomic():
        Order.objects.filter(ambassador=other).delete()
    out = StringIO()
    call_command("rebuild_order_counts", stdout=out)
    assert "2 counters corrected" in out.getvalue()
    assert mismatches() == []
    assert order_counts_rebuild() == 0


# --- concurrency -------------------------------------------------------------------------------


@pytest.fixture
def shop(people):
    """Four ambassadors with ten orders each, committed: what the workers share."""
    sellers, buyer = people, AmbassadorFactory(brand=people[0].brand)
    for seller in sellers:
        OrderFactory.create_batch(10, ambassador=seller, buyer=buyer)
    return [seller.pk for seller in sellers], buyer.pk


def work(worker: int, sellers: list[int], buyer: int, start: threading.Barrier, errors: list):
    """ROUNDS transactions, each one statement over several ambassadors, on this worker's own
    orders (so only the counters are shared), a third of them rolled back."""
    rng = random.Random(worker)
    tag = f"w{worker}"
    try:
        with psycopg.connect(connection_url()) as conn:
            start.wait(timeout=30)
            for _ in range(ROUNDS):
                targets = rng.sample(sellers, k=rng.randint(1, len(sellers)))
                with conn.transaction(force_rollback=rng.random() < 0.33):
                    kind = rng.choice(["insert", "delete", "move"])
                    if kind == "insert":
                        conn.execute(INSERT, [buyer, tag, targets + targets[:1]])
                    elif kind == "delete":
                        conn.execute(
                            "DELETE FROM orders_order WHERE id_order IN (SELECT id_order"
                            " FROM orders_order WHERE source = %s AND id_ambassador = ANY(%s)"
                            " ORDER BY random() LIMIT 3)",
                            [tag, targets],
                        )
                    else:
                        # Each order goes to the next ambassador of a random ring: counts move
                        # both ways in one statement.
                        ring = targets + targets[:1]
                        conn.execute(
                            "UPDATE orders_order AS o SET id_ambassador = m.dest"
                            " FROM unnest(%s::bigint[], %s::bigint[]) AS m(src, dest)"
                            " WHERE o.id_ambassador = m.src AND o.source = %s",
                            [ring[:-1], ring[1:], tag],
                        )
    except Exception as error:  # reported to the test's thread, which fails with it
        errors.append(error)


def read_snapshots(sellers: list[int], stop: threading.Event, seen: list, errors: list):
    """Counter and count(*) in one statement (one snapshot, as the page statement reads them)."""
    try:
        with psycopg.connect(connection_url(), autocommit=True) as conn:
            while not stop.is_set():
                for seller in sellers:
                    row = conn.execute(
                        "SELECT coalesce((SELECT order_count FROM orders_ambassador_order_count"
                        " WHERE id_ambassador = %s), 0),"
                        " (SELECT count(*) FROM orders_order WHERE id_ambassador = %s)",
                        [seller, seller],
                    ).fetchone()
                    seen.append(row)
    except Exception as error:
        errors.append(error)


def test_concurrent_writers_and_rollbacks_keep_every_total_exact(shop):
    sellers, buyer = shop
    start, stop = threading.Barrier(WORKERS), threading.Event()
    errors: list[Exception] = []
    seen: list[tuple[int, int]] = []
    reader = threading.Thread(target=read_snapshots, args=(sellers, stop, seen, errors))
    reader.start()
    workers = [
        threading.Thread(target=work, args=(n, sellers, buyer, start, errors))
        for n in range(WORKERS)
    ]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(timeout=120)
    stop.set()
    reader.join(timeout=30)
    # then: no deadlock, no error; every snapshot and the end state exact
    assert errors == []
    assert seen
    assert [row for row in seen if row[0] != row[1]] == []
    assert mismatches() == []
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM orders_order WHERE source LIKE 'w%%'")
        (written,) = cursor.fetchone()
    assert written > 0  # the workload did commit orders, not only roll them back
    token = ApiTokenFactory(brand=Ambassador.objects.get(pk=sellers[0]).brand)
    for seller in sellers:
        orders = select_ambassador_orders(
            ambassador_id=seller, filters={}, ordering=["-date_order", "-id_order"]
        )
        total = visible_ambassador_order_total(token=token, ambassador_id=seller, orders=orders)
        assert total == Order.objects.filter(ambassador_id=seller).count()


def test_a_bulk_import_keeps_the_counter_exact(people):
    # given: orders exported, then deleted (the counter follows the deletes)
    seller, other, third, buyer = people
    for ambassador in (seller, seller, other):
        OrderFactory(ambassador=ambassador, buyer=buyer)
    records = list(iter_orders(orders_for_export()))
    Order.objects.all().delete()
    assert mismatches() == []

    # when: a first load, a re-run, then a feed that re-credits one order and adds another
    run_import(orders_import, records, batch_size=2)
    assert (counter(seller), counter(other), mismatches()) == (2, 1, [])
    run_import(orders_import, records, batch_size=2)
    moved = {**records[0], "id_ambassador": third.pk}
    added = {**records[2], "id_order": records[2]["id_order"] + 1000, "products": []}
    totals, recorder = run_import(orders_import, [moved, added], batch_size=2)

    # then
    assert (totals.landed, recorder.rejects) == (2, [])
    assert (counter(seller), counter(other), counter(third)) == (1, 2, 1)
    assert mismatches() == []
