"""Benchmark of `manage.py import_orders` on PostgreSQL: rate and memory.

    .venv/bin/python bench/import_bench.py [--orders 100000] [--small 25000]

Uses the database BENCH_IMPORT_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/
bench_import; created if missing, migrated, its demo tables replaced). Loads a catalogue with
`seed_demo` (its orders deleted), writes a JSON Lines file of synthetic orders in the export's
shape (1 to 5 lines each, about 3, buyers and products drawn from the catalogue, seeded), then
times, each in its own process:

1. the first load of the file into empty order tables;
2. a re-run of the same file (every record compared, nothing written);
3. the first load of a file `--small` orders long, for the peak memory (max RSS) against 1.

Rates are orders per second of wall time inside the command (the summary line's rate: from the
first record read to the last commit; Django's start-up excluded) and of the whole process. On a
shared machine wall time mostly measures the others' load, so the CPU seconds of the importing
process and of its PostgreSQL backend (sampled from /proc) are reported too: orders per CPU
second of both is the rate the work itself allows, one core each.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.env import BENCH, OUT, PYTHON, ROOT
from bench.generate import ensure_database

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/bench_import"
SEED = 42


def url() -> str:
    return os.environ.get("BENCH_IMPORT_DATABASE_URL") or DEFAULT_URL


def env() -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "platform_api.settings.local",
        "DATABASE_URL": url(),
        "PYTHONPATH": str(ROOT),
    }


def manage(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(PYTHON), "manage.py", *args],
        cwd=ROOT,
        env=env(),
        check=True,
        capture_output=True,
        text=True,
        timeout=3600,
    )


def catalogue() -> tuple[list[int], list[int]]:
    """Ambassadors and products from seed_demo; the demo's orders deleted."""
    manage("migrate", "--noinput", "-v", "0")
    manage("seed_demo", "--ambassadors", "2000", "--orders", "400")
    with psycopg.connect(url(), autocommit=True) as conn:
        conn.execute("TRUNCATE orders_orderproduct, orders_order")
        people = [
            row[0] for row in conn.execute("SELECT id_ambassador FROM ambassadors_ambassador")
        ]
        products = [row[0] for row in conn.execute("SELECT id_product FROM orders_product")]
    return people, products


def write_orders(path: Path, count: int, people: list[int], products: list[int]) -> int:
    """`count` orders in the export's shape; the number of lines."""
    rng = random.Random(SEED)
    lines = 0
    with path.open("wb") as out:
        for id_order in range(1, count + 1):
            picked = rng.sample(products, rng.randint(1, 5))
            details = []
            for id_product in picked:
                quantity = rng.randint(1, 4)
                unit_price = rng.randint(100, 20000) / 100
                details.append(
                    {
                        "id_product": id_product,
                        "order_details": {
                            "id_order": id_order,
                            "id_product": id_product,
                            "quantity": quantity,
                            "unit_price": unit_price,
                            "sku": f"SKU-{id_product:05d}",
                            "currency": "EUR",
                            "total_price": round(quantity * unit_price, 2),
                        },
                    }
                )
            lines += len(details)
            total = round(sum(d["order_details"]["total_price"] for d in details), 2)
            day = 1 + id_order % 28
            record = {
                "id_ambassador": rng.choice(people),
                "id_order": id_order,
                "id_order_external": f"EXT-{id_order:08d}",
                "total_amount": total,
                "total_paid": total,
                "total_ws": round(total * 0.6, 2),
                "id_popliste": 0,
                "source": "shopify",
                "last_status": rng.choice(["OK", "PENDING", "FULFILLED", "CANCELLED"]),
                "id_meeting": 0,
                "id_meeting_external": None,
                "customer_id": f"C-{id_order % 5000:06d}",
                "order_info": "",
                "currency": "EUR",
                "date_order": f"2025-{1 + id_order % 12:02d}-{day:02d}T10:{id_order % 60:02d}:00Z",
                "type": "WEB",
                "id_chat_segment": 0,
                "id_chatroom": 0,
                "date_insert": f"2025-{1 + id_order % 12:02d}-{day:02d}T10:{id_order % 60:02d}:05Z",
                "date_update": f"2025-{1 + id_order % 12:02d}-{day:02d}T11:00:00Z",
                "assignment": "unassigned",
                "buyer": {"id_ambassador": rng.choice(people)},
                "products": details,
                "total_products_quantity": sum(d["order_details"]["quantity"] for d in details),
            }
            out.write(orjson.dumps(record) + b"\n")
    return lines


def _backend_cpu(conn: psycopg.Connection[Any], seen: dict[int, float]) -> None:
    """Record the CPU seconds so far of every other backend on the bench database."""
    rows = conn.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid()"
    ).fetchall()
    tick = os.sysconf("SC_CLK_TCK")
    for (pid,) in rows:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        seen[pid] = (int(fields[11]) + int(fields[12])) / tick  # utime + stime


def timed_import(path: Path, conn: psycopg.Connection[Any]) -> dict[str, Any]:
    """Run import_orders on `path` in a child process: wall seconds, in-command rate, max RSS,
    its CPU seconds and those of its PostgreSQL backend (sampled from /proc while it runs)."""
    started = time.monotonic()
    process = subprocess.Popen(
        [str(PYTHON), "manage.py", "import_orders", str(path)],
        cwd=ROOT,
        env=env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    backend: dict[int, float] = {}
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        _backend_cpu(conn, backend)
        time.sleep(0.2)
    wall = time.monotonic() - started
    assert process.stdout is not None
    summary = process.stdout.read().strip()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"import_orders failed: {summary}")
    rate = re.search(r"([\d,]+) records/s", summary)
    return {
        "wall": wall,
        "rate": float(rate.group(1).replace(",", "")) if rate else 0.0,
        "max_rss_mb": usage.ru_maxrss / 1024,
        "cpu": usage.ru_utime + usage.ru_stime,
        "db_cpu": sum(backend.values()),
        "summary": summary,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=25_000)
    parser.add_argument("--results", default=str(BENCH / "RESULTS.md"))
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    ensure_database(url())
    people, products = catalogue()
    big, small = OUT / "import_orders.jsonl", OUT / "import_orders_small.jsonl"
    lines = write_orders(big, args.orders, people, products)
    write_orders(small, args.small, people, products)
    print(f"file: {args.orders} orders, {lines} lines, {big.stat().st_size / 1e6:.0f} MB")
    with psycopg.connect(url(), autocommit=True) as conn:
        load_avg = os.getloadavg()
        first = timed_import(big, conn)
        rerun = timed_import(big, conn)
        conn.execute("TRUNCATE orders_orderproduct, orders_order")
        few = timed_import(small, conn)
    table = [
        "| run | orders | wall s | orders/s (in command) | orders/s (whole process) "
        "| CPU s: Python | CPU s: PostgreSQL backend | orders per CPU s (both) | max RSS MB |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, run, count in (
        ("first load", first, args.orders),
        ("re-run of the same file (nothing written)", rerun, args.orders),
        ("first load, smaller file", few, args.small),
    ):
        table.append(
            f"| {name} | {count:,} | {run['wall']:.1f} | {run['rate']:,.0f} | "
            f"{count / run['wall']:,.0f} | {run['cpu']:.1f} | {run['db_cpu']:.1f} | "
            f"{count / (run['cpu'] + run['db_cpu']):,.0f} | {run['max_rss_mb']:.0f} |"
        )
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    body = [
        f"Run {stamp} with `python bench/import_bench.py --orders {args.orders} --small "
        f"{args.small}`: {args.orders:,} orders, {lines:,} lines, "
        f"{big.stat().st_size / 1e6:.0f} MB of JSON Lines; load average before "
        f"{load_avg[0]:.1f} / {load_avg[1]:.1f} / {load_avg[2]:.1f} on 2 shared cores.",
        "",
        *table,
    ]
    print("\n".join(body))
    write_section(Path(args.results), "Bulk import", body)


def write_section(results: Path, title: str, lines: list[str]) -> None:
    """Put the `## title` section into RESULTS.md, replacing an older one (run.py keeps it)."""
    text = results.read_text() if results.exists() else "# Benchmark results\n"
    pattern = rf"\n## {re.escape(title)}\n.*?(?=\n## |\Z)"
    text = re.sub(pattern, "\n", text, flags=re.DOTALL).rstrip() + "\n"
    results.write_text(text + f"\n## {title}\n\n" + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
