"""Batches commit whole: a killed import keeps what it reported committed, a re-run doubles nothing.

The import runs as a real process reading standard input, fed a part of the file and then killed
while it waits for more: its last reported batch must be in the database, nothing after it.
"""

from __future__ import annotations

import contextlib
import copy
import os
import select
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest
from django.conf import settings
from django.db import OperationalError, connection

from orders.exports import iter_orders, orders_for_export
from orders.models import Order, OrderProduct
from platform_api.bulk.batches import Landed, Rejected, Source, Totals, run_import
from tests.factories import (
    AmbassadorFactory,
    BrandFactory,
    OrderFactory,
    OrderProductFactory,
    ProductFactory,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(settings.BASE_DIR)
DEADLINE_SECONDS = 60


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("the importing process needs a database it can share: PostgreSQL")


@pytest.fixture
def file_lines() -> list[bytes]:
    brand = BrandFactory()
    seller, buyer = AmbassadorFactory(brand=brand), AmbassadorFactory(brand=brand)
    template = OrderFactory(ambassador=seller, buyer=buyer)
    OrderProductFactory(order=template, product=ProductFactory(), quantity=1)
    OrderProductFactory(order=template, product=ProductFactory(), quantity=2)
    [record] = iter_orders(orders_for_export())
    OrderProduct.objects.all().delete()
    Order.objects.all().delete()
    lines = []
    for n in range(1, 401):
        order = copy.deepcopy(record)
        order["id_order"] = n
        for product in order["products"]:
            product["order_details"]["id_order"] = n
        lines.append(orjson.dumps(order) + b"\n")
    return lines


def _database_url() -> str:
    db = connection.settings_dict
    user = db["USER"] or "postgres"
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return (
        f"postgres://{user}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )


def _start_import(batch_size: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "DJANGO_SETTINGS_MODULE": "platform_api.settings.local",
    }
    return subprocess.Popen(  # noqa: S603
        [sys.executable, "manage.py", "import_orders", "-", "--batch-size", str(batch_size)],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _wait_for(process: subprocess.Popen[bytes], text: bytes) -> bytes:
    """stderr up to the line containing `text`; fails after DEADLINE_SECONDS."""
    assert process.stderr is not None
    seen = b""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while text not in seen:
        left = deadline - time.monotonic()
        assert left > 0, f"no {text!r} from the import in time; stderr so far: {seen!r}"
        ready, _, _ = select.select([process.stderr], [], [], left)
        if ready:
            chunk = os.read(process.stderr.fileno(), 65536)
            assert chunk, f"the import ended early: {seen!r}"
            seen += chunk
    return seen


def _feed(process: subprocess.Popen[bytes], lines: list[bytes]) -> None:
    assert process.stdin is not None
    process.stdin.write(b"".join(lines))
    process.stdin.flush()


def test_kill_9_keeps_every_reported_batch_and_a_rerun_duplicates_nothing(file_lines, tmp_path):
    # given an import that reported 4 batches of 50 and is halfway through the fifth
    process = _start_import(batch_size=50)
    try:
        _feed(process, file_lines[:220])
        _wait_for(process, b"committed through line 200:")
        # when it is killed
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=DEADLINE_SECONDS)
    finally:
        process.kill()
    # then everything reported committed is there, the unfinished batch is not
    assert sorted(Order.objects.values_list("pk", flat=True)) == list(range(1, 201))
    assert OrderProduct.objects.count() == 400

    # and a re-run of the whole file lands the rest and doubles nothing
    whole = tmp_path / "orders.jsonl"
    whole.write_bytes(b"".join(file_lines))
    rerun = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "import_orders", str(whole), "--batch-size", "50"],
        cwd=ROOT,
        env={
            **os.environ,
            "DATABASE_URL": _database_url(),
            "DJANGO_SETTINGS_MODULE": "platform_api.settings.local",
        },
        capture_output=True,
        timeout=DEADLINE_SECONDS,
        check=True,
    )
    assert b"400 landed (200 written, 200 unchanged), 0 rejected" in rerun.stdout
    assert Order.objects.count() == 400
    assert OrderProduct.objects.count() == 800
    assert set(OrderProduct.objects.values_list("order_id", "quantity")) == {
        (n, q) for n in range(1, 401) for q in (1, 2)
    }


def test_ctrl_c_stops_after_the_last_committed_batch_and_says_where(file_lines):
    process = _start_import(batch_size=50)
    try:
        _feed(process, file_lines[:120])
        _wait_for(process, b"committed through line 100:")
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=DEADLINE_SECONDS)
    finally:
        process.kill()

    assert process.returncode == 130
    assert b"interrupted after line 100 (committed up to there)" in err
    assert Order.objects.count() == 100


def _stopped(process: subprocess.Popen[bytes], rest: list[bytes]) -> bytes:
    """Feed the rest of the file to an import that can no longer land it; its stderr."""
    assert process.stdin is not None
    with contextlib.suppress(BrokenPipeError):
        _feed(process, rest)
        process.stdin.close()
    _, err = process.communicate(timeout=DEADLINE_SECONDS)
    return err


def test_a_lost_database_connection_stops_the_import_and_says_where(file_lines):
    process = _start_import(batch_size=50)
    try:
        _feed(process, file_lines[:120])
        _wait_for(process, b"committed through line 100:")
        # when the server ends the import's session (a restart, a failover, an operator)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        err = _stopped(process, file_lines[120:])
    finally:
        process.kill()

    assert process.returncode == 3, err
    assert b"stopped after line 100 (committed up to there; run the same file again" in err
    assert b"Traceback" not in err
    assert Order.objects.count() == 100


def test_a_killed_reading_process_stops_the_import_and_says_where(file_lines):
    process = _start_import(batch_size=50)
    try:
        _feed(process, file_lines[:120])
        _wait_for(process, b"committed through line 100:")
        # when the process that reads and checks the records dies (the OOM killer)
        children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
        os.kill(int(children[0]), signal.SIGKILL)
        err = _stopped(process, file_lines[120:])
    finally:
        process.kill()

    assert process.returncode == 3, err
    assert b"stopped after line 100 (committed up to there" in err
    assert b"reading process ended unexpectedly" in err
    assert b"Traceback" not in err
    assert Order.objects.count() == 100


@dataclass
class _Record:
    source: Source


class _LosesItsConnectionWhileLanding:
    """An importer whose first `land` ends its own database session, as a restart would."""

    note = ""

    def __init__(self) -> None:
        self.landed: list[int] = []

    def prepare(self) -> None: ...

    def begin_batch(self) -> None: ...

    def parse(self, source: Source) -> _Record:
        return _Record(source)

    def land(self, batch: list[_Record]) -> Landed:
        self.landed.append(len(batch))
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")
        return Landed()

    def after_batch(self) -> None: ...

    def finish(self) -> None: ...


class _Listener:
    def rejected(self, item: Rejected) -> None:
        raise AssertionError(f"no record is at fault: {item}")

    def committed(self, totals: Totals) -> None: ...


def test_a_connection_lost_while_landing_is_not_blamed_on_the_records():
    # given a batch of 4 whose landing loses the connection
    importer = _LosesItsConnectionWhileLanding()
    sources = [Source(line, "{}", {}) for line in range(1, 5)]

    # when, then: the database's error, once, not the batch split and each record rejected
    try:
        with pytest.raises(OperationalError, match="terminating connection"):
            run_import(sources, importer, batch_size=10, listener=_Listener())
    finally:
        connection.close()  # the session is gone: the test's teardown opens a new one
    assert importer.landed == [4]
