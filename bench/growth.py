"""How cost grows with the data and the page: `bench/run.py --growth`.

For each scale (`--growth-scales 1,5`: the databases `bench` and `bench_s5`, see bench/env.py;
loaded by `generate.py --scale N` when missing), for an ordinary ambassador (a random one of
2..1001, ~20 orders at any scale) and the whale (100,000 orders x scale), page 1 at per_page 1,
15 and 100: the service (gunicorn, wrk) and PostgreSQL's prepared floor (pgbench `-M prepared`,
the same statement as run.py's), in turn, `--growth-duration` seconds after `--warmup`,
`--growth-rounds` times (medians). Reports requests/s and p99 latency (wrk's; the floor's from
pgbench's per-transaction log) in RESULTS.md's "Growth" section and a plot, bench/growth.png.
"""

from __future__ import annotations

import argparse
import math
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from bench.env import BENCH, OUT, PYTHON, ROOT, bench_env, database_url

PER_PAGES = (1, 15, 100)
PLOT = BENCH / "growth.png"
WHALE_ORDERS = 100_000  # at scale 1 (generate.py)


@dataclass
class Point:
    scale: int
    who: str  # "ordinary" or "whale"
    per_page: int
    service: Any  # run.Load
    floor: Any


def whale_ready(url: str, scale: int) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            row = conn.execute(
                "SELECT order_count FROM orders_ambassador_order_count WHERE id_ambassador = 1"
            ).fetchone()
            return bool(row and row[0] == WHALE_ORDERS * scale)
    except psycopg.Error:
        return False


def brand_token(url: str) -> str:
    """A fresh brand-1 token in that database (`manage.py create_token`; older ones deleted)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DELETE FROM ambassadors_apitoken WHERE name = 'bench-growth'")
    command = [str(PYTHON), "manage.py", "create_token", "--kind", "brand", "--brand", "1"]
    result = subprocess.run(
        [*command, "--name", "bench-growth"],
        cwd=ROOT,
        env=bench_env(database=url),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return result.stdout.strip().splitlines()[-1]


def floor_p99(
    pgbench: str, script: Path, url: str, args: argparse.Namespace, duration: int, name: str
) -> tuple[float, float | None, int, int]:
    """pgbench -M prepared: (tps, p99 ms from its per-transaction log, transactions, failed)."""
    prefix = OUT / f"pgbench_growth_{name}"
    for old in OUT.glob(f"{prefix.name}.*"):
        old.unlink()
    command = [pgbench, "-n", "-M", "prepared", "-c", str(args.connections)]
    command += ["-j", str(args.threads), "-T", str(duration), "--random-seed", "42"]
    command += ["-l", f"--log-prefix={prefix}", "-f", str(script), url]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=duration + 120, check=False, cwd=OUT
    )
    (OUT / f"{prefix.name}.txt").write_text(result.stdout + result.stderr)
    tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", result.stdout)
    done = re.search(r"number of transactions actually processed: (\d+)", result.stdout)
    failed = re.search(r"number of failed transactions: (\d+)", result.stdout)
    if result.returncode != 0 or tps is None:
        return 0.0, None, 0, 0
    latencies = sorted(
        int(line.split()[2])
        for log in OUT.glob(f"{prefix.name}.[0-9]*")
        for line in log.read_text().splitlines()
        if line.strip()
    )
    p99 = latencies[max(0, math.ceil(0.99 * len(latencies)) - 1)] / 1000 if latencies else None
    return (
        float(tps.group(1)),
        p99,
        int(done.group(1)) if done else 0,
        int(failed.group(1)) if failed else 0,
    )


def measure(args: argparse.Namespace, pgbench: str) -> tuple[list[Point], list[str]]:
    from bench import run  # run imports this module's caller; keep the import here

    scales = [int(value) for value in args.growth_scales.split(",")]
    points: list[Point] = []
    notes: list[str] = []
    growth_args = argparse.Namespace(**vars(args))
    growth_args.duration = args.growth_duration
    for scale in scales:
        url = database_url(scale)
        if not whale_ready(url, scale):
            print(f"scale {scale}: loading {url.rsplit('/', 1)[-1]} (generate.py)…", flush=True)
            subprocess.run(
                [str(PYTHON), str(BENCH / "generate.py"), "--scale", str(scale)],
                check=True,
                timeout=3600,
            )
        with psycopg.connect(url) as conn:
            size, comment = conn.execute(
                "SELECT pg_size_pretty(pg_database_size(current_database())),"
                " shobj_description(oid, 'pg_database') FROM pg_database"
                " WHERE datname = current_database()"
            ).fetchone()  # type: ignore[misc]
        notes.append(
            f"- scale {scale}: database `{url.rsplit('/', 1)[-1]}`, {size}, "
            f"{500_000 * scale:,} orders, the whale's {WHALE_ORDERS * scale:,}; {comment}"
        )
        token = brand_token(url)
        growth_args.service_database_url = url
        for who, ambassador in (("ordinary", None), ("whale", run.WHALE_ID)):
            for per_page in PER_PAGES:
                name = f"G{scale}_{who}_{per_page}"
                sc = run.Scenario(name, f"{who}, page 1, per_page {per_page}", ambassador, per_page)
                query = run.floor_query(sc, ":aid" if ambassador is None else "1", sample=False)
                setup = ""
                if ambassador is None:
                    setup = (
                        f"\\set aid random({run.ORDINARY_IDS.start}, {run.ORDINARY_IDS.stop - 1})\n"
                    )
                script = OUT / f"pgbench_{name}.sql"
                script.write_text(query.pgbench_script(setup))
                services, floors = [], []
                for number in range(1, args.growth_rounds + 1):
                    services.append(run.measure_http(sc, "platform", token, growth_args, "WARNING"))
                    run.report_http(sc, f"service#{number}", services[-1])
                    floor_p99(pgbench, script, url, args, args.warmup, name)  # warm-up
                    tps, p99, done, failed = floor_p99(
                        pgbench, script, url, args, args.growth_duration, name
                    )
                    floors.append(run.Load(rps=tps, p99_ms=p99, requests=done, errors=failed))
                    run.report_floor(sc, f"prepared#{number}", floors[-1])
                    print(f"{name} floor p99 {run.fmt(p99, 1)} ms", flush=True)
                points.append(
                    Point(scale, who, per_page, run.median_load(services), run.median_load(floors))
                )
    return points, notes


def report(points: list[Point], notes: list[str], args: argparse.Namespace) -> list[str]:
    from bench import run

    scales = sorted({point.scale for point in points})
    by = {(p.scale, p.who, p.per_page): p for p in points}
    head = "| ambassador | per_page |"
    rule = "|---|---|"
    for scale in scales:
        head += (
            f" scale {scale} service rps | p99 ms | floor (prepared) rps | p99 ms | service/floor |"
        )
        rule += "---|---|---|---|---|"
    if len(scales) > 1:
        head += f" service rps, scale {scales[-1]} / scale {scales[0]} |"
        rule += "---|"
    lines = [
        f"wrk {args.threads} threads x {args.connections} connections, pgbench -M prepared "
        f"-c {args.connections} -j {args.threads}; {args.growth_duration} s per measurement "
        f"after {args.warmup} s of warm-up, {args.growth_rounds} round(s) per point, service and "
        "floor in turn (medians); "
        f"gunicorn {args.workers} {args.worker_class} workers. Page 1 of an ordinary ambassador "
        "(random 2..1001, ~20 orders at every scale) and of the whale; unfiltered, so the total "
        "is the trigger-kept counter (docs/scaling.md). The floor's p99 is from pgbench's "
        "per-transaction log.",
        "",
        *notes,
        "",
        head,
        rule,
    ]
    for who in ("ordinary", "whale"):
        for per_page in PER_PAGES:
            row = f"| {who} | {per_page} |"
            for scale in scales:
                point = by.get((scale, who, per_page))
                if point is None:
                    row += " — | — | — | — | — |"
                    continue
                s, f = point.service, point.floor
                errors = f" ({s.errors} errors!)" if s.errors else ""
                row += (
                    f" {run.fmt(s.rps)}{errors} | {run.fmt(s.p99_ms, 1)} | {run.fmt(f.rps)} "
                    f"| {run.fmt(f.p99_ms, 1)} | {run.ratio(s.rps, f.rps)} |"
                )
            if len(scales) > 1:
                first = by.get((scales[0], who, per_page))
                last = by.get((scales[-1], who, per_page))
                growth = run.ratio(last.service.rps, first.service.rps) if first and last else "—"
                row += f" {growth} |"
            lines.append(row)
    lines += ["", f"![rps and p99 against data size and page size]({PLOT.name})"]
    return lines


def plot(points: list[Point], path: Path = PLOT) -> None:
    """rps and p99 against page size, one panel per ambassador, a line per target and scale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    plain = FuncFormatter(lambda value, _: f"{value:g}")

    scales = sorted({point.scale for point in points})
    figure, axes = plt.subplots(2, 2, figsize=(11, 8), sharex=True)
    styles = ["-", "--", ":", "-."]
    markers = ["o", "s", "^", "D"]
    for column, metric in enumerate(("rps", "p99_ms")):
        for row, who in enumerate(("ordinary", "whale")):
            axis = axes[row][column]
            for index, scale in enumerate(scales):
                for target, color in (("service", "tab:blue"), ("floor", "tab:orange")):
                    series = sorted(
                        (p.per_page, getattr(getattr(p, target), metric))
                        for p in points
                        if p.scale == scale and p.who == who
                    )
                    xs = [x for x, y in series if y]
                    ys = [y for x, y in series if y]
                    label = f"{'service' if target == 'service' else 'floor (prepared)'}"
                    label += f", scale {scale} ({500_000 * scale / 1e6:g}M orders)"
                    axis.plot(
                        xs,
                        ys,
                        styles[index % len(styles)],
                        color=color,
                        marker=markers[index % len(markers)],
                        label=label,
                    )
            axis.set_xscale("log")
            axis.set_xticks(list(PER_PAGES), [str(n) for n in PER_PAGES])
            axis.set_yscale("log")
            axis.yaxis.set_major_formatter(plain)
            axis.yaxis.set_minor_formatter(plain)
            axis.tick_params(axis="y", which="minor", labelsize=7)
            whale = "the whale (100,000 orders x scale)"
            axis.set_title(
                f"{'requests/s' if metric == 'rps' else 'p99 latency (ms)'}: "
                f"{'an ordinary ambassador' if who == 'ordinary' else whale}, page 1",
                fontsize=10,
            )
            axis.grid(True, which="both", alpha=0.3)
            if row == 1:
                axis.set_xlabel("per_page")
            axis.legend(fontsize=7)
    figure.suptitle("GET /ambassadors/{id}/orders: cost against data size and page size")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
