"""Time each admin page on the benchmark database (500,000 orders), server-side.

    .venv/bin/python bench/admin_pages.py [--rounds 3] [--results bench/RESULTS.md]

Runs the pages in this process through Django's test client (no network, no browser): what is
timed is the request's handling — middleware, view, every query, the template — as the server
spends it. bench.settings (production, DEBUG off), the bench database of bench/generate.py
(loaded first when missing), a superuser `bench-admin` created if missing. Each page is asked
once to warm up, then `--rounds` times; the table shows the median and the slowest round, the
number of queries and the slowest query. Target (issue 17): every page under 1 s. Writes the
table as the "Admin pages" section of RESULTS.md (replacing an earlier one; `run.py` keeps it).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.env import BENCH, bench_env, database_url

TARGET_SECONDS = 1.0
SECTION = "## Admin pages"


@dataclass(frozen=True)
class AdminPage:
    name: str
    url: str
    method: str = "get"
    data: dict[str, object] | None = None


ORDERS = "/admin/orders/order/"
PAGES = [
    AdminPage("orders: first page", ORDERS),
    AdminPage("orders: last page", ORDERS + "?p=10000"),
    AdminPage("orders: show counts (facets off)", ORDERS + "?_facets=True"),
    AdminPage("orders: the whale's (ambassador 1)", ORDERS + "?ambassador=1"),
    AdminPage("orders: the whale's last page", ORDERS + "?ambassador=1&p=2000"),
    AdminPage("orders: a buyer's purchases", ORDERS + "?buyer=2"),
    AdminPage("orders: status OK + EUR", ORDERS + "?last_status__exact=OK&currency=EUR"),
    AdminPage(
        "orders: status OK + EUR, last page", ORDERS + "?last_status__exact=OK&currency=EUR&p=2000"
    ),
    AdminPage("orders: type STORE", ORDERS + "?type__exact=STORE"),
    AdminPage("orders: assignment unassigned", ORDERS + "?assignment__exact=unassigned"),
    AdminPage(
        "orders: date range, oldest month",
        ORDERS + "?date_order__range__gte=2023-07-01&date_order__range__lte=2023-07-31",
    ),
    AdminPage("orders: search an id", ORDERS + "?q=250000"),
    AdminPage("orders: search a full name", ORDERS + "?q=Olga+Smith"),
    AdminPage("orders: search an email prefix", ORDERS + "?q=olga.smith1"),
    AdminPage("order: change page", ORDERS + "250000/change/"),
    AdminPage(
        "orders: CSV export of 50 selected",
        ORDERS,
        "post",
        {"action": "export_csv", "_selected_action": list(range(499_951, 500_001))},
    ),
    AdminPage(
        "orders: CSV export, whale (refused: over 20,000)",
        ORDERS + "?ambassador=1",
        "post",
        {"action": "export_csv", "select_across": "1", "_selected_action": [1]},
    ),
    AdminPage(
        "ambassador autocomplete 'Olga'",
        "/admin/autocomplete/?term=Olga&app_label=orders&model_name=order&field_name=ambassador",
    ),
    AdminPage("ambassadors: first page", "/admin/ambassadors/ambassador/"),
    AdminPage("ambassadors: search a full name", "/admin/ambassadors/ambassador/?q=Olga+Smith"),
    AdminPage("ambassador 1 (the whale): change page", "/admin/ambassadors/ambassador/1/change/"),
    AdminPage("ambassador 1: delete (refused)", "/admin/ambassadors/ambassador/1/delete/"),
    AdminPage("products: search '42'", "/admin/orders/product/?q=42"),
    AdminPage("product 42: delete (refused)", "/admin/orders/product/42/delete/"),
    AdminPage("order lines: last page", "/admin/orders/orderproduct/?p=30000"),
    AdminPage("tokens: list", "/admin/ambassadors/apitoken/"),
    AdminPage("tokens: add page", "/admin/ambassadors/apitoken/add/"),
]


@dataclass
class Timing:
    page: AdminPage
    status: int
    seconds: list[float]
    queries: int
    slowest_query: float

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def measure(client: object, page: AdminPage, rounds: int) -> Timing:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def ask() -> tuple[int, float, list[dict[str, str]]]:
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            call = getattr(client, page.method)
            response = call(page.url, page.data) if page.data else call(page.url)
            if getattr(response, "streaming", False):
                for _ in response.streaming_content:
                    pass
            elapsed = time.perf_counter() - started
        return response.status_code, elapsed, list(queries.captured_queries)

    ask()  # warm-up: caches, prepared statements, the planner's statistics in memory
    seconds, status, captured = [], 0, []
    for _ in range(rounds):
        status, elapsed, captured = ask()
        seconds.append(elapsed)
    slowest = max((float(q["time"]) for q in captured), default=0.0)
    return Timing(page, status, seconds, len(captured), slowest)


def table(timings: list[Timing], rounds: int) -> str:
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    lines = [
        SECTION,
        "",
        f"`python bench/admin_pages.py --rounds {rounds}` on {datetime.now(UTC).isoformat()}: "
        f"{platform.machine()}, {os.cpu_count()} CPUs shared by about 8 engineers "
        f"working at the same time (load average {load} when the run ended): the numbers are "
        "noisy; compare pages within one run. Server-side time of one request (Django test "
        "client in process, bench.settings, DEBUG off), median and slowest of the rounds after "
        f"one warm-up; target under {TARGET_SECONDS:g} s each.",
        "",
        "| page | status | median ms | slowest ms | queries | slowest query ms | < 1 s |",
        "|---|---|---|---|---|---|---|",
    ]
    for timing in timings:
        met = "yes" if max(timing.seconds) < TARGET_SECONDS else "**no**"
        lines.append(
            f"| {timing.page.name} | {timing.status} | {timing.median * 1000:,.0f} | "
            f"{max(timing.seconds) * 1000:,.0f} | {timing.queries} | "
            f"{timing.slowest_query * 1000:,.0f} | {met} |"
        )
    return "\n".join(lines) + "\n"


def write(results: Path, section: str) -> None:
    text = results.read_text() if results.exists() else "# Benchmark results\n"
    pattern = re.compile(rf"^{re.escape(SECTION)}\n.*?(?=^## |\Z)", re.MULTILINE | re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(section + "\n", text)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    results.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--results", type=Path, default=BENCH / "RESULTS.md")
    args = parser.parse_args()
    if not 1 <= args.rounds <= 50:
        raise SystemExit("--rounds must be between 1 and 50")

    os.environ.update(bench_env())
    import psycopg

    try:
        with psycopg.connect(database_url(), connect_timeout=5) as probe:
            loaded = probe.execute("SELECT to_regclass('orders_order')").fetchone()
    except psycopg.OperationalError:
        loaded = None
    if not loaded or loaded[0] is None:
        from bench import generate

        generate.ensure_database(database_url())
        generate.migrate()
        generate.load(database_url(), generate.DEFAULT_SEED)

    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.test import Client

    user = User.objects.filter(username="bench-admin").first()
    if user is None:
        user = User.objects.create_superuser("bench-admin", "bench@example.com", None)
    client = Client()
    client.force_login(user)

    timings = []
    for page in PAGES:
        timing = measure(client, page, args.rounds)
        timings.append(timing)
        print(
            f"{page.name:<50} {timing.status} {timing.median * 1000:8,.0f} ms "
            f"({timing.queries} queries)",
            flush=True,
        )
    section = table(timings, args.rounds)
    write(args.results, section)
    print(f"\nwritten to {args.results}")


if __name__ == "__main__":
    main()
