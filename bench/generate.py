"""Create and load the benchmark database (PostgreSQL), reproducibly from a seed.

    .venv/bin/python bench/generate.py [--seed 0.42]

Creates the database named by BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/bench)
if missing, builds the schema with `manage.py migrate`, runs `bench/dataset.sql` step by step
(set-based INSERT … SELECT generate_series, seeded with setseed()), then VACUUM (ANALYZE).
The seed and load time are recorded as the database's comment, which `run.py` reads.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from urllib.parse import urlsplit, urlunsplit

import psycopg

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent.parent))

from bench.env import BENCH, PYTHON, ROOT, bench_env, database_url

DEFAULT_SEED = 0.42
EXPECTED = {  # table: rows, checked after loading
    "ambassadors_brand": 2,
    "ambassadors_ambassador": 20_000,
    "orders_product": 20_000,
    "orders_i18ncontent": 80_000,
    "orders_order": 500_000,
}


def conninfo(url: str) -> str:
    """psycopg accepts postgres:// URLs as they are."""
    return url


def ensure_database(url: str) -> None:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not re.fullmatch(r"[A-Za-z0-9_]+", name):
        raise SystemExit(f"refusing an unusual database name: {name!r}")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            admin.execute(f'CREATE DATABASE "{name}"')
            print(f"created database {name}")


def migrate() -> None:
    subprocess.run(
        [str(PYTHON), "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=bench_env(),
        check=True,
        timeout=300,
    )


def steps(sql: str) -> list[tuple[str, str]]:
    """`-- step: <name>` sections of dataset.sql, in order."""
    parts = re.split(r"^-- step: (.+)$", sql, flags=re.MULTILINE)
    return [(parts[i].strip(), parts[i + 1]) for i in range(1, len(parts), 2)]


def load(url: str, seed: float) -> float:
    sql = (BENCH / "dataset.sql").read_text()
    started = time.monotonic()
    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        for name, body in steps(sql):
            t0 = time.monotonic()
            conn.execute(body.replace(":seed", repr(float(seed))).encode())
            print(f"  {name:<28} {time.monotonic() - t0:6.1f} s", flush=True)
        t0 = time.monotonic()
        conn.execute("VACUUM (ANALYZE)")
        print(f"  {'vacuum (analyze)':<28} {time.monotonic() - t0:6.1f} s", flush=True)
        seconds = time.monotonic() - started
        for table, rows in EXPECTED.items():
            (count,) = conn.execute(f"SELECT count(*) FROM {table}").fetchone()  # type: ignore[misc]
            if count != rows:
                raise SystemExit(f"{table}: {count} rows, expected {rows}")
        (lines,) = conn.execute("SELECT count(*) FROM orders_orderproduct").fetchone()  # type: ignore[misc]
        (size,) = conn.execute(
            "SELECT pg_size_pretty(pg_database_size(current_database()))"
        ).fetchone()  # type: ignore[misc]
        name = urlsplit(url).path.lstrip("/")
        conn.execute(
            f'COMMENT ON DATABASE "{name}" IS '
            f"'platform-api bench: seed={seed} lines={lines} load_seconds={seconds:.0f}'"
        )
    print(f"loaded in {seconds:.0f} s: {lines} order lines, database size {size}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=float, default=DEFAULT_SEED, help="setseed() value, -1..1")
    args = parser.parse_args()
    if not -1 <= args.seed <= 1:
        raise SystemExit("--seed must lie between -1 and 1 (PostgreSQL's setseed)")
    url = database_url()
    ensure_database(url)
    migrate()
    load(url, args.seed)


if __name__ == "__main__":
    main()
