"""nginx with the deployment's template (docker/nginx/) in front of a gunicorn the benchmark
started: what `bench/run.py --targets proxy` measures against the same gunicorn directly.

Debian's nginx in the foreground with a private prefix, pid and temp paths under bench/out/,
never the system configuration (as scripts/stack.sh runs it).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from string import Template
from urllib.parse import urlsplit

from bench.env import OUT, ROOT

TEMPLATE = ROOT / "docker" / "nginx" / "platform-api.conf.template"

MAIN = """daemon off;
worker_processes 1;
pid $prefix/nginx.pid;
error_log stderr warn;
events { worker_connections 4096; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    client_body_temp_path $prefix/temp/body;
    proxy_temp_path $prefix/temp/proxy;
    fastcgi_temp_path $prefix/temp/fastcgi;
    uwsgi_temp_path $prefix/temp/uwsgi;
    scgi_temp_path $prefix/temp/scgi;
    # The benchmark's requests log nowhere (the service's own log level is what is measured).
    access_log off;
    include $prefix/platform-api.conf;
}
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def nginx_in_front(upstream_base: str) -> Iterator[str]:
    """Yields the base URL of an nginx proxying to `upstream_base` (http://127.0.0.1:PORT)."""
    if shutil.which("nginx") is None:
        raise SystemExit("nginx is not installed (apt-get install -y nginx)")
    upstream = urlsplit(upstream_base)
    port = _free_port()
    prefix = OUT / "nginx"
    (prefix / "temp").mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(prefix / "temp", user="nobody")
    server = Template(TEMPLATE.read_text()).safe_substitute(
        NGINX_LISTEN=f"127.0.0.1:{port}", APP_UPSTREAM=f"{upstream.hostname}:{upstream.port}"
    )
    # The measured nginx logs nothing per request; the template's access log goes to stdout.
    (prefix / "platform-api.conf").write_text(
        server.replace("access_log /dev/stdout platform_json;", "access_log off;")
    )
    user = "user nobody nogroup;\n" if os.geteuid() == 0 else ""
    (prefix / "nginx.conf").write_text(user + MAIN.replace("$prefix", str(prefix)))
    log = (OUT / "nginx.log").open("w")
    process = subprocess.Popen(
        ["nginx", "-e", "stderr", "-p", str(prefix), "-c", str(prefix / "nginx.conf")],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=2).read()  # noqa: S310
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"nginx did not start: see {OUT / 'nginx.log'}") from None
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
