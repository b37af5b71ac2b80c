"""docker/nginx/real-ip.sh and the template's realip include: who nginx says the client is.

The script's output is checked as text; then Debian's nginx runs the deployment's template in
front of a small upstream that echoes the forwarding headers it received. Without nginx these
skip, unless REQUIRE_NGINX=1 (CI installs it).
"""

from __future__ import annotations

import http.server
import json
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from string import Template

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "docker" / "nginx" / "real-ip.sh"
TEMPLATE = ROOT / "docker" / "nginx" / "platform-api.conf.template"
BALANCER = "127.0.0.1"  # the test's requests come from loopback: the "balancer" is loopback


def run_script(output: Path, value: str | None) -> subprocess.CompletedProcess[str]:
    env = {key: val for key, val in os.environ.items() if key != "NGINX_REAL_IP_FROM"}
    if value is not None:
        env["NGINX_REAL_IP_FROM"] = value
    return subprocess.run(  # noqa: S603 - the project's script, the test's own values
        ["/bin/sh", str(SCRIPT), str(output)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize("value", [None, "", " , "])
def test_unset_writes_no_file_and_removes_an_old_one(tmp_path, value):
    output = tmp_path / "real-ip" / "platform.conf"
    output.parent.mkdir()
    output.write_text("set_real_ip_from 10.0.0.0/8;\n")

    result = run_script(output, value)

    assert result.returncode == 0, result.stderr
    assert not output.exists()


def test_each_network_is_trusted_and_the_header_is_read_recursively(tmp_path):
    output = tmp_path / "real-ip" / "platform.conf"

    result = run_script(output, "10.0.0.0/8, 192.168.1.7,2001:db8::/32")

    assert result.returncode == 0, result.stderr
    directives = [line for line in output.read_text().splitlines() if not line.startswith("#")]
    assert directives == [
        "set_real_ip_from 10.0.0.0/8;",
        "set_real_ip_from 192.168.1.7;",
        "set_real_ip_from 2001:db8::/32;",
        "real_ip_header X-Forwarded-For;",
        "real_ip_recursive on;",
    ]


@pytest.mark.parametrize(
    "value", ["10.0.0.0/8;include /etc/passwd", "balancer.internal", "10.0.0.0/8 all"]
)
def test_anything_but_an_address_or_network_is_refused(tmp_path, value):
    output = tmp_path / "platform.conf"

    result = run_script(output, value)

    assert result.returncode == 1
    assert "is not an address or a CIDR network" in result.stderr
    assert not output.exists()


# --- nginx itself --------------------------------------------------------------------------------


class EchoForwarding(http.server.BaseHTTPRequestHandler):
    """Answers with the forwarding headers nginx sent, as JSON."""

    def do_GET(self) -> None:
        body = json.dumps(
            {name: self.headers.get(name) for name in ("X-Forwarded-For", "X-Real-IP")}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def upstream() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), EchoForwarding)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture
def nginx_with(tmp_path, upstream):
    """Starts nginx with the deployment's template, NGINX_REAL_IP_FROM set to the argument."""
    if shutil.which("nginx") is None:
        if os.environ.get("REQUIRE_NGINX") == "1":
            pytest.fail("nginx is not installed (REQUIRE_NGINX=1: CI must run these)")
        pytest.skip("nginx is not installed (apt-get install -y nginx)")
    processes: list[subprocess.Popen[bytes]] = []

    def start(real_ip_from: str | None) -> str:
        prefix = tmp_path / "nginx"
        (prefix / "temp").mkdir(parents=True)
        if os.geteuid() == 0:
            shutil.chown(prefix / "temp", user="nobody")
        port = free_port()
        server = Template(TEMPLATE.read_text()).safe_substitute(
            NGINX_LISTEN=f"127.0.0.1:{port}", APP_UPSTREAM=f"127.0.0.1:{upstream}"
        )
        (prefix / "platform-api.conf").write_text(server)
        script = run_script(prefix / "real-ip" / "platform.conf", real_ip_from)
        assert script.returncode == 0, script.stderr
        user = "user nobody nogroup;\n" if os.geteuid() == 0 else ""
        (prefix / "nginx.conf").write_text(
            f"""{user}daemon off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log stderr warn;
events {{ worker_connections 64; }}
http {{
    client_body_temp_path {prefix}/temp/body;
    proxy_temp_path {prefix}/temp/proxy;
    fastcgi_temp_path {prefix}/temp/fastcgi;
    uwsgi_temp_path {prefix}/temp/uwsgi;
    scgi_temp_path {prefix}/temp/scgi;
    include {prefix}/platform-api.conf;
}}
"""
        )
        command = ["nginx", "-e", "stderr", "-p", str(prefix), "-c", str(prefix / "nginx.conf")]
        checked = subprocess.run(  # noqa: S603 - nginx with the test's own configuration
            [*command, "-t", "-q"], capture_output=True, text=True, check=False
        )
        assert checked.returncode == 0, checked.stderr
        processes.append(
            subprocess.Popen(  # noqa: S603 - as above
                command,
                stdout=(prefix / "access.log").open("wb"),
                stderr=subprocess.DEVNULL,
            )
        )
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/api/", timeout=1).read()  # noqa: S310 - http://
                break
            except OSError:
                time.sleep(0.05)
        return base

    yield start
    for process in processes:
        process.terminate()
        process.wait(timeout=10)


def forwarded(base: str, claimed: str) -> dict[str, str]:
    url = base + "/api/echo"  # http://127.0.0.1:<port>, the test's nginx
    request = urllib.request.Request(url, headers={"X-Forwarded-For": claimed})  # noqa: S310
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
        answer: dict[str, str] = json.load(response)
    return answer


def test_without_a_balancer_a_claimed_address_is_ignored(nginx_with):
    base = nginx_with(None)

    assert forwarded(base, "203.0.113.7") == {
        "X-Forwarded-For": "127.0.0.1",
        "X-Real-IP": "127.0.0.1",
    }


def test_behind_a_balancer_the_client_is_the_address_it_saw(nginx_with, tmp_path):
    base = nginx_with(f"{BALANCER},10.0.0.0/8")

    # The client's own hop claims 198.51.100.1; the balancer appends what it saw.
    answer = forwarded(base, "198.51.100.1, 203.0.113.7")

    assert answer == {"X-Forwarded-For": "203.0.113.7", "X-Real-IP": "203.0.113.7"}
    assert echo_log_line(tmp_path / "nginx" / "access.log")["client"] == "203.0.113.7"


def echo_log_line(log: Path) -> dict[str, str]:
    """The access log's line for /api/echo: nginx writes it once the response is sent, so a
    loaded machine can let the client read the answer first."""
    deadline = time.monotonic() + 10
    while True:
        for line in log.read_text().splitlines():
            entry: dict[str, str] = json.loads(line)
            if entry.get("path") == "/api/echo":
                return entry
        assert time.monotonic() < deadline, f"no access log line for /api/echo: {log.read_text()}"
        time.sleep(0.05)
