"""What the smallest Django request costs under a WSGI server: the CPU floor under the service.

    .venv/bin/python bench/django_floor.py [--duration 8] [--rounds 2] [--servers sync,bjoern]

Serves, with no database, no middleware and no authentication, a body of S1's size (55,685
bytes, a constant) from three apps, each under gunicorn's sync worker (docker/gunicorn.conf.py's
class, 2 workers) and under bjoern (2 forked processes; `pip install bjoern-binary` first):

- `wsgi`: a bare WSGI callable (the server's own cost);
- `django`: Django's WSGIHandler, one URL pattern, a function view returning an HttpResponse;
- `drf`: the same URL routed to a DRF `APIView` (no authentication, no permissions, no
  throttles, no content negotiation beyond the default) returning the same bytes.

wrk (2 threads, 8 connections, as bench/run.py) loads each for `--duration` seconds after 3 of
warm-up; the server processes' CPU time (`/proc/PID/stat`) over the measurement, divided by the
requests, is the CPU per request that no change to the service's own code can go below
(docs/scaling.md, "WSGI servers side by side"). An ad-hoc tool: bench/run.py remains the benchmark.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.cpu_split import process_cpu_s  # noqa: E402
from bench.fault import free_port  # noqa: E402

VENV = ROOT / ".venv" / "bin"
BODY_BYTES = 55_685

APP = """
import django
from django.conf import settings

BODY = b'{"data":"' + b"x" * (BODY_BYTES - 11) + b'"}'
HEADERS = [("Content-Type", "application/json"), ("Content-Length", str(len(BODY)))]


def wsgi(environ, start_response):
    start_response("200 OK", HEADERS)
    return [BODY]


settings.configure(
    DEBUG=False,
    SECRET_KEY="floor",
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=[],
    INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "rest_framework"],
    DATABASES={},
    REST_FRAMEWORK={
        "DEFAULT_AUTHENTICATION_CLASSES": [],
        "DEFAULT_PERMISSION_CLASSES": [],
        "DEFAULT_THROTTLE_CLASSES": [],
        "UNAUTHENTICATED_USER": None,
    },
)
django.setup()

from django.core.handlers.wsgi import WSGIHandler
from django.http import HttpResponse
from django.urls import path
from rest_framework.views import APIView


def view(request, pk):
    return HttpResponse(BODY, content_type="application/json")


class Floor(APIView):
    def get(self, request, pk):
        return HttpResponse(BODY, content_type="application/json")


urlpatterns = [
    path("api/v2/platform/ambassadors/<int:pk>/orders", view),
    path("drf/ambassadors/<int:pk>/orders", Floor.as_view()),
]
django_app = WSGIHandler()
""".replace("BODY_BYTES", str(BODY_BYTES))

BJOERN = """
import os, signal, sys
port, workers, name = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
children = []
for _ in range(workers):
    pid = os.fork()
    if pid == 0:
        import bjoern, floor_app
        bjoern.listen(getattr(floor_app, name), "127.0.0.1", port, reuse_port=True)
        bjoern.run()
        os._exit(0)
    children.append(pid)
def stop(*_):
    for child in children:
        try:
            os.kill(child, signal.SIGKILL)
        except ProcessLookupError:
            pass
    sys.exit(0)
signal.signal(signal.SIGTERM, stop)
for child in children:
    os.waitpid(child, 0)
"""

PATHS = {
    "wsgi": "/api/v2/platform/ambassadors/7/orders",
    "django": "/api/v2/platform/ambassadors/7/orders",
    "drf": "/drf/ambassadors/7/orders",
}


def group(pgid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-g", str(pgid)], capture_output=True, text=True).stdout
    return [int(pid) for pid in out.split()]


def measure(folder: str, server: str, app: str, duration: int) -> tuple[float, float]:
    """(requests/s, server CPU ms per request) of one app under one server."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": folder}
    target = "floor_app:django_app" if app in ("django", "drf") else "floor_app:wsgi"
    if server == "sync":
        command = [
            str(VENV / "gunicorn"), "--workers", "2", "--worker-class", "sync",
            "--bind", f"127.0.0.1:{port}", "--log-level", "warning", target,
        ]  # fmt: skip
    else:
        name = target.split(":")[1]
        command = [str(VENV / "python"), "-c", BJOERN, str(port), "2", name]
    process = subprocess.Popen(command, cwd=folder, env=env, start_new_session=True)
    url = f"http://127.0.0.1:{port}{PATHS[app]}"
    try:
        for _ in range(100):
            try:
                with urllib.request.urlopen(url, timeout=2) as answer:
                    assert len(answer.read()) == BODY_BYTES
                break
            except OSError:
                time.sleep(0.1)
        wrk = ["wrk", "-t2", "-c8"]
        subprocess.run([*wrk, "-d3s", url], capture_output=True, check=True)
        pids = group(process.pid)
        before = sum(process_cpu_s(pid) for pid in pids)
        out = subprocess.run(
            [*wrk, f"-d{duration}s", url], capture_output=True, text=True, check=True
        ).stdout
        cpu = sum(process_cpu_s(pid) for pid in pids) - before
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    found = re.search(r"(\d+) requests in", out)
    if found is None:
        raise SystemExit(f"{server}/{app}: no request count in wrk's output:\n{out}")
    requests = int(found.group(1))
    if "Non-2xx" in out or "Socket errors" in out:
        raise SystemExit(f"{server}/{app}: errors under wrk:\n{out}")
    return requests / duration, cpu / requests * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--servers", default="sync,bjoern")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "floor_app.py").write_text(APP)
        results: dict[tuple[str, str], list[tuple[float, float]]] = {}
        cases = [(s, a) for s in args.servers.split(",") for a in ("wsgi", "django", "drf")]
        for round_ in range(args.rounds):
            for server, app in cases if round_ % 2 == 0 else cases[::-1]:
                rps, ms = measure(folder, server, app, args.duration)
                results.setdefault((server, app), []).append((rps, ms))
                print(f"{server:6} {app:6} round {round_ + 1}: {rps:8.0f} rps, {ms:.3f} ms CPU/req")
        print(f"\nload average after: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
        print("| server | app | rps (median) | server CPU ms per request (median) |")
        print("|---|---|---|---|")
        for (server, app), runs in results.items():
            rps = statistics.median(r for r, _ in runs)
            ms = statistics.median(m for _, m in runs)
            print(f"| {server} | {app} | {rps:,.0f} | {ms:.3f} |")


if __name__ == "__main__":
    main()
