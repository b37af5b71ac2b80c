"""Where the machine's CPU goes during one measurement: the served processes, PostgreSQL's
backends, Redis, the load generator, and everything else, per request.

`bench/run.py` wraps each wrk and pgbench measurement in `CpuWindow`. On a machine where the
service and PostgreSQL share the cores, rps is bounded by CPU per request, so the floor's CPU per
statement over the service's CPU per request is the ratio the service can reach at best; the
"other" share says how quiet the machine was (other people's jobs, kernel threads).
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of one process (0 once it has gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def machine_busy_s() -> float:
    """CPU seconds the whole machine spent not idle, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    # guest time is already counted in user; steal is time we did not get.
    return (sum(values[:8]) - idle - values[7]) / CLOCK_TICKS


def pids_named(name: str) -> list[int]:
    result = subprocess.run(["pgrep", "-x", name], capture_output=True, text=True, check=False)
    return [int(pid) for pid in result.stdout.split()]


def process_group(pgid: int) -> list[int]:
    result = subprocess.run(["pgrep", "-g", str(pgid)], capture_output=True, text=True, check=False)
    return [int(pid) for pid in result.stdout.split()]


def database_backends(url: str) -> list[int]:
    """PostgreSQL's backends connected to `url`'s database, other than this probe's own."""
    with psycopg.connect(url, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT pid FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return [row[0] for row in rows]


@dataclass
class CpuShare:
    """CPU seconds per group over `window_s` seconds of a measurement."""

    window_s: float = 0.0
    seconds: dict[str, float] = field(default_factory=dict)

    def per_request_ms(self, rps: float) -> dict[str, float]:
        requests = rps * self.window_s
        if not requests:
            return {}
        return {name: 1000 * value / requests for name, value in self.seconds.items()}

    def total_ms(self, rps: float) -> float:
        """CPU per request of the measured groups, without the machine's "other" time."""
        return sum(v for k, v in self.per_request_ms(rps).items() if k != "other")


class CpuWindow:
    """Samples CPU between `settle` seconds after the start of a measurement of `duration`
    seconds and `settle` seconds before its end, while the load runs in the caller's thread.

    `groups` maps a group name to a function returning its pids; it is called once the load has
    started, so that connections the load opens (pgbench's backends) are there to be found.
    """

    def __init__(
        self, duration: float, groups: dict[str, Callable[[], list[int]]], settle: float = 1.0
    ) -> None:
        self.settle = min(settle, duration / 4)
        self.window = duration - 2 * self.settle
        self.groups = groups
        self.share = CpuShare()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> CpuWindow:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._thread.join(timeout=self.settle + 30)

    def _sample(self) -> None:
        time.sleep(self.settle)
        try:
            pids = {name: find() for name, find in self.groups.items()}
        except (OSError, psycopg.Error):
            return  # no split for this measurement rather than a wrong one
        started = time.monotonic()
        before = {name: sum(map(process_cpu_s, found)) for name, found in pids.items()}
        busy_before = machine_busy_s()
        time.sleep(self.window)
        after = {name: sum(map(process_cpu_s, found)) for name, found in pids.items()}
        busy = machine_busy_s() - busy_before
        seconds = {name: after[name] - before[name] for name in pids}
        seconds["other"] = max(0.0, busy - sum(seconds.values()))
        self.share = CpuShare(window_s=time.monotonic() - started, seconds=seconds)
