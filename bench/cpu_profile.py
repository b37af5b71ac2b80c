"""Python CPU per request, in process: where the service's own time goes, without HTTP or load.

    .venv/bin/python bench/cpu_profile.py [--only S1,S4] [--requests 400] [--cprofile 25]

Calls Django's WSGI handler directly (as gunicorn's worker does) with the benchmark's settings
and database, for the scenarios of `bench/run.py`, and prints the median process CPU time per
request (`time.process_time`: this process only, not PostgreSQL's), and the median wall time
of one request after the other (the round trips to PostgreSQL and Redis included).
Deterministic enough to compare two versions of the code on a busy machine, where wrk's
requests/s swing by ±15%.
`--cprofile N` prints the N most expensive functions (cumulative) per scenario.
`--php-json-ab` measures what writing PHP's JSON bytes costs: each scenario alternates rounds
with and without `php_json_escape` (orjson's bytes as they are) and prints both medians.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.env import bench_env
from bench.run import BRAND_ID, ORDINARY_IDS, SCENARIOS, Scenario, create_tokens, django_setup


def environ(path_and_query: str, token: str) -> dict[str, Any]:
    path, _, query = path_and_query.partition("?")
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "HTTP_AUTHORIZATION": f"Bearer {token}",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": sys.stderr,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="S1,S2,S3,S4")
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--cprofile", type=int, default=0, metavar="N")
    parser.add_argument("--sort", default="cumulative", help="pstats order: cumulative, tottime…")
    parser.add_argument("--dump", metavar="PATH", help="also write the cProfile stats (pstats)")
    parser.add_argument("--php-json-ab", action="store_true", help="with/without PHP's JSON bytes")
    parser.add_argument("--rounds", type=int, default=5, help="A/B rounds for --php-json-ab")
    args = parser.parse_args()

    os.environ.update(bench_env())
    django_setup()
    from platform_api.wsgi import application as app  # as gunicorn loads it

    token = create_tokens()[BRAND_ID]
    rng = random.Random(42)
    statuses: set[str] = set()

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        statuses.add(status)

    def one(scenario: Scenario) -> None:
        ambassador = scenario.ambassador or rng.choice(ORDINARY_IDS)
        response = app(environ(scenario.path("platform", ambassador), token), start_response)
        b"".join(response)
        response.close()  # type: ignore[attr-defined]

    wanted = args.only.split(",")
    if args.php_json_ab:
        php_json_ab(one, [s for s in SCENARIOS if s.name in wanted], args.requests, args.rounds)
        return
    for scenario in SCENARIOS:
        if scenario.name not in wanted:
            continue
        for _ in range(20):  # warm-up: compiled queries, prepared statements, caches
            one(scenario)
        samples, user, system, wall = [], [], [], []
        for _ in range(args.requests):
            before = os.times()
            started, clock = time.process_time(), time.perf_counter()
            one(scenario)
            samples.append(time.process_time() - started)
            wall.append(time.perf_counter() - clock)
            after = os.times()
            user.append(after.user - before.user)
            system.append(after.system - before.system)
        print(
            f"{scenario.name}: {statistics.median(samples) * 1000:.2f} ms CPU per request "
            f"(median of {args.requests}; p90 {statistics.quantiles(samples, n=10)[-1] * 1000:.2f};"
            f" mean user {statistics.fmean(user) * 1000:.2f}, system"
            f" {statistics.fmean(system) * 1000:.2f}; wall {statistics.median(wall) * 1000:.2f},"
            f" round trips included), statuses {sorted(statuses)}",
            flush=True,
        )
        if args.cprofile:
            profiler = cProfile.Profile(time.process_time)  # CPU, not waiting on PostgreSQL
            profiler.enable()
            for _ in range(args.requests):
                one(scenario)
            profiler.disable()
            pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.cprofile)
            if args.dump:
                profiler.dump_stats(f"{args.dump}.{scenario.name}")
        statuses.clear()


def postgres_backend_cpu() -> tuple[int, float] | None:
    """The PostgreSQL backend serving this process and the CPU seconds it has used so far,
    read from /proc: only when the server runs on this machine (None otherwise)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        row = cursor.fetchone()
    pid = int(row[0]) if row else 0
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return pid, (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime+stime


def php_json_ab(
    one: Callable[[Scenario], None], scenarios: list[Scenario], requests: int, rounds: int
) -> None:
    """Median CPU per request with PHP's JSON bytes and without (orjson's), in alternating
    rounds of `requests`, so that both see the same machine; and the PostgreSQL backend's CPU
    per request, since the request's CPU is both processes'."""
    from platform_api import php_json

    escape = php_json.php_json_escape
    variants: dict[str, Callable[[bytes], bytes]] = {"php": escape, "orjson": lambda body: body}
    for scenario in scenarios:
        for _ in range(20):
            one(scenario)
        samples: dict[str, list[float]] = {name: [] for name in variants}
        backend: list[float] = []  # the backend's CPU per request, per round and variant
        for _ in range(rounds):
            for name, variant in variants.items():
                php_json.php_json_escape = variant  # type: ignore[assignment]
                before = postgres_backend_cpu()
                for _ in range(requests):
                    started = time.process_time()
                    one(scenario)
                    samples[name].append(time.process_time() - started)
                after = postgres_backend_cpu()
                # Connections are recycled (CONN_MAX_AGE): only a round on one backend counts.
                if before is not None and after is not None and before[0] == after[0]:
                    backend.append((after[1] - before[1]) / requests)
        php_json.php_json_escape = escape
        php, plain = (statistics.median(samples[name]) for name in ("php", "orjson"))
        cost = php - plain
        line = (
            f"{scenario.name}: {php * 1000:.3f} ms Python CPU per request with PHP's JSON bytes, "
            f"{plain * 1000:.3f} ms without: {cost * 1000:+.3f} ms, {cost / php * 100:+.1f}% of "
            f"the Python CPU"
        )
        if backend:
            server = statistics.median(backend)
            line += (
                f"; PostgreSQL backend {server * 1000:.3f} ms per request (median of "
                f"{len(backend)} rounds): {cost / (php + server) * 100:+.1f}% of the request's CPU"
                " (both processes)"
            )
        print(f"{line} (medians of {rounds} x {requests} each)", flush=True)


if __name__ == "__main__":
    main()
