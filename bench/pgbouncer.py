"""A throwaway PgBouncer (Debian's `pgbouncer`) in front of a PostgreSQL server, for the
benchmark and the tests: its own config in a temporary directory, a free loopback port,
stopped on exit. Never the system's pgbouncer service.

    with pgbouncer.running(postgres_url, pool_mode="transaction") as bouncer:
        bouncer.url("dbname")   # postgres://user@127.0.0.1:<port>/dbname

Clients are not authenticated (`auth_type = trust`, loopback only); PgBouncer logs in to
PostgreSQL with the URL's user and password. As root, PgBouncer refuses to run unless told to
switch user (`-u nobody`); it reads its config before switching, and logs to stderr.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import psycopg


@dataclass(frozen=True)
class Bouncer:
    port: int
    user: str
    log: Path

    def url(self, dbname: str) -> str:
        """A URL for `dbname` through this PgBouncer."""
        return f"postgres://{quote(self.user)}@127.0.0.1:{self.port}/{quote(dbname)}"


def executable() -> str | None:
    """Where Debian's pgbouncer is (it installs to /usr/sbin, not always on PATH), or None."""
    return shutil.which("pgbouncer") or shutil.which("pgbouncer", path="/usr/sbin:/usr/bin")


def version() -> str:
    """`pgbouncer --version`'s first line, e.g. "PgBouncer 1.18.0"."""
    binary = executable()
    if binary is None:
        return "pgbouncer not installed"
    result = subprocess.run(
        [binary, "--version"], capture_output=True, text=True, check=False, timeout=10
    )
    return result.stdout.strip().splitlines()[0] if result.stdout.strip() else "unknown"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _config(postgres_url: str, port: int, pool_mode: str, pool_size: int, auth_file: Path) -> str:
    parts = urlsplit(postgres_url)
    user = unquote(parts.username or "postgres")
    server = [f"host={parts.hostname or '127.0.0.1'}", f"port={parts.port or 5432}"]
    if parts.username:
        server.append(f"user={unquote(parts.username)}")
    if parts.password:
        server.append(f"password={unquote(parts.password)}")
    return "\n".join(
        [
            "[databases]",
            f"* = {' '.join(server)}",
            "[pgbouncer]",
            "listen_addr = 127.0.0.1",
            f"listen_port = {port}",
            "unix_socket_dir =",
            "auth_type = trust",
            f"auth_file = {auth_file}",
            # The readiness probe connects to the admin console (database `pgbouncer`).
            f"admin_users = {user}",
            f"pool_mode = {pool_mode}",
            f"default_pool_size = {pool_size}",
            "max_client_conn = 200",
            # Fail fast in tests instead of queueing clients for PgBouncer's default 120 s.
            "query_wait_timeout = 30",
            "",
        ]
    )


@contextlib.contextmanager
def running(
    postgres_url: str,
    *,
    pool_mode: str = "transaction",
    pool_size: int = 2,
    log: Path | None = None,
    timeout: float = 20,
) -> Iterator[Bouncer]:
    """PgBouncer forwarding every database name to the server of `postgres_url`."""
    binary = executable()
    if binary is None:
        raise RuntimeError("pgbouncer is not installed (apt-get install pgbouncer)")
    user = unquote(urlsplit(postgres_url).username or "postgres")
    with tempfile.TemporaryDirectory(prefix="pgbouncer-") as directory:
        workdir = Path(directory)
        auth_file = workdir / "users.txt"
        auth_file.write_text(f'"{user}" ""\n')
        port = _free_port()
        config = workdir / "pgbouncer.ini"
        config.write_text(_config(postgres_url, port, pool_mode, pool_size, auth_file))
        log_path = log or workdir / "pgbouncer.log"
        command = [binary, str(config)]
        if os.geteuid() == 0:
            command[1:1] = ["-u", "nobody"]
        with log_path.open("w") as log_file:
            process = subprocess.Popen(
                command, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True
            )
            try:
                bouncer = Bouncer(port=port, user=user, log=log_path)
                _wait_until_ready(process, bouncer, timeout)
                yield bouncer
            finally:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def _wait_until_ready(process: subprocess.Popen[bytes], bouncer: Bouncer, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"pgbouncer exited with {process.returncode}: {bouncer.log.read_text()[-2000:]}"
            )
        try:
            # The admin console answers without a server connection.
            with psycopg.connect(bouncer.url("pgbouncer"), connect_timeout=2, autocommit=True):
                return
        except psycopg.Error:
            time.sleep(0.1)
    raise RuntimeError(f"pgbouncer did not answer within {timeout:.0f} s")
