"""Two checkouts of the service, before and after a change, in alternating wrk rounds.

    .venv/bin/python bench/compare_trees.py --before /tmp/before [--after .] [--only S1,S6]
        [--duration 10] [--rounds 3]

`--before` is another checkout (e.g. `git worktree add /tmp/before main`, or `git archive main |
tar -x -C /tmp/before`) with a `.venv` of its own or a symlink to this one. Each tree gets its
gunicorn (docker/gunicorn.conf.py, 2 sync workers, run from the tree so that its code is the one
imported) on the same bench database; every round measures each scenario on both, in turn, and
the medians are printed with the ratio. The database's schema must suit both trees (the newer
one's migrations applied). Nothing is written to RESULTS.md: paste what matters, with the
command.
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import run
from bench.env import OUT, ROOT, bench_env
from bench.fault import free_port, wait_until_ready


def start(tree: Path, label: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **bench_env(),
        "PYTHONPATH": str(tree),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
        "GUNICORN_WORKER_CLASS": "sync",
        "GUNICORN_THREADS": "1",
        "GUNICORN_LOG_LEVEL": "warning",
    }
    log = (OUT / f"gunicorn_compare_{label}.log").open("w")
    gunicorn = str(tree / ".venv" / "bin" / "gunicorn")
    process = subprocess.Popen(
        [gunicorn, "-c", "docker/gunicorn.conf.py", "platform_api.wsgi:application"],
        cwd=tree,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    wait_until_ready(port, process)
    return process, f"http://127.0.0.1:{port}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", required=True, type=Path)
    parser.add_argument("--after", default=ROOT, type=Path)
    parser.add_argument("--only", default="S1,S6", help="bench/run.py's scenarios")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    wrk_args = argparse.Namespace(threads=2, connections=8)
    scenarios = [sc for sc in run.SCENARIOS if sc.name in args.only.split(",")]
    OUT.mkdir(exist_ok=True)
    run.django_setup()
    token = run.create_tokens()[run.BRAND_ID]
    from django.db import connections

    connections.close_all()
    trees = {"before": args.before.resolve(), "after": args.after.resolve()}
    servers: dict[str, tuple[subprocess.Popen[bytes], str]] = {}
    results: dict[tuple[str, str], list[run.Load]] = {}
    try:
        for label, tree in trees.items():
            servers[label] = start(tree, label)
        for sc in scenarios:
            # The page links name each server's own port (PHP-escaped: `http:\\/\\/…`).
            bodies = {
                label: run.http_get(base + sc.path("platform", sc.ambassador or 2), token)[1]
                .replace(base.replace("/", "\\/").encode(), b"server")
                .replace(base.encode(), b"server")
                for label, (_, base) in servers.items()
            }
            same = "identical bodies" if len(set(bodies.values())) == 1 else "DIFFERENT bodies"
            print(f"{sc.name}: total {json.loads(bodies['after'])['total']}, {same}", flush=True)
            for _, base in servers.values():
                run.run_wrk(base, sc, "platform", token, wrk_args, 3)  # warm-up
        for number in range(1, args.rounds + 1):
            for sc in scenarios:
                for label, (_, base) in servers.items():
                    load = run.run_wrk(base, sc, "platform", token, wrk_args, args.duration)
                    results.setdefault((sc.name, label), []).append(load)
                    run.report_http(sc, f"{label}#{number}", load)
    finally:
        for process, _ in servers.values():
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
    print("\n| scenario | before rps | p99 ms | after rps | p99 ms | after/before |")
    print("|---|---|---|---|---|---|")
    for sc in scenarios:
        before = run.median_load(results[(sc.name, "before")])
        after = run.median_load(results[(sc.name, "after")])
        print(
            f"| {sc.name} | {run.fmt(before.rps)} | {run.fmt(before.p99_ms, 1)} "
            f"| {run.fmt(after.rps)} | {run.fmt(after.p99_ms, 1)} "
            f"| {run.ratio(after.rps, before.rps)} |"
        )
    for sc in scenarios:
        for label in trees:
            rounds = ", ".join(f"{load.rps:.1f}" for load in results[(sc.name, label)])
            print(f"- {sc.name} {label}: {rounds} rps")


if __name__ == "__main__":
    main()
