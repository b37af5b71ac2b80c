"""Soak test: 5 minutes at 32 connections against gunicorn with production settings.

    .venv/bin/python -m bench.soak                 # from the repository root
    SOAK_SECONDS=60 .venv/bin/python -m bench.soak # a shorter run

Same database and service set-up as `bench/fault.py` (seed_demo, a brand-1 token, gunicorn with
`docker/gunicorn.conf.py`, 2 workers x 2 threads), but with worker recycling OFF
(GUNICORN_MAX_REQUESTS=0), so that a leak cannot hide behind restarts. wrk (2 threads,
SOAK_CONNECTIONS=32 connections, 30 s timeout) cycles through 40 requests of ambassador 1's
orders: every page at 15 and at 100 per page, each sort, a date-range filter. A SOAK_WARMUP
(60 s) run first fills the workers' caches; then the measured run. Meanwhile the resident memory
(VmRSS, /proc) of every gunicorn worker is sampled every SOAK_SAMPLE_SECONDS (5).

Targets (exit status 0 when met): zero non-2xx answers and zero socket errors; each worker's
memory at the end (median RSS over the last minute) within +-10% of its memory at the start
(median over the first minute); the peak and the least-squares trend (MiB/min) are reported.
Raw wrk output: bench/out/soak_wrk.txt; memory samples: bench/out/soak_memory.csv.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench.fault import (
    DEFAULT_DATABASE_URL,
    OUT,
    ROOT,
    ensure_pg_running,
    env_float,
    gunicorn,
    prepare_database,
    service_env,
)

TOLERANCE = 0.10
# Medians over the first and the last minute: one large page (per_page=100) moves a worker's
# RSS by a few MiB for a moment, which is not a trend.
WINDOW_SECONDS = 60


def worker_pids(master: int) -> list[int]:
    """The gunicorn master's child processes (its workers)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # the command name is in parentheses and may contain spaces: split after it
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == master:
            pids.append(int(entry.name))
    return sorted(pids)


def rss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def lua_script(secret: str) -> Path:
    base = "/api/v2/platform/ambassadors/1/orders"
    paths = [f"{base}?page={page}" for page in range(1, 28)]
    paths += [f"{base}?per_page=100&page={page}" for page in range(1, 5)]
    paths += [f"{base}?sort={sort}" for sort in ("date_order", "-total_amount", "id_order")]
    paths += [f"{base}?sort=-date_update&page=2", f"{base}?per_page=50&page=3"]
    paths += [f"{base}?filter%5Bplaced_between%5D=2000-01-01%2C2100-12-31&page={n}" for n in (1, 2)]
    paths += [f"{base}?filter%5Bcurrency%5D=EUR%2CUSD", f"{base}?filter%5Btype%5D=WEB"]
    script = OUT / "soak.lua"
    quoted = ",\n  ".join(f'"{path}"' for path in paths)
    script.write_text(
        f'wrk.headers["Authorization"] = "Bearer {secret}"\n'
        f"local paths = {{\n  {quoted}\n}}\n"
        "local i = 0\n"
        "request = function()\n"
        "  i = i + 1\n"
        '  return wrk.format("GET", paths[(i % #paths) + 1])\n'
        "end\n"
    )
    return script


def wrk(port: int, script: Path, seconds: float, connections: int) -> str:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    result = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{int(seconds)}s",
            "--timeout",
            "30s",
            "--latency",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}/",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def oversized_requests(port: int, secret: str) -> dict[str, str]:
    """What gunicorn itself does with long requests (its refusals are HTML, the app's JSON)."""
    path = "/api/v2/platform/ambassadors/1/orders"
    junk = "&".join(f"junk{n}={'x' * 40}" for n in range(160))  # ~7.8 KB
    cases = {
        f"{len(junk)}-byte query string": (f"{path}?{junk}", f"Bearer {secret}"),
        "10 KB Authorization header": (path, "Bearer pat_" + "a" * 10_240),
    }
    answers = {}
    for name, (target, authorization) in cases.items():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("GET", target, headers={"Authorization": authorization})
        response = connection.getresponse()
        response.read()
        answers[name] = f"{response.status} {response.getheader('Content-Type')}"
        connection.close()
    return answers


def sample_memory(
    master: int, every: float, stop: threading.Event, samples: list[tuple[float, dict[int, int]]]
) -> None:
    started = time.monotonic()
    while not stop.is_set():
        sizes = {pid: size for pid in worker_pids(master) if (size := rss_kib(pid)) is not None}
        samples.append((time.monotonic() - started, sizes))
        stop.wait(every)


def main() -> int:
    seconds = env_float("SOAK_SECONDS", 300)
    warmup = env_float("SOAK_WARMUP", 60)
    connections = int(env_float("SOAK_CONNECTIONS", 32))
    every = env_float("SOAK_SAMPLE_SECONDS", 5)
    database_url = os.environ.get("FAULT_DATABASE_URL", DEFAULT_DATABASE_URL)
    env = service_env(database_url)
    ensure_pg_running()
    secret = prepare_database(database_url, env)
    script = lua_script(secret)

    with gunicorn(env, log_name="soak_gunicorn.log", GUNICORN_MAX_REQUESTS="0") as server:
        port, master = server.port, server.pid
        probe = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        probe.request("GET", "/healthz")
        server_header = probe.getresponse().getheader("Server")
        oversized = oversized_requests(port, secret)
        workers_before = worker_pids(master)
        wrk(port, script, warmup, connections)
        samples: list[tuple[float, dict[int, int]]] = []
        stop = threading.Event()
        sampler = threading.Thread(target=sample_memory, args=(master, every, stop, samples))
        sampler.start()
        try:
            output = wrk(port, script, seconds, connections)
        finally:
            stop.set()
            sampler.join()
        workers_after = worker_pids(master)
    (OUT / "soak_wrk.txt").write_text(output)
    with (OUT / "soak_memory.csv").open("w") as csv:
        csv.write("seconds,pid,rss_kib\n")
        for t, sizes in samples:
            csv.writelines(f"{t:.1f},{pid},{size}\n" for pid, size in sorted(sizes.items()))

    requests = re.search(r"(\d+) requests in", output)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    non_2xx_match = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors_match = re.search(r"Socket errors: (.*)", output)
    latency = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", output, flags=re.MULTILINE))
    non_2xx = int(non_2xx_match.group(1)) if non_2xx_match else 0
    print(
        f"wrk: {int(seconds)} s, {connections} connections, 2 threads, after a {int(warmup)} s "
        f"warm-up: {requests.group(1) if requests else '?'} requests, "
        f"{rate.group(1) if rate else '?'} req/s, latency p50 {latency.get('50')} "
        f"p90 {latency.get('90')} p99 {latency.get('99')}"
    )
    print(
        f"non-2xx answers: {non_2xx}; socket errors: "
        f"{errors_match.group(1) if errors_match else 'none'}"
    )
    print(f"Server header sent by gunicorn: {server_header!r}")
    for name, answer in oversized.items():
        print(f"through gunicorn, {name}: {answer}")

    recycled = workers_before != workers_after
    memory_ok = not recycled
    print(
        f"workers: {workers_before} -> {workers_after}"
        f"{' (RESTARTED: memory comparison is per surviving worker)' if recycled else ''}"
    )
    for pid in workers_after:
        series = [(t, sizes[pid]) for t, sizes in samples if pid in sizes]
        if not series:
            continue
        first = statistics.median(v for t, v in series if t <= WINDOW_SECONDS)
        last_from = series[-1][0] - WINDOW_SECONDS
        last = statistics.median(v for t, v in series if t >= last_from)
        peak = max(v for _, v in series)
        change = last / first - 1
        peak_change = peak / first - 1
        memory_ok = memory_ok and abs(change) <= TOLERANCE
        slope = statistics.linear_regression([t for t, _ in series], [v for _, v in series]).slope
        print(
            f"  worker {pid}: RSS {first / 1024:.1f} MiB in the first minute -> "
            f"{last / 1024:.1f} MiB in the last ({change:+.1%}); peak {peak / 1024:.1f} MiB "
            f"({peak_change:+.1%}); trend {slope * 60 / 1024:+.2f} MiB/min; {len(series)} samples"
        )
    totals = [sum(sizes.values()) for _, sizes in samples]
    print(f"  all workers: {totals[0] / 1024:.1f} MiB -> {totals[-1] / 1024:.1f} MiB")
    no_errors = non_2xx == 0 and errors_match is None
    print(
        f"target: zero non-2xx and socket errors: {'met' if no_errors else 'MISSED'}; "
        f"worker memory flat within +-{TOLERANCE:.0%}: {'met' if memory_ok else 'MISSED'}"
    )
    return 0 if no_errors and memory_ok else 1


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
