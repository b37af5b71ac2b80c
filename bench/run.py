"""Benchmark the ambassador-orders endpoint against a textbook DRF baseline and PostgreSQL's floor.

    .venv/bin/python bench/run.py [--duration 20] [--connections 8] [--workers 2]

In one run and at one concurrency, for each scenario S1..S4: the service and the baseline under
gunicorn (production settings, DEBUG off) driven by wrk, and the same page built inside
PostgreSQL by pgbench (simple and prepared protocol). Loads the dataset first when the bench
database is missing or empty (bench/generate.py). Prints the table and writes bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import fault, pgbouncer
from bench.cpu_split import (
    CpuShare,
    CpuWindow,
    database_backends,
    pids_named,
    process_group,
)
from bench.edge import nginx_in_front
from bench.env import BENCH, OUT, PYTHON, bench_env, database_url
from bench.floor import FloorAmbassadorsQuery, FloorQuery

BRAND_ID = 1
WHALE_ID = 1
ORDINARY_IDS = range(2, 1002)  # 1000 ordinary ambassadors of brand 1 (generate.py's layout)
S4_MONTH = ("2024-03-01", "2024-03-31")  # inside the dataset's two years
BRAND_IDS = (1, 2)  # 10,000 ambassadors each (generate.py's layout)
LIST_PAGES = range(1, 101)  # pages of 100 of a brand's ambassadors
LIST_SAMPLE_PAGE = 37  # the page the checks and query counts read
SEED = 42
MAX_DURATION = 90  # seconds, for targets slower than the warm-up can show


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    ambassador: int | None  # None: random among ORDINARY_IDS
    per_page: int
    page: int = 1
    placed_between: tuple[str, str] | None = None
    # "orders": GET /ambassadors/{id}/orders; "ambassadors": GET /ambassadors, a random page
    # of a random brand's list (the checks and query counts read LIST_SAMPLE_PAGE of brand 1).
    route: str = "orders"

    @property
    def is_list(self) -> bool:
        return self.route == "ambassadors"

    def query(self, ambassador: int | None = None) -> str:
        parts = []
        if self.placed_between:
            parts.append("filter%5Bplaced_between%5D=" + "%2C".join(self.placed_between))
        parts.append(f"per_page={self.per_page}")
        if self.page != 1:
            parts.append(f"page={self.page}")
        return "&".join(parts)

    def path(self, prefix: str, ambassador: int) -> str:
        if self.is_list:
            return f"/api/v2/{prefix}/ambassadors?{self.query()}&page={LIST_SAMPLE_PAGE}"
        return f"/api/v2/{prefix}/ambassadors/{ambassador}/orders?{self.query()}"


@dataclass
class Load:
    """One wrk or pgbench measurement."""

    rps: float = 0.0
    p50_ms: float | None = None
    p99_ms: float | None = None
    requests: int = 0
    errors: int = 0
    note: str = ""
    # CPU seconds per process group while it ran (bench/cpu_split.py).
    cpu: CpuShare = field(default_factory=CpuShare)


@dataclass
class Row:
    scenario: Scenario
    service: Load = field(default_factory=Load)
    baseline: Load = field(default_factory=Load)
    floor_simple: Load = field(default_factory=Load)
    floor_prepared: Load = field(default_factory=Load)
    service_queries: int | None = None
    baseline_queries: int | None = None
    service_bytes: int | None = None
    baseline_bytes: int | None = None
    same_json: str = ""
    floor_same_data: str = ""
    # Every round of the service and of the floor (simple); `service` and `floor_simple` are
    # their medians.
    service_rounds: list[Load] = field(default_factory=list)
    floor_rounds: list[Load] = field(default_factory=list)
    # `--targets proxy`: the service through nginx (bench/edge.py), alternating with it.
    proxy_rounds: list[Load] = field(default_factory=list)


# --- tools ---------------------------------------------------------------------------------


def ensure_tools() -> str:
    """wrk from Debian's packages when missing; pgbench ships with the PostgreSQL server."""
    if shutil.which("wrk") is None:
        print("installing wrk (apt-get)…", flush=True)
        subprocess.run(["apt-get", "update", "-qq"], check=True, timeout=600)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "wrk"],
            check=True,
            timeout=600,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )
    pgbench = shutil.which("pgbench")
    if pgbench is None:
        candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/pgbench"))
        if not candidates:
            raise SystemExit(
                "pgbench not found: install postgresql-contrib (or the server package)"
            )
        pgbench = str(candidates[-1])
    return pgbench


def database_ready(url: str) -> bool:
    """The whale's orders are there, and so is its counter (a database loaded before the
    counter's migration is loaded again: generate.py migrates first)."""
    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            row = conn.execute(
                "SELECT (SELECT count(*) FROM orders_order WHERE id_ambassador = %s),"
                " (SELECT order_count FROM orders_ambassador_order_count"
                " WHERE id_ambassador = %s)",
                [WHALE_ID, WHALE_ID],
            ).fetchone()
            return bool(row and row[0] == row[1] == 100_000)
    except psycopg.Error:
        return False


# --- in-process Django: token, query counts, EXPLAIN ----------------------------------------


def django_setup(database: str | None = None) -> None:
    os.environ.update(bench_env(database=database))
    import django

    django.setup()


def create_tokens() -> dict[int, str]:
    """A fresh brand token per brand, by brand id (older bench tokens are deleted)."""
    from ambassadors.models import ApiToken, Brand
    from ambassadors.services import token_create

    ApiToken.objects.filter(name="bench").delete()
    return {
        brand: token_create(kind="brand", brand=Brand.objects.get(pk=brand), name="bench")[1]
        for brand in BRAND_IDS
    }


def count_queries(path: str, token: str) -> tuple[int, list[str], int]:
    """Queries of one request through Django's test client (after a warm-up request, so that
    the token's once-a-minute last-use write is not counted), their SQL, and the status."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    client.get(path)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    return len(captured), [q["sql"] for q in captured.captured_queries], response.status_code


def explain(sqls: list[str]) -> list[tuple[str, str]]:
    """EXPLAIN (ANALYZE, BUFFERS) of each captured statement but the token lookup."""
    from django.db import connection

    plans = []
    with connection.cursor() as cursor:
        for sql in sqls:
            if "ambassadors_apitoken" in sql:
                continue
            # Run twice: the second plan shows the warm cache the benchmark runs with.
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            plans.append((sql, "\n".join(row[0] for row in cursor.fetchall())))
    return plans


# --- gunicorn ------------------------------------------------------------------------------


@contextlib.contextmanager
def gunicorn(
    args: argparse.Namespace,
    log_level: str,
    log_name: str,
    on_start: list[int] | None = None,
) -> Iterator[str]:
    """`bench.fault.gunicorn` (the image's docker/gunicorn.conf.py on a free local port) with
    the run's worker class and counts, serving bench.settings; yields its base URL (and appends
    the master's pid to `on_start` when given).

    The worker class defaults to sync, not the image's gthread: a gthread worker keeps each
    keep-alive connection it accepted, and wrk's 8 connections split between 2 workers by
    chance (4/4 ... 8/0), which swung S1 between 289 and 680 rps from one run to the next.
    Sync workers take a connection per request, so the load spreads evenly, as a balancer's
    many connections do in production. gunicorn quietly runs gthread instead of sync when
    threads > 1, so threads are passed to gthread workers only.
    """
    threads = args.gunicorn_threads if args.worker_class == "gthread" else 1
    with fault.gunicorn(
        bench_env(log_level=log_level, database=args.service_database_url),
        log_name=log_name,
        WEB_CONCURRENCY=str(args.workers),
        GUNICORN_WORKER_CLASS=args.worker_class,
        GUNICORN_THREADS=str(threads),
        GUNICORN_TIMEOUT="60",
        GUNICORN_GRACEFUL_TIMEOUT="5",
        GUNICORN_LOG_LEVEL="warning",
    ) as server:
        if on_start is not None:
            on_start.append(server.pid)
        yield f"http://127.0.0.1:{server.port}"


def http_get(url: str, token: str) -> tuple[int, bytes]:
    # Only ever http://127.0.0.1:<port> of the gunicorn this script started.
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
        return response.status, response.read()


def check(row: Row, base: str, token: str, sample_id: int) -> None:
    """Same answer from the three: baseline bytes vs service bytes, floor data vs service data."""
    sc = row.scenario
    ambassador = sc.ambassador or sample_id
    _, service_raw = http_get(base + sc.path("platform", ambassador), token)
    row.service_bytes = len(service_raw)
    service_body = json.loads(service_raw)
    row.floor_same_data = compare_floor(floor_query(sc, str(ambassador), sample=True), service_body)
    if sc.is_list:
        row.same_json = "no baseline for this route"
        print(f"{sc.name} checks: floor {row.floor_same_data}", flush=True)
        return
    _, baseline_raw = http_get(base + sc.path("baseline", ambassador), token)
    row.baseline_bytes = len(baseline_raw)
    # Both write PHP's bytes: the URLs' slashes are escaped (`\/`).
    swapped = baseline_raw.replace(b"\\/api\\/v2\\/baseline\\/", b"\\/api\\/v2\\/platform\\/")
    if swapped == service_raw:
        row.same_json = "byte-identical (after /baseline/ → /platform/ in URLs)"
    else:
        difference = first_difference(json.loads(swapped), json.loads(service_raw))
        row.same_json = (
            f"DIFFERENT: {difference}"
            if difference
            else "same JSON values, different bytes (formatting)"
        )
    print(f"{sc.name} checks: baseline {row.same_json}; floor {row.floor_same_data}", flush=True)


def drain(base: str, workers: int) -> None:
    """Wait until gunicorn has finished what wrk left queued (it serves requests whose client
    has gone): every worker answers /healthz promptly at once."""
    deadline = time.monotonic() + 120
    with ThreadPoolExecutor(max_workers=workers * 2) as pool:
        while time.monotonic() < deadline:
            started = time.monotonic()
            list(
                pool.map(
                    lambda _: urllib.request.urlopen(base + "/healthz", timeout=120).read(),  # noqa: S310
                    range(workers * 2),
                )
            )
            if time.monotonic() - started < 0.5:
                return


def measure_http(
    scenario: Scenario,
    prefix: str,
    token: str,
    args: argparse.Namespace,
    log_level: str,
    *,
    through_proxy: bool = False,
) -> Load:
    """Warm up, then measure, on a gunicorn of its own.

    A target slower than the warm-up can show (the textbook baseline on the whale) is measured
    for longer — ten of its latencies, at most MAX_DURATION — so that requests still in flight
    when wrk stops don't bias its requests/s.
    """
    log_name = f"gunicorn_{scenario.name}_{prefix}_{log_level.lower()}.log"
    masters: list[int] = []
    with contextlib.ExitStack() as stack:
        base = stack.enter_context(gunicorn(args, log_level, log_name, on_start=masters))
        groups = {
            "server": lambda: process_group(masters[0]),
            "postgres": lambda: database_backends(database_url()),
            "redis": lambda: pids_named("redis-server"),
            "client": lambda: pids_named("wrk"),
        }
        if through_proxy:
            # The deployment's nginx (docker/nginx/) in front of the same gunicorn.
            base = stack.enter_context(nginx_in_front(base))
            groups["proxy"] = lambda: pids_named("nginx")
        warm = run_wrk(base, scenario, prefix, token, args, args.warmup)
        drain(base, args.workers)
        latency_s = (warm.p50_ms or 0) / 1000 if warm.requests else float(args.warmup)
        duration = min(max(args.duration, math.ceil(10 * latency_s)), MAX_DURATION)
        with CpuWindow(duration, groups) as window:
            load = run_wrk(base, scenario, prefix, token, args, duration)
        load.cpu = window.share
        if duration != args.duration:
            load.note = (load.note + f" measured {duration} s (slow target)").strip()
        return load


# --- wrk -----------------------------------------------------------------------------------

# S5: each request reads a random page of a random brand's ambassadors, with that brand's token.
WRK_LIST_LUA = """-- generated by bench/run.py
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
end
function init(args)
  math.randomseed(%(seed)d + tid)
  tokens = {%(tokens)s}
end
function request()
  local brand = math.random(1, #tokens)
  local page = %(first)d + math.random(0, %(count)d - 1)
  return wrk.format(
    "GET", "/api/v2/%(prefix)s/ambassadors?%(query)s&page=" .. page,
    {["Authorization"] = "Bearer " .. tokens[brand]})
end
"""

WRK_LUA = """-- generated by bench/run.py
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
end
function init(args)
  math.randomseed(%(seed)d + tid)
  wrk.headers["Authorization"] = "Bearer %(token)s"
end
function request()
  local id = %(fixed)s
  if id == nil then id = %(first)d + math.random(0, %(count)d - 1) end
  return wrk.format("GET", "/api/v2/%(prefix)s/ambassadors/" .. id .. "/orders?%(query)s")
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH_JSON {\\"requests\\": %%d, \\"duration_us\\": %%d, " ..
    "\\"p50_us\\": %%d, \\"p99_us\\": %%d, \\"errors\\": %%d, \\"status_errors\\": %%d}\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status))
end
"""


def run_wrk(
    base: str, scenario: Scenario, prefix: str, token: str, args: argparse.Namespace, duration: int
) -> Load:
    script = OUT / f"wrk_{scenario.name}_{prefix}.lua"
    if scenario.is_list:
        lua = WRK_LIST_LUA % {
            "seed": SEED,
            "tokens": ", ".join(f'"{secret}"' for secret in LIST_TOKENS.values()),
            "first": LIST_PAGES.start,
            "count": len(LIST_PAGES),
            "prefix": prefix,
            "query": scenario.query(),
        }
        # The same summary line as the orders' script.
        lua += WRK_LUA[WRK_LUA.index("function done") :] % {}
    else:
        lua = WRK_LUA % {
            "seed": SEED,
            "token": token,
            "fixed": "nil" if scenario.ambassador is None else str(scenario.ambassador),
            "first": ORDINARY_IDS.start,
            "count": len(ORDINARY_IDS),
            "prefix": prefix,
            "query": scenario.query(),
        }
    script.write_text(lua)
    command = [
        "wrk",
        "-t",
        str(args.threads),
        "-c",
        str(args.connections),
        "-d",
        f"{duration}s",
        "--timeout",
        "60s",
        "--latency",
        "-s",
        str(script),
        base,
    ]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=duration + 60, check=False
    )
    (OUT / f"wrk_{scenario.name}_{prefix}.txt").write_text(result.stdout + result.stderr)
    match = re.search(r"^BENCH_JSON (.+)$", result.stdout, re.MULTILINE)
    if result.returncode != 0 or match is None:
        return Load(note=f"wrk failed: {result.stderr.strip()[:200]}")
    data = json.loads(match.group(1))
    return Load(
        rps=data["requests"] / (data["duration_us"] / 1e6),
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        requests=data["requests"],
        errors=data["errors"] + data["status_errors"],
    )


# --- pgbench -------------------------------------------------------------------------------


def floor_query(
    scenario: Scenario, ambassador: str, *, sample: bool
) -> FloorQuery | FloorAmbassadorsQuery:
    """The floor's statement: for the checks (`sample`: the request they read), or for pgbench
    (`ambassador` may be the variable `:aid`; the list reads `:brand` and `:offset`)."""
    if scenario.is_list:
        if sample:
            offset = str((LIST_SAMPLE_PAGE - 1) * scenario.per_page)
            return FloorAmbassadorsQuery(
                brand=str(BRAND_ID), limit=scenario.per_page, offset=offset
            )
        return FloorAmbassadorsQuery(brand=":brand", limit=scenario.per_page, offset=":offset")
    offset = (scenario.page - 1) * scenario.per_page
    start = end = None
    if scenario.placed_between:
        start = scenario.placed_between[0]
        # A date-only end covers its whole day, as the service's filter reads it.
        end_day = datetime.fromisoformat(scenario.placed_between[1]).date()
        end = (datetime.combine(end_day, datetime.min.time()) + _one_day()).date().isoformat()
    return FloorQuery(
        ambassador=ambassador,
        brand_id=BRAND_ID,
        limit=scenario.per_page,
        offset=offset,
        placed_from=start,
        placed_before=end,
    )


def _one_day() -> Any:
    from datetime import timedelta

    return timedelta(days=1)


def run_pgbench(
    pgbench: str,
    scenario: Scenario,
    query: FloorQuery | FloorAmbassadorsQuery,
    mode: str,
    args: argparse.Namespace,
    duration: int,
) -> Load:
    setup = ""
    if scenario.is_list:
        setup = (
            f"\\set brand random({BRAND_IDS[0]}, {BRAND_IDS[-1]})\n"
            f"\\set page random({LIST_PAGES.start}, {LIST_PAGES.stop - 1})\n"
            f"\\set offset (:page - 1) * {scenario.per_page}\n"
        )
    elif scenario.ambassador is None:
        setup = f"\\set aid random({ORDINARY_IDS.start}, {ORDINARY_IDS.stop - 1})\n"
    script = OUT / f"pgbench_{scenario.name}.sql"
    script.write_text(query.pgbench_script(setup))
    url = database_url()
    command = [
        pgbench,
        "-n",
        "-M",
        mode,
        "-c",
        str(args.connections),
        "-j",
        str(args.threads),
        "-T",
        str(duration),
        "--random-seed",
        str(SEED),
        "-f",
        str(script),
        url,
    ]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=duration + 120, check=False
    )
    (OUT / f"pgbench_{scenario.name}_{mode}.txt").write_text(result.stdout + result.stderr)
    tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", result.stdout)
    latency = re.search(r"latency average = ([\d.]+) ms", result.stdout)
    failed = re.search(r"number of failed transactions: (\d+)", result.stdout)
    done = re.search(r"number of transactions actually processed: (\d+)", result.stdout)
    if result.returncode != 0 or tps is None:
        return Load(note=f"pgbench failed: {result.stderr.strip()[:300]}")
    return Load(
        rps=float(tps.group(1)),
        p50_ms=float(latency.group(1)) if latency else None,  # pgbench reports the mean
        requests=int(done.group(1)) if done else 0,
        errors=int(failed.group(1)) if failed else 0,
    )


# --- checks --------------------------------------------------------------------------------


def first_difference(a: Any, b: Any, where: str = "$") -> str | None:
    """Where two parsed JSON values differ, types included (42 is not 42.0)."""
    if type(a) is not type(b):
        return f"{where}: {type(a).__name__} {a!r:.60} vs {type(b).__name__} {b!r:.60}"
    if isinstance(a, dict):
        if list(a) != list(b):
            return f"{where}: keys {list(a)} vs {list(b)}"
        for key in a:
            found = first_difference(a[key], b[key], f"{where}.{key}")
            if found:
                return found
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{where}: {len(a)} items vs {len(b)}"
        for index, (x, y) in enumerate(zip(a, b, strict=True)):
            found = first_difference(x, y, f"{where}[{index}]")
            if found:
                return found
        return None
    return None if a == b else f"{where}: {a!r:.60} vs {b!r:.60}"


def compare_floor(query: FloorQuery | FloorAmbassadorsQuery, service_body: dict[str, Any]) -> str:
    with psycopg.connect(database_url()) as conn:
        row = conn.execute(query.sql).fetchone()
    if row is None:
        return "DIFFERENT: the floor found no ambassador its brand may see"
    total, page = row
    # psycopg parses json; render numbers again through text to keep 42.00 vs 42 distinct
    data = json.loads(json.dumps(page))
    if total != service_body["total"]:
        return f"total {total} vs service {service_body['total']}"
    difference = first_difference(data, service_body["data"])
    return "identical data and total" if difference is None else f"DIFFERENT {difference}"


# --- report --------------------------------------------------------------------------------


def fmt(value: float | int | None, digits: int = 0) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, float) and digits == 0 and value < 10:
        digits = 1  # 0.5 requests/s is not 0
    return f"{value:,.{digits}f}"


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if a and b else "—"


def table(rows: list[Row]) -> str:
    head = (
        "| scenario | service rps | p50 ms | p99 ms | queries | bytes | baseline rps | p50 ms "
        "| p99 ms | base queries | floor rps (simple) | floor rps (prepared) | service/floor "
        "| service/floor (prep.) | service/baseline |"
    )
    lines = [head, "|" + "---|" * 15]

    def rps(load: Load) -> str:
        # Error answers (503s from a database restart, timeouts) are not the page: flag them.
        return fmt(load.rps) + (f" ({load.errors} errors!)" if load.errors else "")

    for row in rows:
        s, b = row.service, row.baseline
        lines.append(
            f"| {row.scenario.name} | {rps(s)} | {fmt(s.p50_ms, 1)} | {fmt(s.p99_ms, 1)} "
            f"| {fmt(row.service_queries)} | {fmt(row.service_bytes)} | {rps(b)} "
            f"| {fmt(b.p50_ms, 1)} | {fmt(b.p99_ms, 1)} | {fmt(row.baseline_queries)} "
            f"| {rps(row.floor_simple)} | {rps(row.floor_prepared)} "
            f"| {ratio(s.rps, row.floor_simple.rps)} | {ratio(s.rps, row.floor_prepared.rps)} "
            f"| {ratio(s.rps, b.rps)} |"
        )
    return "\n".join(lines)


def machine() -> list[str]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "unknown",
    )
    mem_kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))  # type: ignore[union-attr]
    with psycopg.connect(database_url()) as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
        size = conn.execute(
            "SELECT pg_size_pretty(pg_database_size(current_database()))"
        ).fetchone()[0]  # type: ignore[index]
        comment = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
            "WHERE datname = current_database()"
        ).fetchone()[0]  # type: ignore[index]
        settings = conn.execute(
            "SELECT string_agg(name || '=' || current_setting(name), ', ' ORDER BY name) "
            "FROM pg_settings "
            "WHERE name IN ('shared_buffers', 'random_page_cost', 'work_mem', 'jit', "
            "'effective_cache_size')"
        ).fetchone()[0]  # type: ignore[index]
    load = os.getloadavg()
    return [
        f"- date: {datetime.now(UTC).isoformat(timespec='seconds')}",
        f"- machine: {os.cpu_count()} CPUs ({cpu}), {mem_kb / 1024 / 1024:.1f} GiB RAM, "
        f"{platform.platform()}",
        f"- load average before the run: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
        "(the machine is shared: compare within one run, as ratios)",
        f"- PostgreSQL {version} ({settings}); database {size}; {comment}",
        f"- Python {platform.python_version()}; "
        + subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
        .stdout.strip()
        .split("\n")[0],
    ]


# --- soak: worker memory over a long run ---------------------------------------------------


def children_rss_kb(parent: int) -> dict[int, int]:
    """Resident memory of the gunicorn workers (the master's children), from /proc."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid != parent:
                continue
            status = (entry / "status").read_text()
        except (OSError, IndexError, ValueError):
            continue
        match = re.search(r"VmRSS:\s+(\d+) kB", status)
        if match:
            found[int(entry.name)] = int(match.group(1))
    return found


def soak(args: argparse.Namespace, token: str, seconds: int, connections: int) -> list[str]:
    """S1 at `connections` for `seconds`: errors, and each worker's RSS every 10 s, compared
    with its RSS after the first 30 s (the target: flat within ±10%)."""
    scenario = SCENARIOS[0]
    pids: list[int] = []
    samples: list[tuple[int, dict[int, int]]] = []
    soak_args = argparse.Namespace(**{**vars(args), "connections": connections})
    with gunicorn(args, "WARNING", "gunicorn_soak.log", on_start=pids) as base:
        result: list[Load] = []
        runner = threading.Thread(
            target=lambda: result.append(
                run_wrk(base, scenario, "platform", token, soak_args, seconds)
            )
        )
        started = time.monotonic()
        runner.start()
        while runner.is_alive():
            samples.append((round(time.monotonic() - started), children_rss_kb(pids[0])))
            runner.join(timeout=10)
    load = result[0] if result else Load(note="wrk did not report")
    reference = next((rss for t, rss in samples if t >= 30), samples[-1][1] if samples else {})
    lines = [
        f"S1 service at {connections} connections for {seconds} s, gunicorn {args.workers} "
        f"{args.worker_class} workers: {load.rps:.1f} rps, "
        f"p50 {fmt(load.p50_ms, 1)} ms, p99 {fmt(load.p99_ms, 1)} ms, "
        f"{load.requests} requests, {load.errors} errors {load.note}".strip(),
        "",
        "| t (s) | " + " | ".join(f"worker {pid} RSS (MiB)" for pid in sorted(reference)) + " |",
        "|---|" + "---|" * len(reference),
    ]
    drift = 0.0
    for t, rss in samples:
        cells = []
        for pid in sorted(reference):
            if pid in rss:
                cells.append(f"{rss[pid] / 1024:.1f}")
                if t >= 30:
                    drift = max(drift, abs(rss[pid] / reference[pid] - 1))
            else:
                cells.append("gone")
        lines.append(f"| {t} | " + " | ".join(cells) + " |")
    judged = any(t >= 30 for t, _ in samples[1:])
    verdict = "met" if drift <= 0.10 and load.errors == 0 and load.requests else "NOT met"
    if not judged:
        verdict = "run too short to judge"
    lines += [
        "",
        f"Largest RSS change after the first 30 s: {drift * 100:.1f}% "
        f"(target: within ±10%, no errors): {verdict}",
    ]
    return lines


def _kept_sections(results: Path) -> str:
    """Sections other benchmarks own (bench/import_*.py's, bench/admin_pages.py's, `--walk`,
    `--targets proxy`, `--growth`, the counter's and the deep pages' before/after), carried over a
    full run."""
    if not results.exists():
        return ""
    text = results.read_text()
    owned = (
        r"\n## (?:Bulk import|Proxy cost|Admin pages|Walk|Growth|Whale's total"
        r"|Before and after|Deep pages)[^\n]*\n"
        r".*?(?=\n## |\Z)"
    )
    return "".join(re.findall(owned, text, flags=re.DOTALL))


def write_proxy_cost(results: Path, rows: list[Row], command: str) -> None:
    """Put the "Proxy cost" section (the service through nginx vs directly, rounds alternating
    in one run) into RESULTS.md, replacing an older one."""
    text = results.read_text() if results.exists() else "# Benchmark results\n"
    text = re.sub(r"\n## Proxy cost\n.*?(?=\n## |\Z)", "\n", text, flags=re.DOTALL).rstrip() + "\n"
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    load = os.getloadavg()
    lines = [
        "",
        "## Proxy cost",
        "",
        f"Run {stamp} (load average after it {load[0]:.2f}) with `{command}`: the service's",
        "gunicorn measured directly and through the deployment's nginx (docker/nginx/, started",
        "by bench/edge.py in front of the same kind of gunicorn), rounds alternating; medians.",
        "",
        "| scenario | direct rps | p50 ms | p99 ms | through nginx rps | p50 ms | p99 ms "
        "| nginx/direct rps |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        direct, proxied = median_load(row.service_rounds), median_load(row.proxy_rounds)
        ratio = f"{proxied.rps / direct.rps:.2f}x" if direct.rps else "—"
        lines.append(
            f"| {row.scenario.name} | {fmt(direct.rps)} | {fmt(direct.p50_ms, 1)} | "
            f"{fmt(direct.p99_ms, 1)} | {fmt(proxied.rps)} | {fmt(proxied.p50_ms, 1)} | "
            f"{fmt(proxied.p99_ms, 1)} | {ratio} |"
        )
    lines += ["", "Every round:", ""]
    for row in rows:
        for label, loads in (("direct", row.service_rounds), ("nginx", row.proxy_rounds)):
            rounds = ", ".join(f"{load.rps:.1f}" for load in loads)
            lines.append(f"- {row.scenario.name} {label}: {rounds} rps")
    results.write_text(text + "\n".join(lines) + "\n")


def write_soak(results: Path, lines: list[str], seconds: int) -> None:
    """Put the soak section into RESULTS.md, replacing an older one."""
    text = results.read_text() if results.exists() else "# Benchmark results\n"
    text = re.sub(r"\n## Soak\n.*?(?=\n## |\Z)", "\n", text, flags=re.DOTALL).rstrip() + "\n"
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    load = os.getloadavg()
    text += (
        f"\n## Soak\n\nRun {stamp} (load average {load[0]:.2f}) with "
        f"`python bench/run.py --soak {seconds}`.\n\n" + "\n".join(lines) + "\n"
    )
    results.write_text(text)


def sync_walk(args: argparse.Namespace, token: str, url: str) -> list[str]:
    """bench/walk.py's walks: over HTTP (one client, one gunicorn), then PostgreSQL's floor."""
    from bench import walk

    with gunicorn(args, "WARNING", "gunicorn_walk.log") as base:
        walks = walk.alternate(
            {
                "cursor, HTTP": walk.http_cursor_walk(base, token),
                "page, HTTP": walk.http_page_walk(base, token),
            }
        )
        walk.time_ends(walks)
    with (
        psycopg.connect(url, autocommit=True) as cursor_connection,
        psycopg.connect(url, autocommit=True) as page_connection,
    ):
        floors = walk.alternate(
            {
                "cursor, floor (prepared)": walk.floor_cursor_walk(cursor_connection),
                "page, floor (prepared)": walk.floor_page_walk(page_connection),
            }
        )
        walk.time_ends(floors)
    walks += floors
    for done in walks:
        print(f"{done.label}: {done.total:.1f} s", flush=True)
    return walk.report(walks)


def write_section(results: Path, title: str, lines: list[str], command: str) -> None:
    """Put a `## title` section into RESULTS.md, replacing an older one."""
    text = results.read_text() if results.exists() else "# Benchmark results\n"
    pattern = rf"\n## {re.escape(title)}\n.*?(?=\n## |\Z)"
    text = re.sub(pattern, "\n", text, flags=re.DOTALL).rstrip() + "\n"
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    load = os.getloadavg()
    text += (
        f"\n## {title}\n\nRun {stamp} (load average {load[0]:.2f}) with `{command}`.\n\n"
        + "\n".join(lines)
        + "\n"
    )
    results.write_text(text)


# --- main ----------------------------------------------------------------------------------

SCENARIOS = [
    Scenario("S1", "random ordinary ambassador, page 1, per_page 15", None, 15),
    Scenario("S2", "the whale, page 1, per_page 100", WHALE_ID, 100),
    Scenario("S3", "the whale, last page, per_page 15 (deep OFFSET)", WHALE_ID, 15, page=6667),
    Scenario(
        "S4",
        "the whale, filter[placed_between] over one month, page 1",
        WHALE_ID,
        15,
        placed_between=S4_MONTH,
    ),
    Scenario(
        "S5",
        "the ambassador list: a random page of a random brand's, per_page 100",
        None,
        100,
        route="ambassadors",
    ),
    # Against S1: the whale's unfiltered total is a counter, not a count (issue 16).
    Scenario("S6", "the whale, page 1, per_page 15", WHALE_ID, 15),
]
# S5's tokens, by brand: set by main() (wrk's script for S5 holds one per brand).
LIST_TOKENS: dict[int, str] = {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=20, help="seconds per measurement")
    parser.add_argument("--warmup", type=int, default=5, help="seconds of warm-up per target")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="alternating rounds of service and floor (simple) per scenario; medians count",
    )
    parser.add_argument(
        "--worker-class",
        default="sync",
        help="gunicorn worker class (GUNICORN_WORKER_CLASS; the image's default is gthread)",
    )
    parser.add_argument(
        "--gunicorn-threads",
        type=int,
        default=2,
        help="threads per gthread worker (GUNICORN_THREADS)",
    )
    parser.add_argument("--only", default="S1,S2,S3,S4,S5,S6", help="scenarios, comma-separated")
    parser.add_argument(
        "--no-log-check", action="store_true", help="skip the S1 rerun with request logging at INFO"
    )
    parser.add_argument(
        "--targets",
        default="service,baseline,floor",
        help="what to measure, comma-separated; proxy: the service through nginx (bench/edge.py)",
    )
    parser.add_argument(
        "--soak",
        type=int,
        default=0,
        metavar="SECONDS",
        help="only run the memory soak (S1 at 32 connections) and add it to the results",
    )
    parser.add_argument(
        "--walk",
        action="store_true",
        help="only walk all of the whale's orders by cursor and by page (and their floors) "
        "and add the comparison to the results",
    )
    parser.add_argument(
        "--growth",
        action="store_true",
        help="only measure how cost grows (bench/growth.py): service and prepared floor at "
        "per_page 1/15/100, ordinary ambassador and whale, on each --growth-scales database; "
        "adds the Growth section and bench/growth.png",
    )
    parser.add_argument(
        "--growth-scales",
        default="1,5",
        help="generate.py scales to measure (databases BENCH_DATABASE_URL's, then its _sN)",
    )
    parser.add_argument(
        "--growth-duration", type=int, default=10, help="seconds per --growth measurement"
    )
    parser.add_argument(
        "--growth-rounds",
        type=int,
        default=1,
        help="--growth measurements per point, service and floor alternating (medians)",
    )
    parser.add_argument(
        "--pgbouncer",
        action="store_true",
        help="the service reaches PostgreSQL through Debian's PgBouncer in transaction mode "
        "(bench/pgbouncer.py, a pool as large as the service's connections); the floor stays "
        "direct",
    )
    parser.add_argument("--results", default=str(BENCH / "RESULTS.md"))
    args = parser.parse_args()
    command = "python bench/run.py " + " ".join(sys.argv[1:])
    args.service_database_url = None
    args.pooler_note = ""
    with contextlib.ExitStack() as stack:
        if args.pgbouncer:
            threads = args.gunicorn_threads if args.worker_class == "gthread" else 1
            # Every service connection gets a server connection: the hop and the unprepared
            # statements are measured, not queueing for a too small pool.
            pool_size = args.workers * threads + 1
            bouncer = stack.enter_context(
                pgbouncer.running(database_url(), pool_mode="transaction", pool_size=pool_size)
            )
            dbname = database_url().rsplit("/", 1)[-1].split("?")[0]
            args.service_database_url = bouncer.url(dbname)
            args.pooler_note = (
                f"{pgbouncer.version()}, pool_mode=transaction, default_pool_size={pool_size}, "
                "on 127.0.0.1; the floor and the checks connect directly"
            )
        measure(args, command)


def measure(args: argparse.Namespace, command: str) -> None:
    """Everything main() does once the service's database route is set up."""
    OUT.mkdir(exist_ok=True)
    pgbench = ensure_tools()
    if args.growth:
        from bench import growth

        points, notes = growth.measure(args, pgbench)
        lines = growth.report(points, notes, args)
        growth.plot(points)
        write_section(Path(args.results), "Growth", lines, command)
        print("\n".join(lines))
        print(f"\ngrowth written to {args.results} and {growth.PLOT}")
        return
    url = database_url()
    if not database_ready(url):
        print("bench database missing or incomplete: loading it (bench/generate.py)…", flush=True)
        subprocess.run([str(PYTHON), str(BENCH / "generate.py")], check=True, timeout=1800)
    description = machine()

    django_setup(args.service_database_url)
    from django.db import connections

    tokens = create_tokens()
    LIST_TOKENS.update(tokens)
    token = tokens[BRAND_ID]
    (OUT / "token.txt").write_text(token + "\n")
    if args.soak:
        from django.db import connections as _connections

        _connections.close_all()
        lines = soak(args, token, args.soak, connections=32)
        write_soak(Path(args.results), lines, args.soak)
        print("\n".join(lines))
        return
    if args.walk:
        connections.close_all()
        lines = sync_walk(args, token, url)
        write_section(Path(args.results), "Walk", lines, command)
        print("\n".join(lines))
        return
    wanted = set(args.only.split(","))
    targets = set(args.targets.split(","))
    rows = [Row(scenario) for scenario in SCENARIOS if scenario.name in wanted]
    sample_id = ORDINARY_IDS.start

    plans: list[tuple[str, str]] = []
    for row in rows:
        sc = row.scenario
        ambassador = sc.ambassador or sample_id
        row.service_queries, sqls, status = count_queries(sc.path("platform", ambassador), token)
        if status != 200:
            raise SystemExit(f"{sc.name}: the service answered {status}")
        if not sc.is_list:
            row.baseline_queries, _, status = count_queries(sc.path("baseline", ambassador), token)
            if status != 200:
                raise SystemExit(f"{sc.name}: the baseline answered {status}")
        if sc.name in {"S2", "S3", "S5", "S6"}:
            plans.extend((f"{sc.name}: {sc.title}", *plan) for plan in explain(sqls))  # type: ignore[misc]
    per_page_counts = [
        count_queries(f"/api/v2/platform/ambassadors/{WHALE_ID}/orders?per_page={n}", token)[0]
        for n in (1, 100)
    ]
    description.append(
        "- service queries per request for the whale at per_page=1 and per_page=100: "
        f"{per_page_counts[0]} and {per_page_counts[1]} (token lookup included)"
    )
    connections.close_all()

    log_rows: list[tuple[str, Load]] = []
    with gunicorn(args, "WARNING", "gunicorn_checks.log") as base:
        for row in rows:
            check(row, base, token, sample_id)
        with urllib.request.urlopen(base + "/readyz", timeout=30) as response:  # noqa: S310
            ready = json.loads(response.read())
        description.append(
            f"- service's pooler mode (/readyz): pooler={ready.get('pooler')}, "
            f"prepared_statements={ready.get('prepared_statements')}"
        )

    # Per scenario, each target in turn, so that a drift of the machine's load hits them alike;
    # the service and the floor it is judged against alternate for `--rounds` rounds and each
    # counts with its median, so that one disturbed measurement (a neighbour on the shared
    # host) cannot decide a ratio. Each HTTP target gets a fresh gunicorn, so that requests a
    # slow target left queued cannot eat into the next measurement.
    for row in rows:
        sc = row.scenario
        query = floor_query(
            sc, ":aid" if sc.ambassador is None else str(sc.ambassador), sample=False
        )
        for number in range(1, args.rounds + 1):
            if "service" in targets:
                row.service_rounds.append(measure_http(sc, "platform", token, args, "WARNING"))
                report_http(sc, f"service#{number}", row.service_rounds[-1])
            if "proxy" in targets:
                proxied = measure_http(sc, "platform", token, args, "WARNING", through_proxy=True)
                row.proxy_rounds.append(proxied)
                report_http(sc, f"proxy#{number}", proxied)
            if "floor" in targets:
                row.floor_rounds.append(measure_floor(pgbench, sc, query, "simple", args))
                report_floor(sc, f"simple#{number}", row.floor_rounds[-1])
        row.service, row.floor_simple = (
            median_load(row.service_rounds),
            median_load(row.floor_rounds),
        )
        if "baseline" in targets and not sc.is_list:
            row.baseline = measure_http(sc, "baseline", token, args, "WARNING")
            report_http(sc, "baseline", row.baseline)
        if "floor" in targets:
            row.floor_prepared = measure_floor(pgbench, sc, query, "prepared", args)
            report_floor(sc, "prepared", row.floor_prepared)

    if not args.no_log_check and "S1" in wanted:
        s1 = next(row for row in rows if row.scenario.name == "S1")
        load = measure_http(s1.scenario, "platform", token, args, "INFO")
        log_rows.append(("S1 service, request log at INFO (one JSON line per request)", load))
        print(f"S1 service with INFO request log: {load.rps:.1f} rps", flush=True)

    if "proxy" in targets:
        write_proxy_cost(Path(args.results), rows, command)
        if targets <= {"service", "proxy"}:
            # Only the proxy's cost was measured: the rest of RESULTS.md stays as it was.
            print(f"\nproxy cost written to {args.results}")
            return
    report = render(rows, plans, log_rows, description, command, args)
    Path(args.results).write_text(report + _kept_sections(Path(args.results)))
    print()
    print(table(rows))
    print(f"\nwritten to {args.results}")


def measure_floor(
    pgbench: str, sc: Scenario, query: FloorQuery, mode: str, args: argparse.Namespace
) -> Load:
    run_pgbench(pgbench, sc, query, mode, args, args.warmup)
    groups = {
        "postgres": lambda: database_backends(database_url()),
        "client": lambda: pids_named("pgbench"),
    }
    with CpuWindow(args.duration, groups) as window:
        load = run_pgbench(pgbench, sc, query, mode, args, args.duration)
    load.cpu = window.share
    return load


def median_load(loads: list[Load]) -> Load:
    """The measurement with the median requests/s (the lower middle one of an even count)."""
    if not loads:
        return Load()
    return sorted(loads, key=lambda load: load.rps)[(len(loads) - 1) // 2]


def report_http(sc: Scenario, label: str, load: Load) -> None:
    print(
        f"{sc.name} {label:<10} {load.rps:8.1f} rps  p50 {fmt(load.p50_ms, 1)} ms  "
        f"p99 {fmt(load.p99_ms, 1)} ms  n {load.requests} errors {load.errors} {load.note}"
        f"{cpu_line(load)}",
        flush=True,
    )


def report_floor(sc: Scenario, label: str, load: Load) -> None:
    print(
        f"{sc.name} floor {label:<10} {load.rps:8.1f} tps  mean {fmt(load.p50_ms, 1)} ms  "
        f"failed {load.errors} {load.note}{cpu_line(load)}",
        flush=True,
    )


def cpu_line(load: Load) -> str:
    shares = load.cpu.per_request_ms(load.rps)
    if not shares:
        return ""
    return "  CPU ms/req " + " ".join(f"{name} {value:.2f}" for name, value in shares.items())


CPU_COLUMNS = ("server", "proxy", "postgres", "redis", "client", "other")


def cpu_table(rows: list[Row]) -> list[str]:
    """CPU milliseconds per request of each process group, for the service's median round and
    the prepared floor, and the ratio that CPU alone allows: on cores that the service and
    PostgreSQL share, requests/s is at most cores / CPU per request."""
    out = [
        "| scenario | target | rps | " + " | ".join(CPU_COLUMNS) + " | total without other |"
        " service / prepared: CPU bound | measured |",
        "|---|---|---|" + "---|" * len(CPU_COLUMNS) + "---|---|---|",
    ]
    for row in rows:
        prepared = row.floor_prepared
        floor_ms = prepared.cpu.total_ms(prepared.rps)
        for label, load in (
            ("service", row.service),
            ("proxy", median_load(row.proxy_rounds)),
            ("floor simple", row.floor_simple),
            ("floor prepared", prepared),
        ):
            shares = load.cpu.per_request_ms(load.rps)
            if not shares:
                continue
            total = load.cpu.total_ms(load.rps)
            bound = measured = ""
            if label in {"service", "proxy"} and floor_ms and total:
                bound = f"{floor_ms / total:.2f}x"
                measured = ratio(load.rps, prepared.rps)
            cells = " | ".join(
                fmt(shares[name], 2) if name in shares else "" for name in CPU_COLUMNS
            )
            out.append(
                f"| {row.scenario.name} | {label} | {fmt(load.rps)} | {cells} | "
                f"{fmt(total, 2)} | {bound} | {measured} |"
            )
    return out


# Issue 16's targets: the service against PostgreSQL's prepared floor.
PREPARED_TARGETS = {"S1": 0.65, "S4": 0.65, "S2": 0.95, "S3": 0.95}


def verdicts(rows: list[Row]) -> list[str]:
    """Each target of the issue against this run's numbers."""
    lines = []
    for row in rows:
        name, s = row.scenario.name, row.service
        floor = row.floor_simple.rps
        if floor:
            ok = s.rps >= 0.8 * floor and not (s.errors or row.floor_simple.errors)
            lines.append(
                f"- {name}: service/floor {s.rps / floor:.2f} (target >= 0.8): "
                + ("met" if ok else "NOT met")
            )
        if name == "S3" and row.baseline.rps:
            ok = s.rps >= 5 * row.baseline.rps and not (s.errors or row.baseline.errors)
            lines.append(
                f"- S3: service/baseline {s.rps / row.baseline.rps:.2f} (target >= 5): "
                + ("met" if ok else "NOT met")
            )
        s1 = next((other for other in rows if other.scenario.name == "S1"), None)
        if name == "S6" and s1 is not None and s.rps:
            ok = s1.service.rps <= 1.5 * s.rps and not (s.errors or s1.service.errors)
            lines.append(
                f"- S6: the whale's page 1 costs {s1.service.rps / s.rps:.2f}x an ordinary "
                "ambassador's (S1; target <= 1.5, issue 16): " + ("met" if ok else "NOT met")
            )
        target = PREPARED_TARGETS.get(name)
        if target and row.floor_prepared.rps and s.rps:
            got = s.rps / row.floor_prepared.rps
            ok = got >= target and not (s.errors or row.floor_prepared.errors)
            lines.append(
                f"- {name}: service/floor (prepared) {got:.2f} (target >= {target}, issue 16): "
                + ("met" if ok else "NOT met")
            )
        if row.service_queries is not None:
            ok = row.service_queries <= 4
            lines.append(
                f"- {name}: {row.service_queries} queries per request (target <= 4): "
                + ("met" if ok else "NOT met")
            )
    return lines


def render(
    rows: list[Row],
    plans: list[tuple[str, str, str]],
    log_rows: list[tuple[str, Load]],
    description: list[str],
    command: str,
    args: argparse.Namespace,
) -> str:
    out = ["# Benchmark results", "", "Produced by `bench/run.py`; see bench/README.md.", ""]
    out += ["## Machine and run", "", *description]
    out.append(
        f"- command: `{command.strip()}` — wrk {args.threads} threads, {args.connections} "
        f"connections, pgbench -c {args.connections} -j {args.threads}, {args.duration} s per "
        f"measurement after {args.warmup} s of warm-up, service and floor (simple) in "
        f"{args.rounds} alternating rounds (medians); gunicorn with docker/gunicorn.conf.py, "
        f"{args.workers} {args.worker_class} workers"
        f"{f' x {args.gunicorn_threads} threads' if args.worker_class == 'gthread' else ''}, "
        "bench.settings (production, DEBUG off, request log at WARNING)"
    )
    extra = {
        k: v for k, v in os.environ.items() if k.startswith("DATABASE_") and k != "DATABASE_URL"
    }
    if extra:
        out.append(f"- service environment: {extra}")
    if args.pooler_note:
        out.append(f"- service database through PgBouncer: {args.pooler_note}")
    after = os.getloadavg()
    out.append(f"- load average after the run: {after[0]:.2f} {after[1]:.2f} {after[2]:.2f}")
    out += ["", "## Table", "", table(rows), ""]
    out += [
        "Targets (issue 4; S5, the list: issue 13; S6 and the prepared floor: issue 16):",
        "",
        *verdicts(rows),
        "",
    ]
    out += [
        "## CPU per request",
        "",
        "Milliseconds of CPU per request (per statement for the floor) of each process group, "
        "read from /proc over each measurement but its first and last second "
        "(`bench/cpu_split.py`): server = gunicorn's master and workers, postgres = the bench "
        "database's backends, client = wrk or pgbench, other = the machine's remaining busy "
        "time (other jobs, the kernel's threads; a quiet machine shows ~0). The CPU bound is "
        "the prepared floor's total over the service's: with both saturating the same cores, "
        "the ratio of requests/s the service can reach at most.",
        "",
        *cpu_table(rows),
        "",
    ]
    out += [
        "The database-restart drill and the 5-minute load at 32 connections (gunicorn with the",
        "image's configuration) are in [FAULT_AND_LOAD.md](FAULT_AND_LOAD.md): `bench/fault.py`,",
        "`bench/soak.py`.",
        "",
    ]
    out += ["Scenarios:", ""]
    for row in rows:
        sc = row.scenario
        path = sc.path("platform", sc.ambassador or 0)
        path = path.replace("/ambassadors/0/", "/ambassadors/{random 2..1001}/")
        path = path.replace(
            f"page={LIST_SAMPLE_PAGE}", f"page={{random {LIST_PAGES.start}..{LIST_PAGES.stop - 1}}}"
        )
        out.append(f"- {sc.name}: {sc.title} — `{path}`")
    out += [
        "",
        "p50/p99 are wrk's latency percentiles. For pgbench only the mean latency is reported "
        "(below). Queries are counted with Django's CaptureQueriesContext on one test-client "
        "request per scenario (after a warm-up request), token lookup included. Bytes: one "
        "HTTP response body from gunicorn.",
        "",
    ]
    out += ["## Checks", ""]
    for row in rows:
        out.append(
            f"- {row.scenario.name}: baseline vs service: {row.same_json}; floor vs "
            f"service: {row.floor_same_data}"
        )
    out += ["", "## Details", ""]
    out.append("| scenario | target | rps | p50/mean ms | p99 ms | requests | errors | note |")
    out.append("|---|---|---|---|---|---|---|---|")
    for row in rows:
        for label, load in (
            ("service", row.service),
            ("baseline", row.baseline),
            ("floor simple", row.floor_simple),
            ("floor prepared", row.floor_prepared),
        ):
            out.append(
                f"| {row.scenario.name} | {label} | {fmt(load.rps, 1)} | "
                f"{fmt(load.p50_ms, 2)} | {fmt(load.p99_ms, 1)} | {load.requests} | "
                f"{load.errors} | {load.note} |"
            )
    for label, load in log_rows:
        out.append(
            f"| S1 | {label} | {fmt(load.rps, 1)} | {fmt(load.p50_ms, 2)} | "
            f"{fmt(load.p99_ms, 1)} | {load.requests} | {load.errors} | |"
        )
    out += ["", "Rounds (service and floor alternating; the table shows each one's median):", ""]
    for row in rows:
        service = " / ".join(fmt(load.rps, 1) for load in row.service_rounds) or "-"
        floor = " / ".join(fmt(load.rps, 1) for load in row.floor_rounds) or "-"
        out.append(f"- {row.scenario.name}: service {service} rps; floor (simple) {floor} tps")
    out += [
        "",
        "## Plans: the service's own SQL for the whale and the list",
        "",
        "Captured from a test-client request with CaptureQueriesContext (token lookup left "
        "out), each run twice, the second (warm) plan shown.",
        "",
    ]
    for title, sql, plan in plans:
        out += [f"### {title}", "", "```sql", sql, "```", "", "```", plan, "```", ""]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    main()
