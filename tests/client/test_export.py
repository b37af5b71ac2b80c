"""`platform-api export orders` end to end against a live server: files, exit codes, retries
mid-walk, and a resume after kill -9 that writes the same bytes as an uninterrupted export."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from django.utils import timezone
from platform_api_client import PlatformApiClient, rawjson
from platform_api_client import csv as orders_csv
from platform_api_client import export as export_module
from platform_api_client.cli import (
    EXIT_AUTH,
    EXIT_INTERRUPTED,
    EXIT_INVALID_QUERY,
    EXIT_NOT_FOUND,
    EXIT_OK,
    EXIT_RESUME,
    EXIT_UNAVAILABLE,
    EXIT_USAGE,
    main,
)
from platform_api_client.export import ExportRequest, run_export

from orders import csv_layout
from orders.models import Order as OrderModel
from tests.client.conftest import SELLER_ORDERS
from tests.client.faulty_proxy import GATE_TIMEOUT, Fault

ORDERS = "/api/v2/platform/ambassadors/{id}/orders"


def export(
    base_url: str,
    token_env: str,
    out: Path,
    *extra: str,
    ambassador: int | None = None,
    format: str = "jsonl",
) -> int:
    who = ["--all-ambassadors"] if ambassador is None else ["--ambassador", str(ambassador)]
    return main(
        [
            "export",
            "orders",
            "--base-url",
            base_url,
            "--token-env",
            token_env,
            *who,
            "--format",
            format,
            "--out",
            str(out),
            "--per-page",
            "10",
            *extra,
        ]
    )


def api_orders(base_url: str, token: str, ambassador: int, query: str = "") -> list[dict]:
    url = f"{base_url}{ORDERS.format(id=ambassador)}?per_page=100&cursor=&{query}"
    return requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=10).json()[
        "data"
    ]


def test_jsonl_holds_the_api_objects_unchanged_one_per_line(
    live_server, shop, token_env, tmp_path, capsys
):
    out = tmp_path / "orders.jsonl"

    code = export(live_server.url, token_env, out, ambassador=shop["seller"].pk)

    lines = out.read_bytes().split(b"\n")
    assert code == EXIT_OK
    assert lines[-1] == b""
    assert [json.loads(line) for line in lines[:-1]] == api_orders(
        live_server.url, shop["token"].secret, shop["seller"].pk
    )
    summary = capsys.readouterr().err.strip().splitlines()[-1]
    assert summary.startswith(f"{SELLER_ORDERS} orders, 66 lines in ")
    assert summary.endswith(f"0 retries -> {out}")


def test_csv_is_one_row_per_line_in_the_agreed_layout(live_server, shop, token_env, tmp_path):
    out = tmp_path / "orders.csv"

    code = export(live_server.url, token_env, out, ambassador=shop["seller"].pk, format="csv")

    text = out.read_bytes().decode("utf-8")
    rows = list(__import__("csv").reader(text.splitlines(keepends=True)))
    assert code == EXIT_OK
    assert rows[0] == orders_csv.COLUMNS
    # 45 orders of 0..3 lines: 66 lines, and one row for each of the 12 orders without any.
    assert len(rows) == 1 + 66 + 12
    assert text.count("\r\n") == len(rows) + text.count('"a,b\r\nc"')


def test_the_import_reads_the_exported_csv_back_into_the_api_orders(
    live_server, shop, token_env, tmp_path
):
    out = tmp_path / "orders.csv"
    assert export(live_server.url, token_env, out, ambassador=shop["seller"].pk, format="csv") == 0
    url = f"{live_server.url}{ORDERS.format(id=shop['seller'].pk)}?per_page=100&cursor="
    headers = {"Authorization": f"Bearer {shop['token'].secret}"}
    api = rawjson.loads(requests.get(url, headers=headers, timeout=10).text)["data"]

    with open(out, "rb") as stream:
        records = list(csv_layout.read_orders(stream))

    for order in api:  # the layout leaves out the line's ids, which repeat columns before them
        for product in order["products"]:
            del product["order_details"]["id_order"], product["order_details"]["id_product"]
    assert [record.value for record in records] == [
        {**order, "id_ambassador": shop["seller"].pk} for order in api
    ]


def test_updated_since_exports_only_what_changed(live_server, shop, token_env, tmp_path):
    out = tmp_path / "recent.jsonl"

    code = export(
        live_server.url,
        token_env,
        out,
        "--updated-since",
        "2025-02-10T00:00:00Z",
        "--filter",
        "type=WEB",
        ambassador=shop["seller"].pk,
    )

    expected = api_orders(
        live_server.url,
        shop["token"].secret,
        shop["seller"].pk,
        "filter[updated_since]=2025-02-10T00:00:00Z",
    )
    assert code == EXIT_OK
    assert [json.loads(line)["id_order"] for line in out.read_text().split("\n")[:-1]] == [
        order["id_order"] for order in expected
    ]
    assert len(expected) == SELLER_ORDERS - 40


def test_the_next_incremental_run_sees_orders_updated_during_an_export(
    live_server, shop, token_env, tmp_path, capsys
):
    # given: during an export, an order already written is updated, then one not reached yet
    seller = shop["seller"].pk
    client = PlatformApiClient(live_server.url, shop["token"].secret)
    walk = OrderModel.objects.filter(ambassador=seller).order_by("-date_order", "-id_order")
    passed, ahead = walk.first(), walk.last()
    assert passed is not None
    assert ahead is not None

    def update(written: int, newly_ahead: int) -> None:
        if written and not OrderModel.objects.filter(pk=passed.pk, date_update__year=2026).exists():
            OrderModel.objects.filter(pk=passed.pk).update(date_update=timezone.now())
            OrderModel.objects.filter(pk=ahead.pk).update(
                date_update=timezone.now() + timedelta(seconds=1)
            )

    request = ExportRequest(out=tmp_path / "first.jsonl", format="jsonl", ambassador=seller)
    summary = run_export(client, replace(request, per_page=10), progress=update)
    first = [json.loads(line) for line in (tmp_path / "first.jsonl").read_text().splitlines()]
    assert [order["id_order"] for order in first if order["id_order"] == passed.pk] == [passed.pk]
    assert summary.started is not None

    # when: the next run, from the time the export says
    next_run = tmp_path / "next.jsonl"
    code = export(
        live_server.url, token_env, next_run, "--updated-since", summary.started, ambassador=seller
    )

    # then: both updates are in it, though `passed`'s is older than the newest date_update seen
    assert code == EXIT_OK
    assert {json.loads(line)["id_order"] for line in next_run.read_text().splitlines()} == {
        passed.pk,
        ahead.pk,
    }
    assert max(order["date_update"] for order in first) > _api_date_update(
        live_server, shop, passed
    )
    assert "next incremental run: --updated-since " in capsys.readouterr().err


def test_an_export_resumed_before_its_first_page_still_says_where_the_next_run_starts(
    proxy, plan, live_server, shop, token_env, tmp_path, pauses, capsys
):
    out = tmp_path / "orders.jsonl"
    plan.always = Fault(503, "Service Unavailable", "1")
    assert export(proxy, token_env, out, ambassador=shop["seller"].pk) == EXIT_UNAVAILABLE
    capsys.readouterr()

    code = export(live_server.url, token_env, out, "--resume", ambassador=shop["seller"].pk)

    assert code == EXIT_OK
    assert "next incremental run: --updated-since " in capsys.readouterr().err
    assert json.loads(out.with_name(out.name + ".state.json").read_text())["started"]


def _api_date_update(live_server, shop, order) -> str:
    orders = api_orders(live_server.url, shop["token"].secret, shop["seller"].pk)
    return next(item["date_update"] for item in orders if item["id_order"] == order.pk)


def test_429_and_503_mid_walk_change_nothing_in_the_file(
    proxy, plan, live_server, shop, token_env, tmp_path, pauses, capsys
):
    clean, faulty = tmp_path / "clean.csv", tmp_path / "faulty.csv"
    assert (
        export(live_server.url, token_env, clean, ambassador=shop["seller"].pk, format="csv")
        == EXIT_OK
    )
    plan.faults = {
        3: Fault(429, "Too Many Attempts.", "3"),
        5: Fault(503, "Service Unavailable", "1"),
    }

    code = export(proxy, token_env, faulty, ambassador=shop["seller"].pk, format="csv")

    assert code == EXIT_OK
    assert faulty.read_bytes() == clean.read_bytes()
    assert pauses == [3.0, 1.0]
    assert "2 retries" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("format", "hold", "written"),
    [
        ("jsonl", 5, 30),  # killed while its 5th request (the 4th page) is in flight
        ("csv", 5, 30),
        ("jsonl", 2, 0),  # killed before its first page, over an earlier complete export
    ],
)
def test_a_resumed_export_after_kill_9_equals_an_uninterrupted_one(
    proxy, plan, live_server, shop, token_env, tmp_path, format, hold, written
):
    # given: an export killed while its request number `hold` is in flight
    clean, resumed = tmp_path / f"clean.{format}", tmp_path / f"resumed.{format}"
    assert (
        export(live_server.url, token_env, clean, ambassador=shop["seller"].pk, format=format)
        == EXIT_OK
    )
    if not written:
        export(live_server.url, token_env, resumed, ambassador=shop["seller"].pk, format=format)
    plan.hold = hold
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
        "--ambassador",
        str(shop["seller"].pk),
        "--format",
        format,
        "--out",
        str(resumed),
        "--per-page",
        "10",
        "--quiet",
    ]
    process = subprocess.Popen(command, env=os.environ.copy())  # noqa: S603
    try:
        assert plan.held.wait(GATE_TIMEOUT), f"the export never sent request {hold}"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(GATE_TIMEOUT)
        plan.release.set()
    state = json.loads(resumed.with_name(resumed.name + ".state.json").read_text())
    assert state["orders"] == written
    with open(resumed, "ab") as torn:  # as if the kill came mid-write, after the checkpoint
        torn.write(b'{"id_order":1,"half a li')

    # when
    code = export(
        proxy, token_env, resumed, "--resume", ambassador=shop["seller"].pk, format=format
    )

    # then
    assert code == EXIT_OK
    assert resumed.read_bytes() == clean.read_bytes()


@pytest.mark.parametrize("all_ambassadors", [False, True])
def test_a_resume_after_the_last_page_but_before_completion_writes_nothing_more(
    live_server, shop, token_env, tmp_path, monkeypatch, all_ambassadors
):
    # given: an export interrupted between its last page's checkpoint and the final one
    seller = None if all_ambassadors else shop["seller"].pk
    clean, out = tmp_path / "clean.jsonl", tmp_path / "orders.jsonl"
    assert export(live_server.url, token_env, clean, ambassador=seller) == EXIT_OK
    checkpoint = export_module._checkpoint

    def interrupted_when_complete(out_file, request, state):
        if state.complete:
            raise KeyboardInterrupt
        checkpoint(out_file, request, state)

    monkeypatch.setattr(export_module, "_checkpoint", interrupted_when_complete)
    assert export(live_server.url, token_env, out, ambassador=seller) == EXIT_INTERRUPTED
    monkeypatch.setattr(export_module, "_checkpoint", checkpoint)

    # when
    code = export(live_server.url, token_env, out, "--resume", ambassador=seller)

    # then
    assert code == EXIT_OK
    assert out.read_bytes() == clean.read_bytes()


def test_resuming_a_complete_export_writes_nothing_more(live_server, shop, token_env, tmp_path):
    out = tmp_path / "orders.jsonl"
    assert export(live_server.url, token_env, out, ambassador=shop["seller"].pk) == EXIT_OK
    before = out.read_bytes()

    assert (
        export(live_server.url, token_env, out, "--resume", ambassador=shop["seller"].pk) == EXIT_OK
    )
    assert out.read_bytes() == before


def test_resume_refuses_a_state_of_other_options(live_server, shop, token_env, tmp_path, capsys):
    out = tmp_path / "orders.jsonl"
    assert export(live_server.url, token_env, out, ambassador=shop["seller"].pk) == EXIT_OK

    assert (
        export(
            live_server.url,
            token_env,
            out,
            "--resume",
            "--filter",
            "type=WEB",
            ambassador=shop["seller"].pk,
        )
        == EXIT_RESUME
    )
    assert (
        export(
            live_server.url,
            token_env,
            tmp_path / "none.jsonl",
            "--resume",
            ambassador=shop["seller"].pk,
        )
        == EXIT_RESUME
    )
    assert "belongs to an export with other options" in capsys.readouterr().err


def test_exit_codes_say_what_went_wrong(
    proxy, plan, live_server, shop, token_env, tmp_path, monkeypatch, pauses, capsys
):
    out = tmp_path / "orders.jsonl"
    seller = shop["seller"].pk

    assert export(live_server.url, token_env, out, ambassador=10**9) == EXIT_NOT_FOUND
    assert (
        export(
            live_server.url,
            token_env,
            out,
            "--filter",
            "placed_between=yesterday",
            ambassador=seller,
        )
        == EXIT_INVALID_QUERY
    )
    assert (
        export(live_server.url, token_env, out, "--sort", "nope", ambassador=seller)
        == EXIT_INVALID_QUERY
    )
    monkeypatch.setenv(token_env, "pat_unknown")
    assert export(live_server.url, token_env, out, ambassador=seller) == EXIT_AUTH
    monkeypatch.setenv(token_env, shop["token"].secret)
    plan.always = Fault(503, "Service Unavailable", "1")
    assert export(proxy, token_env, out, ambassador=seller) == EXIT_UNAVAILABLE

    errors = capsys.readouterr().err
    assert "The ambassador does not exist." in errors
    assert "filter.placed_between" in errors
    assert "Unauthorized." in errors
    assert "run again with --resume" in errors


def test_a_missing_token_variable_is_a_usage_error(tmp_path, monkeypatch):
    monkeypatch.delenv("PLATFORM_API_NO_SUCH_VAR", raising=False)

    with pytest.raises(SystemExit) as exit_:
        main(
            [
                "export",
                "orders",
                "--base-url",
                "http://127.0.0.1:9",
                "--token-env",
                "PLATFORM_API_NO_SUCH_VAR",
                "--ambassador",
                "1",
                "--format",
                "csv",
                "--out",
                str(tmp_path / "x.csv"),
            ]
        )

    assert exit_.value.code == 2


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--base-url", "127.0.0.1:8000", "--base-url: the base URL must be http:// or https://"),
        ("--base-url", "http://", "--base-url: the base URL must be http:// or https://"),
        ("--out", "no-such-directory/orders.csv", "--out: the directory"),
    ],
)
def test_a_bad_base_url_or_output_directory_is_a_usage_error(
    tmp_path, monkeypatch, capsys, option, value, message
):
    monkeypatch.setenv("PLATFORM_API_TEST_TOKEN", "pat_x")
    arguments = {"--base-url": "http://127.0.0.1:9", "--out": str(tmp_path / "x.csv")}
    arguments[option] = value if option == "--base-url" else str(tmp_path / value)

    with pytest.raises(SystemExit) as exit_:
        main(
            [
                "export",
                "orders",
                "--token-env",
                "PLATFORM_API_TEST_TOKEN",
                "--ambassador",
                "1",
                "--format",
                "csv",
                *(item for pair in arguments.items() for item in pair),
            ]
        )

    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_an_output_that_cannot_be_written_is_an_error_not_a_traceback(
    live_server, shop, token_env, tmp_path, capsys
):
    out = tmp_path / "a-directory"
    out.mkdir()

    code = export(live_server.url, token_env, out, ambassador=shop["seller"].pk)

    assert code == EXIT_USAGE
    assert f"platform-api: error: cannot write {out}: Is a directory" in capsys.readouterr().err
