"""Instructions per request, under callgrind: a repeatable cost of the service's own code.

    .venv/bin/python bench/icount.py S1 [200]     # needs valgrind (apt-get install valgrind)

On a shared machine wrk's requests/s swing by 2x and CPU times by ±15%; the number of
instructions the interpreter executes for one request does not (two runs of the same code agree
within 0.1%). The script calls Django's WSGI handler directly, as `bench/cpu_profile.py` does
(the benchmark's settings and database, no HTTP), warms up, then switches callgrind's
instrumentation on (`callgrind_control -i on`) for `N` requests only, so Python's start-up is
not counted; it runs itself under valgrind and prints the instructions per request from
callgrind's output file (bench/out/cg.<scenario>.<pid>). It counts
this process's user-space work only: not PostgreSQL's or Redis's, not the kernel's, not time
spent waiting on a round trip. Compare two versions of the code by running it from each
checkout.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.cpu_profile import environ
from bench.env import OUT, bench_env
from bench.run import BRAND_ID, ORDINARY_IDS, SCENARIOS, create_tokens, django_setup


def callgrind(on: bool) -> None:
    subprocess.run(
        ["callgrind_control", "-i", "on" if on else "off", str(os.getpid())],
        check=True,
        capture_output=True,
    )


_CHILD = "BENCH_ICOUNT_CHILD"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scenario", help="S1..S4, S6 (bench/run.py's)")
    parser.add_argument("requests", type=int, nargs="?", default=200)
    parser.add_argument("--warmup", type=int, default=30)
    args = parser.parse_args()
    if os.environ.get(_CHILD):
        measure(args)
        return
    OUT.mkdir(exist_ok=True)
    out_file = OUT / f"cg.{args.scenario}.{os.getpid()}"
    subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            f"--callgrind-out-file={out_file}",
            sys.executable,
            __file__,
            *sys.argv[1:],
        ],
        env={**os.environ, _CHILD: "1"},
        check=True,
        capture_output=True,
    )
    print(
        f"{args.scenario}: {per_request(out_file, args.requests):,} instructions per request "
        f"(callgrind, {args.requests} requests after {args.warmup} of warm-up)"
    )


def measure(args: argparse.Namespace) -> None:
    os.environ.update(bench_env())
    django_setup()
    from platform_api.wsgi import application as app

    token = create_tokens()[BRAND_ID]
    rng = random.Random(42)
    scenario = next(s for s in SCENARIOS if s.name == args.scenario)

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        if not status.startswith("200"):
            raise SystemExit(f"{scenario.name}: {status}")

    def one() -> None:
        ambassador = scenario.ambassador or rng.choice(ORDINARY_IDS)
        response: Any = app(environ(scenario.path("platform", ambassador), token), start_response)
        b"".join(response)
        response.close()

    for _ in range(args.warmup):
        one()
    callgrind(on=True)
    for _ in range(args.requests):
        one()
    callgrind(on=False)


def per_request(out_file: Path, requests: int) -> int:
    """Instructions per request from a callgrind output file (its `totals:` line)."""
    match = re.search(r"^totals: (\d+)", out_file.read_text(), re.MULTILINE)
    if match is None:
        raise SystemExit(f"no totals in {out_file}")
    return int(match.group(1)) // requests


if __name__ == "__main__":
    main()
