"""Create and load the benchmark database (PostgreSQL), reproducibly from a seed.

    .venv/bin/python bench/generate.py [--seed 0.42] [--scale 1]

Creates the database named by BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/bench)
if missing, builds the schema with `manage.py migrate`, runs `bench/dataset.sql` step by step
(set-based INSERT … SELECT generate_series, seeded with setseed()), then VACUUM (ANALYZE).
The seed, scale and load time are recorded as the database's comment, which `run.py` reads.

`--scale N` multiplies every count by N (ambassadors, brands' sizes, products, images, orders;
the whale keeps every 5th order: 100,000 x N) into its own database, BENCH_DATABASE_URL's name
with `_sN` (`bench_s5` by default): scale 5 is 2.5M orders, ~2.2 GB, a few minutes to load.
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
EXPECTED = {  # table: rows at scale 1, checked after loading (brands stay 2 at any scale)
    "ambassadors_brand": 2,
    "ambassadors_ambassador": 20_000,
    "orders_product": 20_000,
    "orders_i18ncontent": 80_000,
    "orders_order": 500_000,
}
WHALE_ORDERS = 100_000  # ambassador 1's, at scale 1


def expected_rows(scale: int) -> dict[str, int]:
    return {
        table: rows if table == "ambassadors_brand" else rows * scale
        for table, rows in EXPECTED.items()
    }


def dataset_sql(seed: float, scale: int) -> str:
    """bench/dataset.sql with its placeholders filled in."""
    values = {
        "seed": repr(float(seed)),
        "ambassadors": str(20_000 * scale),
        "brand_size": str(10_000 * scale),
        "products": str(20_000 * scale),
        "orders": str(500_000 * scale),
    }
    sql = (BENCH / "dataset.sql").read_text()
    # `::int` casts are not placeholders.
    return re.sub(r"(?<!:):(\w+)\b", lambda m: values.get(m.group(1), m.group(0)), sql)


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


def migrate(url: str | None = None) -> None:
    subprocess.run(
        [str(PYTHON), "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=bench_env(database=url),
        check=True,
        timeout=300,
    )


def steps(sql: str) -> list[tuple[str, str]]:
    """`-- step: <name>` sections of dataset.sql, in order."""
    parts = re.split(r"^-- step: (.+)$", sql, flags=re.MULTILINE)
    return [(parts[i].strip(), parts[i + 1]) for i in range(1, len(parts), 2)]


def load(url: str, seed: float, scale: int = 1) -> float:
    sql = dataset_sql(seed, scale)
    started = time.monotonic()
    with psycopg.connect(conninfo(url), autocommit=True) as conn:
        for name, body in steps(sql):
            t0 = time.monotonic()
            conn.execute(body.encode())
            print(f"  {name:<28} {time.monotonic() - t0:6.1f} s", flush=True)
        t0 = time.monotonic()
        conn.execute("VACUUM (ANALYZE)")
        print(f"  {'vacuum (analyze)':<28} {time.monotonic() - t0:6.1f} s", flush=True)
        seconds = time.monotonic() - started
        for table, rows in expected_rows(scale).items():
            (count,) = conn.execute(f"SELECT count(*) FROM {table}").fetchone()  # type: ignore[misc]
            if count != rows:
                raise SystemExit(f"{table}: {count} rows, expected {rows}")
        # The counters the triggers keep, recounted by the last step: as count(*) says.
        (wrong,) = conn.execute(
            "SELECT count(*) FROM (SELECT id_ambassador, count(*) AS n FROM orders_order"
            " GROUP BY 1) AS e FULL JOIN orders_ambassador_order_count AS c USING (id_ambassador)"
            " WHERE coalesce(e.n, 0) <> coalesce(c.order_count, 0)"
        ).fetchone()  # type: ignore[misc]
        if wrong:
            raise SystemExit(f"{wrong} ambassadors' order counters differ from count(*)")
        (lines,) = conn.execute("SELECT count(*) FROM orders_orderproduct").fetchone()  # type: ignore[misc]
        (size,) = conn.execute(
            "SELECT pg_size_pretty(pg_database_size(current_database()))"
        ).fetchone()  # type: ignore[misc]
        name = urlsplit(url).path.lstrip("/")
        conn.execute(
            f'COMMENT ON DATABASE "{name}" IS '
            f"'platform-api bench: seed={seed} scale={scale} lines={lines} "
            f"load_seconds={seconds:.0f}'"
        )
    print(f"loaded in {seconds:.0f} s: {lines} order lines, database size {size}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=float, default=DEFAULT_SEED, help="setseed() value, -1..1")
    parser.add_argument(
        "--scale",
        type=int,
        default=1,
        help="multiply every count by N, into BENCH_DATABASE_URL's database + _sN (N > 1)",
    )
    args = parser.parse_args()
    if not -1 <= args.seed <= 1:
        raise SystemExit("--seed must lie between -1 and 1 (PostgreSQL's setseed)")
    if args.scale < 1:
        raise SystemExit("--scale must be a positive integer")
    url = database_url(args.scale)
    print(f"scale {args.scale}: {urlsplit(url).path.lstrip('/')}", flush=True)
    ensure_database(url)
    migrate(url)
    load(url, args.seed, args.scale)


if __name__ == "__main__":
    main()
