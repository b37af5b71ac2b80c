"""`--all-ambassadors`: every ambassador of the brand in id order, resumable across them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

from platform_api_client import PlatformApiClient
from platform_api_client.cli import EXIT_OK
from platform_api_client.export import ExportRequest, run_export

from ambassadors.models import Ambassador
from tests.client.faulty_proxy import GATE_TIMEOUT
from tests.client.test_export import api_orders, export
from tests.factories import AmbassadorFactory, OrderFactory


def test_all_ambassadors_are_exported_in_id_order(live_server, shop, token_env, tmp_path, capsys):
    out = tmp_path / "brand.jsonl"

    code = export(live_server.url, token_env, out)

    ids = Ambassador.objects.filter(brand=shop["brand"]).order_by("pk").values_list("pk", flat=True)
    expected = [
        order for pk in ids for order in api_orders(live_server.url, shop["token"].secret, pk)
    ]
    assert code == EXIT_OK
    assert [json.loads(line) for line in out.read_text().split("\n")[:-1]] == expected
    assert f"of {len(ids)} ambassadors" in capsys.readouterr().err


def test_a_brand_export_resumes_after_the_ambassadors_it_finished(
    proxy, plan, live_server, shop, token_env, tmp_path
):
    # given: killed while asking for the second seller's first page (the list, then the first
    # seller's count and its 5 pages, then the second seller's count came before)
    clean, resumed = tmp_path / "clean.csv", tmp_path / "resumed.csv"
    assert export(live_server.url, token_env, clean, format="csv") == EXIT_OK
    plan.hold = 9
    command = [
        sys.executable,
        "-m",
        "platform_api_client",
        "export",
        "orders",
        "--base-url",
        proxy,
        "--token-env",
        token_env,
        "--all-ambassadors",
        "--format",
        "csv",
        "--out",
        str(resumed),
        "--per-page",
        "10",
        "--quiet",
    ]
    process = subprocess.Popen(command, env=os.environ.copy())  # noqa: S603
    try:
        assert plan.held.wait(GATE_TIMEOUT), "the export never reached the second seller"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(GATE_TIMEOUT)
        plan.release.set()
    state = json.loads(resumed.with_name(resumed.name + ".state.json").read_text())
    assert state["done_through"] == shop["seller"].pk

    # when
    code = export(proxy, token_env, resumed, "--resume", format="csv")

    # then
    assert code == EXIT_OK
    assert resumed.read_bytes() == clean.read_bytes()


def test_ambassadors_leaving_the_brand_mid_export_make_no_other_one_skipped(
    live_server, shop, tmp_path
):
    # given: 101 ambassadors (the list's second page holds `last`, who has an order), and
    # two ambassadors without orders who leave the brand while the first seller is exported
    brand = shop["brand"]
    leaving = AmbassadorFactory.create_batch(97, brand=brand)[:2]
    last = AmbassadorFactory(brand=brand)
    OrderFactory(ambassador=last, buyer=last)
    client = PlatformApiClient(live_server.url, shop["token"].secret)
    expected = [
        order
        for pk in Ambassador.objects.filter(brand=brand).order_by("pk").values_list("pk", flat=True)
        for order in api_orders(live_server.url, shop["token"].secret, pk)
    ]
    out = tmp_path / "brand.jsonl"

    def leave(written: int, ahead: int) -> None:
        if leaving and Ambassador.objects.filter(pk=leaving[0].pk).exists():
            Ambassador.objects.filter(pk=leaving[0].pk).delete()
            Ambassador.objects.filter(pk=leaving[1].pk).update(brand=AmbassadorFactory().brand)

    # when
    summary = run_export(client, ExportRequest(out=out, format="jsonl"), progress=leave)

    # then
    assert [json.loads(line) for line in out.read_text().split("\n")[:-1]] == expected
    assert json.loads(out.read_text().split("\n")[-2])["id_order"] == last.credited_orders.get().pk
    assert summary.orders == len(expected)


def test_the_next_runs_stamp_is_taken_when_the_first_listed_ambassador_is_gone(
    live_server, shop, tmp_path
):
    # given: the brand's first ambassador moves to another brand between the list and its orders
    first = shop["seller"]

    class FirstLeaves(PlatformApiClient):
        def ambassadors(self, **kwargs):
            listed = list(super().ambassadors(**kwargs))
            Ambassador.objects.filter(pk=first.pk).update(brand=AmbassadorFactory().brand)
            yield from listed

    client = FirstLeaves(live_server.url, shop["token"].secret)

    # when
    summary = run_export(client, ExportRequest(out=tmp_path / "brand.jsonl", format="jsonl"))

    # then: the other ambassadors' orders, and the stamp for the next incremental run
    assert summary.orders == 3
    assert summary.started is not None
