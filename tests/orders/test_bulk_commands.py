"""The import_* and export_* commands as an operator runs them."""

from __future__ import annotations

import copy
import io
import json
import os
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from orders import services
from orders.models import Order, OrderProduct, Product
from platform_api.bulk.batches import read_json_lines
from tests.factories import (
    AmbassadorFactory,
    BrandFactory,
    I18nContentFactory,
    OrderFactory,
    OrderProductFactory,
    ProductFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    brand, other = BrandFactory(), BrandFactory()
    seller, buyer = AmbassadorFactory(brand=brand), AmbassadorFactory(brand=brand)
    elsewhere = AmbassadorFactory(brand=other)
    product = ProductFactory()
    I18nContentFactory(product=product)
    for ambassador in (seller, seller, elsewhere):
        order = OrderFactory(
            ambassador=ambassador, buyer=buyer if ambassador == seller else ambassador
        )
        OrderProductFactory(order=order, product=product)
    return {"brand": brand, "seller": seller, "elsewhere": elsewhere}


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_export_then_import_round_trips_and_reports(shop, tmp_path, capsys):
    products, orders = tmp_path / "products.jsonl", tmp_path / "orders.jsonl"
    call_command("export_products", "--out", str(products))
    call_command("export_orders", "--out", str(orders))
    assert capsys.readouterr().out.splitlines() == [
        f"exported 1 products to {products}",
        f"exported 3 orders to {orders}",
    ]
    assert not list(tmp_path.glob("*.partial"))
    OrderProduct.objects.all().delete()
    Order.objects.all().delete()

    call_command("import_orders", str(orders))

    out, err = capsys.readouterr()
    assert out.startswith(
        "import orders: done: 3 read, 3 landed (3 written, 0 unchanged), 0 rejected, "
    )
    assert err.startswith("committed through line 3: 3 landed (3 written), 0 rejected, ")
    call_command("export_orders", "--out", str(tmp_path / "again.jsonl"))
    assert (tmp_path / "again.jsonl").read_bytes() == orders.read_bytes()


def test_export_filters_by_ambassador_and_brand(shop, tmp_path):
    out = tmp_path / "o.jsonl"

    call_command("export_orders", "--ambassador", str(shop["seller"].pk), "--out", str(out))
    assert {o["id_ambassador"] for o in _lines(out)} == {shop["seller"].pk}
    assert len(_lines(out)) == 2

    call_command("export_orders", "--brand", str(shop["elsewhere"].brand_id), "--out", str(out))
    assert [o["id_ambassador"] for o in _lines(out)] == [shop["elsewhere"].pk]


def test_export_orders_writes_csv_for_a_csv_name(shop, tmp_path):
    out = tmp_path / "orders.csv"

    call_command("export_orders", "--out", str(out))

    assert out.read_bytes().startswith(b"id_ambassador,id_order,")
    assert len(out.read_bytes().split(b"\r\n")) == 1 + 3 + 1  # header, one line each, end


def test_rejects_go_to_their_file_and_the_exit_status_says_so(shop, tmp_path, capsys):
    orders = tmp_path / "orders.jsonl"
    call_command("export_orders", "--out", str(orders))
    records = _lines(orders)
    bad = copy.deepcopy(records[1])
    bad["products"][0]["order_details"]["quantity"] = -1
    orders.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in [records[0], bad, records[2]]))
    rejects = tmp_path / "rejects.jsonl"
    Order.objects.filter(pk=bad["id_order"]).delete()

    with pytest.raises(SystemExit) as exited:
        call_command("import_orders", str(orders), "--rejects", str(rejects))

    assert exited.value.code == 1
    [reject] = _lines(rejects)
    assert reject["line"] == 2
    assert "order_line_quantity_gt_0" in reject["reason"]
    assert json.loads(reject["record"]) == bad
    assert "1 rejected" in capsys.readouterr().out
    assert not Order.objects.filter(pk=bad["id_order"]).exists()


def test_without_a_rejects_file_the_reasons_are_printed(shop, tmp_path, capsys):
    orders = tmp_path / "orders.jsonl"
    orders.write_text('{"id_order": 1}\n')

    with pytest.raises(SystemExit):
        call_command("import_orders", str(orders))

    assert "rejected line 1: order: missing key(s) 'id_ambassador'" in capsys.readouterr().err


def test_quiet_prints_nothing(shop, tmp_path, capsys):
    products = tmp_path / "p.jsonl"
    call_command("export_products", "--out", str(products))
    capsys.readouterr()

    call_command("import_products", str(products), "--quiet")

    assert capsys.readouterr() == ("", "")
    assert Product.objects.count() == 1


def test_an_unreadable_input_is_exit_status_2(tmp_path):
    with pytest.raises(CommandError, match="cannot read") as missing:
        call_command("import_products", str(tmp_path / "nope.jsonl"))
    assert missing.value.returncode == 2

    bad_csv = tmp_path / "orders.csv"
    bad_csv.write_text("id_order\r\n1\r\n")
    with pytest.raises(CommandError, match="header differs") as header:
        call_command("import_orders", str(bad_csv))
    assert header.value.returncode == 2


@pytest.mark.django_db(transaction=True)
def test_an_import_keeps_no_session_state_between_batches(shop, tmp_path):
    # given: what a transaction pooler does at worst, a new session for every batch
    orders = tmp_path / "o.jsonl"
    call_command("export_orders", "--out", str(orders))
    OrderProduct.objects.all().delete()
    Order.objects.all().delete()
    sessions: list[int] = []
    before = bulk_tables() if _pg() else set()

    class NewSessionEachBatch:
        def rejected(self, item: Any) -> None:
            raise AssertionError(item)

        def committed(self, totals: Any) -> None:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()" if _pg() else "SELECT 1")
                sessions.append(cursor.fetchone()[0])
            connection.close()

    # when
    with orders.open("rb") as stream:
        totals = services.orders_import(
            sources=read_json_lines(stream), batch_size=1, listener=NewSessionEachBatch()
        )

    # then
    assert (totals.landed, totals.rejected) == (3, 0)
    assert Order.objects.count() == 3
    if _pg():
        assert len(set(sessions)) == 3
        assert bulk_tables() == before  # staging dropped at COMMIT, the seen ids at the end


def _pg() -> bool:
    return connection.vendor == "postgresql"


def bulk_tables() -> set[str]:
    """The import's tables in the database (a killed run's seen-ids table stays a day)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname FROM pg_class WHERE relname LIKE 'bulk\\_%'")
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.parametrize(
    ("command", "options", "problem"),
    [
        ("export_orders", ["--ambassador", "999999"], "--ambassador 999999: no such ambassador"),
        ("export_orders", ["--brand", "999999"], "--brand 999999: no such brand"),
        ("export_ambassadors", ["--brand", "999999"], "--brand 999999: no such brand"),
    ],
)
def test_an_export_of_an_unknown_id_is_refused_and_writes_nothing(
    shop, tmp_path, command, options, problem
):
    out = tmp_path / "out.jsonl"

    with pytest.raises(CommandError, match=problem) as refused:
        call_command(command, *options, "--out", str(out))

    assert refused.value.returncode == 2
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("where", ["missing/out.jsonl", "."], ids=["no such directory", "a dir"])
@pytest.mark.parametrize("command", ["export_orders", "export_products", "export_ambassadors"])
def test_an_export_to_a_place_it_cannot_write_says_so(shop, tmp_path, where, command):
    with pytest.raises(CommandError, match="cannot write") as refused:
        call_command(command, "--out", str(tmp_path / where))

    assert refused.value.returncode == 2
    assert list(tmp_path.iterdir()) == []


def test_a_rejects_file_that_cannot_be_written_is_exit_status_2(shop, tmp_path):
    source = tmp_path / "p.jsonl"
    call_command("export_products", "--out", str(source))

    with pytest.raises(CommandError, match="cannot write the rejects file") as missing:
        call_command("import_products", str(source), "--rejects", str(tmp_path / "no/r.jsonl"))
    assert missing.value.returncode == 2

    with pytest.raises(CommandError, match="is the input file") as same:
        call_command("import_products", str(source), "--rejects", str(source))
    assert same.value.returncode == 2
    assert source.read_bytes()  # not emptied


@pytest.mark.parametrize("command", ["export_orders", "export_products", "export_ambassadors"])
def test_an_export_to_a_closed_pipe_says_so_without_a_traceback(shop, monkeypatch, command):
    # given: standard output is a pipe whose reader has gone (`export_orders --out - | head`)
    read_end, write_end = os.pipe()
    os.close(read_end)
    with open(write_end, "w") as stdout:
        monkeypatch.setattr(sys, "stdout", stdout)

        with pytest.raises(CommandError, match="standard output was closed") as closed:
            call_command(command, "--out", "-")

        assert closed.value.returncode == 2
        stdout.write("x" * 100_000)  # now /dev/null: the exit's flush cannot fail again


@pytest.mark.parametrize("out", ["orders.jsonl", "-"])
def test_an_interrupted_export_exits_130_and_leaves_no_file(shop, tmp_path, monkeypatch, out):
    def interrupted(**_: Any) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(services, "orders_export", interrupted)
    target = str(tmp_path / out) if out != "-" else out
    err = io.StringIO()

    # BaseException: a KeyboardInterrupt let through would otherwise stop the test session
    with pytest.raises(BaseException) as stopped:  # noqa: PT011
        call_command("export_orders", "--out", target, stderr=err)

    assert isinstance(stopped.value, SystemExit)
    assert stopped.value.code == 130
    assert "export orders: interrupted" in err.getvalue()
    assert list(tmp_path.iterdir()) == []


def test_the_orders_csv_read_as_json_lines_is_refused_whole_with_what_to_pass(shop, tmp_path):
    csv_file = tmp_path / "orders.csv"
    call_command("export_orders", "--out", str(csv_file))
    misnamed = tmp_path / "orders.jsonl"
    csv_file.rename(misnamed)
    Order.objects.all().delete()

    with pytest.raises(CommandError, match="pass --format csv") as refused:
        call_command("import_orders", str(misnamed))

    assert refused.value.returncode == 2
    assert Order.objects.count() == 0


def test_a_statement_the_database_refuses_is_an_error_not_a_stop_to_run_again(
    tmp_path, monkeypatch, db
):
    # given an import whose first statement is refused (as a missing migration would be)
    from django.db import ProgrammingError

    from orders.imports import OrderImporter

    def refused(self: Any) -> None:
        raise ProgrammingError('relation "orders_order" does not exist')

    monkeypatch.setattr(OrderImporter, "prepare", refused)
    path = tmp_path / "orders.jsonl"
    path.write_text("")

    # when, then: the error itself, not exit status 3's "run the same file again"
    with pytest.raises(ProgrammingError, match="does not exist"):
        call_command("import_orders", str(path), "--quiet")
