"""Database fault drill: restart PostgreSQL under steady load and report what clients saw.

    .venv/bin/python -m bench.fault            # from the repository root, as root (pg_ctlcluster)
    .venv/bin/python -m bench.fault --no-restart   # the same without the restart (harness check)

What it does:
1. creates the database `FAULT_DATABASE_URL` (default postgres://postgres@127.0.0.1:5432/h_rel_fault)
   if missing, migrates it, loads `manage.py seed_demo` and creates a brand token for brand 1;
2. starts gunicorn with the production settings and `docker/gunicorn.conf.py` on 127.0.0.1;
3. drives steady load (FAULT_CLIENTS threads, persistent HTTP/1.1 connections, http.client) on
   ambassador 1's orders, restarts PostgreSQL (`pg_ctlcluster ... restart`) after FAULT_WARMUP
   seconds, and keeps the load going for FAULT_AFTER seconds after the restart returned;
4. reports every failed request by status, the outage as clients saw it and the time from
   "PostgreSQL accepts connections again" to the last failed request.

Target (exit status 0 when met): every failure is a 503 JSON `{"message"}` with `Retry-After`
(no 500, no connection error), and full recovery within FAULT_RECOVERY_TARGET seconds (5).

PostgreSQL is started again at the end whatever happens (also on Ctrl-C). This restarts the
machine's only cluster: other processes using it see their connections drop for a second or two.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
# The gunicorn of the running interpreter's environment (CI's throwaway venv, or .venv).
GUNICORN = Path(sys.executable).parent / "gunicorn"
OUT = ROOT / "bench" / "out"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/h_rel_fault"


def env_float(name: str, default: float) -> float:
    return float(os.environ.get(name, "") or default)


# --- PostgreSQL ---------------------------------------------------------------------------------


def pg_version() -> str:
    """The installed cluster's major version (`ls /etc/postgresql`), e.g. "15"."""
    versions = sorted(Path("/etc/postgresql").iterdir(), key=lambda p: int(p.name))
    return versions[-1].name


def pg_ctl(action: str) -> None:
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", pg_version(), "main", action],
        check=True,
        capture_output=True,
        text=True,
    )


def pg_is_up() -> bool:
    probe = subprocess.run(
        ["pg_isready", "-h", "127.0.0.1", "-p", "5432", "-t", "2"], capture_output=True, check=False
    )
    return probe.returncode == 0


def ensure_pg_running() -> None:
    """Leave PostgreSQL running, whatever happened."""
    if pg_is_up():
        return
    with contextlib.suppress(subprocess.CalledProcessError):
        pg_ctl("start")
    for _ in range(50):
        if pg_is_up():
            return
        time.sleep(0.2)
    print("WARNING: PostgreSQL is not answering; start it: pg_ctlcluster 15 main start")


# --- the service --------------------------------------------------------------------------------


def service_env(database_url: str) -> dict[str, str]:
    """Production settings, with what a test box lacks: no TLS in front, one token at full speed."""
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "platform_api.settings.production",
            "DATABASE_URL": database_url,
            "SECRET_KEY": "fault-drill-only-" + "x" * 48,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "0",
            "RATE_LIMIT": "1000000000/second",
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
        }
    )
    return env


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [str(PYTHON), "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return result.stdout


def prepare_database(database_url: str, env: dict[str, str]) -> str:
    """Create, migrate and seed the database; return a fresh brand-1 token's secret."""
    name = urlsplit(database_url).path.lstrip("/")
    exists = subprocess.run(
        [
            "psql",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-tAc",
            f"SELECT 1 FROM pg_database WHERE datname = '{name}'",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if exists != "1":
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name], check=True)
    manage(env, "migrate", "--noinput")
    print(manage(env, "seed_demo").strip())
    return manage(env, "create_token", "--kind", "brand", "--brand", "1").strip().splitlines()[-1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Server:
    port: int
    pid: int  # the gunicorn master


@contextlib.contextmanager
def gunicorn(
    env: dict[str, str], *, log_name: str, log_dir: Path = OUT, **settings: str
) -> Iterator[Server]:
    """gunicorn with docker/gunicorn.conf.py on a free local port, stopped on exit; its output
    goes to `log_dir / log_name`."""
    port = free_port()
    run_env = {
        **env,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
        **settings,
    }
    log_dir.mkdir(parents=True, exist_ok=True)
    log = (log_dir / log_name).open("w")
    process = subprocess.Popen(
        [str(GUNICORN), "-c", "docker/gunicorn.conf.py", "platform_api.wsgi:application"],
        cwd=ROOT,
        env=run_env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_until_ready(port, process, log_dir=log_dir)
        yield Server(port, process.pid)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def wait_until_ready(
    port: int, process: subprocess.Popen[Any], timeout: float = 60, log_dir: Path = OUT
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited with {process.returncode}; see {log_dir}")
        with contextlib.suppress(OSError, http.client.HTTPException):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/readyz")
            if connection.getresponse().status == 200:
                return
        time.sleep(0.2)
    raise SystemExit("gunicorn did not become ready")


# --- load ---------------------------------------------------------------------------------------


@dataclass
class Sample:
    started: float
    ended: float
    status: int | str  # an HTTP status, or the name of a connection-level error


@dataclass
class Load:
    """Client threads sending the same GET in a loop over persistent connections."""

    port: int
    path: str
    headers: dict[str, str]
    clients: int
    samples: list[Sample] = field(default_factory=list)
    examples: dict[int | str, dict[str, Any]] = field(default_factory=dict)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def run_client(self) -> None:
        connection: http.client.HTTPConnection | None = None
        while not self.stop.is_set():
            started = time.monotonic()
            example: dict[str, Any] | None = None
            try:
                if connection is None:
                    connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
                connection.request("GET", self.path, headers=self.headers)
                response = connection.getresponse()
                body = response.read()
                status: int | str = response.status
                if status != 200:
                    example = {
                        "content_type": response.getheader("Content-Type"),
                        "retry_after": response.getheader("Retry-After"),
                        "body": body[:200].decode("utf-8", "replace"),
                    }
                if response.will_close:
                    connection.close()
                    connection = None
            except (OSError, http.client.HTTPException) as exc:
                status = type(exc).__name__
                example = {"error": str(exc)[:200]}
                if connection is not None:
                    connection.close()
                connection = None
            with self.lock:
                self.samples.append(Sample(started, time.monotonic(), status))
                if example is not None:
                    self.examples.setdefault(status, example)
        if connection is not None:
            connection.close()

    @contextlib.contextmanager
    def running(self) -> Iterator[None]:
        threads = [threading.Thread(target=self.run_client) for _ in range(self.clients)]
        for thread in threads:
            thread.start()
        try:
            yield
        finally:
            self.stop.set()
            for thread in threads:
                thread.join()


def is_well_formed_503(example: dict[str, Any]) -> bool:
    try:
        message = json.loads(example["body"]).get("message")
    except (ValueError, KeyError):
        return False
    return (
        example.get("content_type") == "application/json"
        and bool(example.get("retry_after"))
        and isinstance(message, str)
    )


def interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main() -> int:
    # --no-restart: the same run without touching PostgreSQL (checks the harness itself).
    restart = "--no-restart" not in sys.argv[1:]
    # SIGTERM as Ctrl-C, so that the `finally` blocks (PostgreSQL, gunicorn) run.
    signal.signal(signal.SIGTERM, interrupt)
    database_url = os.environ.get("FAULT_DATABASE_URL", DEFAULT_DATABASE_URL)
    clients = int(env_float("FAULT_CLIENTS", 4))
    warmup = env_float("FAULT_WARMUP", 5)
    after = env_float("FAULT_AFTER", 10)
    target = env_float("FAULT_RECOVERY_TARGET", 5)
    env = service_env(database_url)

    ensure_pg_running()
    secret = prepare_database(database_url, env)
    path = "/api/v2/platform/ambassadors/1/orders"
    try:
        with gunicorn(env, log_name="fault_gunicorn.log") as server:
            load = Load(server.port, path, {"Authorization": f"Bearer {secret}"}, clients)
            with load.running():
                time.sleep(warmup)
                restart_started = time.monotonic()
                if restart:
                    pg_ctl("restart")
                restart_ended = time.monotonic()
                time.sleep(after)
    finally:
        ensure_pg_running()

    samples = sorted(load.samples, key=lambda s: s.started)
    failed = [s for s in samples if s.status != 200]
    statuses = Counter(s.status for s in samples)
    failures = Counter(s.status for s in failed)
    warm = [s for s in samples if s.ended < restart_started]
    print()
    print(
        f"PostgreSQL {pg_version()} restart took {restart_ended - restart_started:.2f} s "
        f"(pg_ctlcluster, fast shutdown), {clients} clients, {warmup:.0f} s before, "
        f"{after:.0f} s after"
    )
    print(
        f"requests: {len(samples)} ({len(warm) / warmup:.0f}/s before the restart); "
        f"by status: {dict(statuses)}"
    )
    if failed:
        outage = failed[-1].ended - failed[0].started
        recovery = max(0.0, failed[-1].ended - restart_ended)
        print(
            f"failed: {len(failed)} {dict(failures)}; first failure "
            f"{failed[0].started - restart_started:+.2f} s after the restart began, last one "
            f"{failed[-1].ended - restart_started:+.2f} s; outage seen by clients "
            f"{outage:.2f} s"
        )
        print(f"recovery: every request succeeded from {recovery:.2f} s after PostgreSQL was back")
    else:
        recovery = 0.0
        print("failed: none")
    for status, example in load.examples.items():
        print(f"  example {status}: {json.dumps(example)}")
    only_503 = set(failures) <= {503} and all(
        is_well_formed_503(example) for status, example in load.examples.items() if status == 503
    )
    recovered_after = [s for s in samples if s.started > restart_ended + recovery]
    recovered = recovery <= target and bool(recovered_after)
    print(
        f"target: only 503 JSON with Retry-After during the outage: "
        f"{'met' if only_503 else 'MISSED'}; recovery within {target:.0f} s: "
        f"{'met' if recovered else 'MISSED'}"
    )
    return 0 if only_503 and recovered else 1


if __name__ == "__main__":
    sys.exit(main())
