"""The environment every benchmark process gets: production settings, pointed at the bench DB.

One place, so that `generate.py` (migrate, token), the in-process checks of `run.py` and the
gunicorn it starts all run the same configuration.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
OUT = BENCH / "out"  # git-ignored: logs, wrk/pgbench raw output, the token of the last run
PYTHON = ROOT / ".venv" / "bin" / "python"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/bench"


def database_url(scale: int = 1) -> str:
    """The bench database: BENCH_DATABASE_URL's at scale 1; a larger `generate.py --scale N`
    has its own, named with `_sN` after it (`bench` -> `bench_s5`)."""
    url = os.environ.get("BENCH_DATABASE_URL") or DEFAULT_DATABASE_URL
    if scale == 1:
        return url
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"{parts.path.rstrip('/')}_s{scale}"))


def bench_env(*, log_level: str = "WARNING", database: str | None = None) -> dict[str, str]:
    """Environment for a Django process running `bench.settings` against the bench database
    (or `database`: the same one through a pooler).

    Variables the caller already exported (e.g. DATABASE_SERVER_SIDE_BINDING=1,
    DATABASE_POOL_SIZE) pass through, so a deployment choice can be measured without editing
    anything here.
    """
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "bench.settings",
            "DATABASE_URL": database or database_url(),
            "SECRET_KEY": "bench-only-" + "x" * 40,
            "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
            "SECURE_SSL_REDIRECT": "0",
            # Throttling stays in the request path (its cache round trip is part of the cost)
            # but never rejects: the load generator is one token.
            "RATE_LIMIT": "1000000000/second",
            "RATE_LIMIT_ADDRESS": "1000000000/second",
            # Production keeps the budgets in Redis (and refuses to start otherwise): the
            # limiter's round trips are part of the measured cost.
            "CACHE_URL": env.get("CACHE_URL", "redis://127.0.0.1:6379/0"),
            "RATE_LIMIT_KEY_PREFIX": "bench",
            "LOG_LEVEL": log_level,
            "PYTHONPATH": str(ROOT),
            # As the image sets them (docker/Dockerfile): glibc arenas otherwise let worker
            # memory creep under threads (bench/FAULT_AND_LOAD.md), and large pages' buffers
            # come from the heap rather than fresh mmap pages (docs/scaling.md).
            "MALLOC_ARENA_MAX": env.get("MALLOC_ARENA_MAX", "2"),
            "MALLOC_MMAP_THRESHOLD_": env.get("MALLOC_MMAP_THRESHOLD_", "4194304"),
            "MALLOC_TRIM_THRESHOLD_": env.get("MALLOC_TRIM_THRESHOLD_", "33554432"),
        }
    )
    return env
