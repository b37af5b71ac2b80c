"""The round trip on the benchmark's database: export everything, import it into an empty database,
and compare the API's answers, byte for byte.

    .venv/bin/python bench/import_round_trip.py

Source: BENCH_DATABASE_URL (the 500,000-order dataset of `bench/generate.py`, generated when
missing). Target: BENCH_IMPORT_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/
bench_import), dropped and recreated, migrated, the source's brands copied (tenants are created
in the admin, not imported). Then, each a `manage.py` process timed:
`export_ambassadors`, `export_products`, `export_orders` from the source;
`import_ambassadors`, `import_products`, `import_orders` into the target (the orders import is
the benchmark on the dataset's own 1.5 M lines). Last, the same sample of URLs (the orders route:
pages, sorts, filters of ordinary ambassadors and of the whale; the ambassadors routes) is
fetched from both databases through Django's test client with a brand token, and every body
compared. Writes the "Bulk import" section of RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.env import BENCH, OUT, PYTHON, ROOT, database_url
from bench.import_bench import write_section

DEFAULT_TARGET = "postgres://postgres@127.0.0.1:5432/bench_import"
WHALE_ID = 1
QUERIES = [
    "",
    "?per_page=100",
    "?page=3&per_page=15",
    "?sort=total_amount&per_page=50",
    "?sort=-date_update&filter[last_status]=OK,FULFILLED",
    "?filter[placed_between]=2024-01-01,2024-02-01",
    "?filter[updated_since]=2024-06-01T00:00:00Z&sort=date_update",
]
# The ambassadors list: pages, both sorts, every filter, alone and together (the brand token's
# brand; `filter[id_referrer]` gets referrers found in the source, below).
AMBASSADOR_QUERIES = [
    "",
    "?per_page=100",
    "?page=7&per_page=100",
    "?page=40",
    "?sort=last_action_date&per_page=100",
    "?sort=-last_action_date&page=7",
    "?filter[status]=7,8",
    "?filter[status]=0&filter[active]=1&per_page=50",
    "?filter[active]=-3,-2,-1,0",
    "?filter[name]=mar",
    "?filter[name]=MAR&sort=-last_action_date&per_page=25",
    "?filter[status]=0,1,2&sort=last_action_date&page=3",
]
AMBASSADORS = "/api/v2/platform/ambassadors"


def target_url() -> str:
    return os.environ.get("BENCH_IMPORT_DATABASE_URL") or DEFAULT_TARGET


def env(url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "platform_api.settings.local",
        "DATABASE_URL": url,
        "PYTHONPATH": str(ROOT),
    }


def manage(url: str, *args: str) -> tuple[float, str]:
    """Run a manage.py command against `url`: wall seconds and its standard output."""
    started = time.monotonic()
    result = subprocess.run(
        [str(PYTHON), "manage.py", *args],
        cwd=ROOT,
        env=env(url),
        capture_output=True,
        text=True,
        timeout=7200,
    )
    if result.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return time.monotonic() - started, result.stdout.strip()


def recreate(url: str) -> None:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not re.fullmatch(r"[A-Za-z0-9_]+", name):
        raise SystemExit(f"refusing an unusual database name: {name!r}")
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')


def copy_brands(source: str, target: str) -> None:
    with psycopg.connect(source) as src, psycopg.connect(target) as dst:
        rows = src.execute("SELECT id_brand, name, domain FROM ambassadors_brand").fetchall()
        with dst.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO ambassadors_brand (id_brand, name, domain) VALUES (%s, %s, %s)", rows
            )
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('ambassadors_brand', 'id_brand'), "
                "(SELECT max(id_brand) FROM ambassadors_brand))"
            )


def sample_urls(source: str) -> list[str]:
    with psycopg.connect(source) as conn:
        ordinary = [
            row[0]
            for row in conn.execute(
                "SELECT id_ambassador FROM orders_order WHERE id_ambassador <> %s "
                "GROUP BY id_ambassador ORDER BY id_ambassador LIMIT 5",
                [WHALE_ID],
            )
        ]
        # Ambassadors of brand 1 (the token's), spread over the ids; referrers of some of them.
        people = [
            row[0]
            for row in conn.execute(
                "SELECT id_ambassador FROM ambassadors_ambassador WHERE brand_id = 1 "
                "ORDER BY md5(id_ambassador::text) LIMIT 25"
            )
        ]
        referrers = [
            str(row[0])
            for row in conn.execute(
                "SELECT DISTINCT id_referrer FROM ambassadors_ambassador WHERE brand_id = 1 "
                "AND id_referrer IS NOT NULL ORDER BY id_referrer LIMIT 3"
            )
        ]
    urls = [
        f"{AMBASSADORS}/{ambassador}/orders{query}"
        for ambassador in [WHALE_ID, *ordinary]
        for query in QUERIES
    ]
    urls += [f"{AMBASSADORS}/{ambassador}" for ambassador in [WHALE_ID, *ordinary, *people]]
    urls += [f"{AMBASSADORS}{query}" for query in AMBASSADOR_QUERIES]
    if referrers:
        urls += [
            f"{AMBASSADORS}?filter[id_referrer]={referrers[0]}",
            f"{AMBASSADORS}?filter[id_referrer]={','.join(referrers)}&sort=-last_action_date",
        ]
    return urls


ANSWERS_SCRIPT = """
import hashlib, json, sys
import django
django.setup()
from django.test import Client
from ambassadors.models import Brand
from ambassadors.services import token_create
_, secret = token_create(kind="brand", brand=Brand.objects.get(pk=1), name="round trip")
client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
answers = {}
for url in json.load(sys.stdin):
    response = client.get(url)
    answers[url] = [response.status_code, hashlib.sha256(response.content).hexdigest()]
print(json.dumps(answers))
"""


def answers(url: str, urls: list[str]) -> dict[str, list[object]]:
    # The `online` flags depend on the time of the request: both databases are asked within
    # the same minutes, and the dataset's last actions are months old.
    result = subprocess.run(
        [str(PYTHON), "-c", ANSWERS_SCRIPT],
        cwd=ROOT,
        env=env(url),
        input=json.dumps(urls),
        capture_output=True,
        text=True,
        timeout=1800,
        check=True,
    )
    answers_: dict[str, list[object]] = json.loads(result.stdout)
    return answers_


STEPS = ("export", "import", "compare")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--results", default=str(BENCH / "RESULTS.md"))
    parser.add_argument(
        "--steps",
        default=",".join(STEPS),
        help="Comma-separated, in order: export, import, compare (default all; a later step "
        "reuses the files and timings in bench/out/ of an earlier run, so that each locked "
        "run stays short).",
    )
    args = parser.parse_args()
    steps = args.steps.split(",")
    if not set(steps) <= set(STEPS):
        raise SystemExit(f"--steps: choose among {', '.join(STEPS)}")
    source, target = database_url(), target_url()
    if source == target:
        raise SystemExit("BENCH_DATABASE_URL and BENCH_IMPORT_DATABASE_URL must differ")
    OUT.mkdir(exist_ok=True)
    saved = OUT / "round_trip_timings.json"
    timings: list[tuple[str, float, str]] = (
        [tuple(item) for item in json.loads(saved.read_text())]
        if saved.exists() and "export" not in steps
        else []
    )
    if "export" in steps:
        for what in ("ambassadors", "products", "orders"):
            path = OUT / f"round_trip_{what}.jsonl"
            seconds, out = manage(source, f"export_{what}", "--out", str(path))
            timings.append((f"export_{what}", seconds, out))
            print(f"export_{what}: {seconds:.1f} s, {out}", flush=True)
    if "import" in steps:
        timings = [item for item in timings if not item[0].startswith("import_")]
        recreate(target)
        manage(target, "migrate", "--noinput", "-v", "0")
        copy_brands(source, target)
        for what in ("ambassadors", "products", "orders"):
            path = OUT / f"round_trip_{what}.jsonl"
            rejects = OUT / f"round_trip_{what}.rejects.jsonl"
            seconds, out = manage(target, f"import_{what}", str(path), "--rejects", str(rejects))
            timings.append((f"import_{what}", seconds, out))
            print(f"import_{what}: {seconds:.1f} s, {out}", flush=True)
    saved.write_text(json.dumps(timings))
    if "compare" not in steps:
        return
    load_avg = os.getloadavg()
    urls = sample_urls(source)
    before, after = answers(source, urls), answers(target, urls)
    differing = [url for url in urls if before[url] != after[url]]
    statuses = sorted({str(before[url][0]) for url in urls})
    kinds = {
        "orders route": [url for url in urls if "/orders" in url],
        "an ambassador": [url for url in urls if re.search(r"/ambassadors/\d+$", url)],
        "the ambassadors list": [url for url in urls if url.split("?")[0] == AMBASSADORS],
    }
    print(f"{len(urls)} URLs compared, {len(differing)} differ", flush=True)
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    body = [
        f"Round trip, compared {stamp}, with `python bench/import_round_trip.py "
        f"--steps {args.steps}` (steps may run separately, each under the bench lock): the "
        f"benchmark's database exported and imported into an empty one (load average at the "
        f"comparison {load_avg[0]:.1f} / {load_avg[1]:.1f} / {load_avg[2]:.1f} on 2 shared cores: "
        f"timings are noisy).",
        "",
        "| step | wall s | output |",
        "|---|---|---|",
        *(f"| `{name}` | {seconds:.1f} | {out} |" for name, seconds, out in timings),
        "",
        f"API answers compared (status and SHA-256 of the body): {len(urls)} URLs "
        f"({'; '.join(f'{len(group)} {kind}' for kind, group in kinds.items())}; statuses "
        f"{', '.join(statuses)}), {len(differing)} differ"
        + (": " + ", ".join(differing[:10]) if differing else "."),
    ]
    write_section(Path(args.results), "Bulk import: round trip of the benchmark database", body)
    if differing:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
