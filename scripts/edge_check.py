"""The edge, tried as an attacker would, against a running `scripts/stack.sh` (docs/edge.md).

    python scripts/edge_check.py --base http://127.0.0.1:PORT --token pat_... --stack-dir DIR

Run by scripts/edge-check.sh (which starts and stops the stack) from .ci/run. Checks, each
bounded in count and time, each printing what it measured:

1. slow clients: with 500 idle connections, 100 sending their headers a byte a second and 20 not
   reading a 1.4 MB answer, 50 legitimate requests answer with a p99 under --p99-ms; and once
   they close, the service answers as before;
2. rate limits: 2,000 requests from 32 connections across both workers against a budget of 600
   are allowed at most 606 times, per token and per client address; a spoofed X-Forwarded-For
   changes nothing;
3. hostile HTTP (long request line, huge headers, invalid bytes...): JSON bodies with the right
   status, through the proxy;
4. connections: one address holding slow-body requests is capped (nginx's limit_conn), the
   excess refused in JSON, and another address is still served;
5. admin: locked after the configured failures (even for the right password) while 8 guessing
   loops run, and the API keeps its latency.

Standard library only; exits non-zero on the first failed check.
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import math
import os
import re
import select
import shlex
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
ORDERS = "/api/v2/platform/ambassadors/1/orders?per_page=5"
# The largest static file the service serves without a token (drf-spectacular-sidecar).
BIG_ASSET = "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"
SLOW_HEADER_SECONDS = 8  # below nginx's client_header_timeout (10 s): they stay open throughout


class CheckFailed(Exception):
    pass


def say(message: str) -> None:
    print(f"==> [edge-check] {message}", flush=True)


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


def p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]


class Stack:
    def __init__(self, base: str, token: str, stack_dir: Path) -> None:
        parts = urlsplit(base)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.token = token
        self.stack_dir = stack_dir

    def connection(self, timeout: float = 10) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def get(
        self, path: str, headers: dict[str, str] | None = None, timeout: float = 10
    ) -> tuple[int, dict[str, str], bytes]:
        conn = self.connection(timeout)
        try:
            conn.request("GET", path, headers=headers or {})
            response = conn.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            conn.close()

    def authorized(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def timed_requests(self, count: int) -> list[float]:
        """`count` legitimate requests one after another on fresh connections; ms each."""
        durations = []
        for _ in range(count):
            started = time.perf_counter()
            try:
                status, _, _ = self.get(ORDERS, self.authorized(), timeout=15)
            except TimeoutError:
                raise CheckFailed("a legitimate request got no answer within 15 s") from None
            durations.append((time.perf_counter() - started) * 1000)
            expect(status == 200, f"a legitimate request answered {status}")
        return durations

    def manage(self, *args: str, env: dict[str, str] | None = None) -> str:
        """`manage.py` against the stack's database and settings ($STACK_DIR/env)."""
        python = shlex.quote(sys.executable)
        command = f". {shlex.quote(str(self.stack_dir / 'env'))} && exec {python} manage.py " + (
            " ".join(shlex.quote(arg) for arg in args)
        )
        result = subprocess.run(  # noqa: S603
            ["bash", "-c", command],  # noqa: S607
            cwd=ROOT,
            env={**os.environ, **(env or {})},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        expect(result.returncode == 0, f"manage.py {args[0]} failed: {result.stderr[-500:]}")
        return result.stdout

    def new_token(self) -> str:
        return (
            self.manage("create_token", "--kind", "brand", "--brand", "1").strip().splitlines()[-1]
        )


# --- 1. Slow clients ---------------------------------------------------------------------------


@contextmanager
def hostile_connections(
    stack: Stack, idle: int, slow_headers: int, slow_readers: int
) -> Iterator[None]:
    sockets: list[socket.socket] = []
    stop = threading.Event()

    def open_socket(receive_buffer: int | None = None) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if receive_buffer:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        sock.settimeout(5)
        sock.connect((stack.host, stack.port))
        sockets.append(sock)
        return sock

    for _ in range(idle):
        open_socket()  # connects and sends nothing
    trickling = [open_socket() for _ in range(slow_headers)]
    for sock in trickling:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    for _ in range(slow_readers):
        sock = open_socket(receive_buffer=4096)
        sock.sendall(f"GET {BIG_ASSET} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        sock.recv(1)  # the answer has started; the rest is never read

    def trickle() -> None:
        # One more header byte per connection per second, never the blank line that ends them.
        while not stop.wait(1):
            for sock in trickling:
                with suppress(OSError):  # closed by nginx's client_header_timeout
                    sock.sendall(b"X")

    sender = threading.Thread(target=trickle, daemon=True)
    sender.start()
    try:
        yield
    finally:
        stop.set()
        sender.join(5)
        for sock in sockets:
            sock.close()


def check_slow_clients(stack: Stack, p99_limit_ms: float) -> None:
    say("slow clients: a baseline of 50 legitimate requests (after 20 to warm the workers up)")
    stack.timed_requests(20)
    baseline = stack.timed_requests(50)
    say(f"  baseline p50 {statistics.median(baseline):.1f} ms, p99 {p99(baseline):.1f} ms")

    started = time.monotonic()
    with hostile_connections(stack, idle=500, slow_headers=100, slow_readers=20):
        opened = time.monotonic() - started
        say(f"  500 idle + 100 slow-header + 20 slow-reader connections open ({opened:.1f} s)")
        under_attack = stack.timed_requests(50)
        elapsed = time.monotonic() - started
        expect(
            elapsed < SLOW_HEADER_SECONDS,
            f"the requests took until {elapsed:.1f} s: past the time the attack is sure to last",
        )
    attacked_p99 = p99(under_attack)
    # A machine whose own p99 is already near the limit (a shared CI host) cannot show the
    # attack's effect against it: then the attack may cost at most half the baseline again.
    limit = max(p99_limit_ms, 1.5 * p99(baseline))
    say(
        f"  under attack p50 {statistics.median(under_attack):.1f} ms, p99 {attacked_p99:.1f} ms"
        f" (limit {limit:.0f} ms)"
    )
    expect(attacked_p99 < limit, f"p99 {attacked_p99:.1f} ms under attack")

    after = stack.timed_requests(20)
    say(f"  after they closed p50 {statistics.median(after):.1f} ms, p99 {p99(after):.1f} ms")
    expect(p99(after) < limit, f"p99 {p99(after):.1f} ms once the attack closed")


# --- 2. Rate limits ------------------------------------------------------------------------------


def hammer(
    stack: Stack, requests: int, connections: int, headers: Callable[[int], dict[str, str]]
) -> dict[int, int]:
    """`requests` GETs of the orders endpoint over `connections` keep-alive connections;
    how many answered each status."""
    counts: dict[int, int] = {}
    lock = threading.Lock()
    per_connection = [
        requests // connections + (i < requests % connections) for i in range(connections)
    ]
    deadline = time.monotonic() + 180

    def run(index: int) -> None:
        conn = stack.connection(timeout=30)
        try:
            for number in range(per_connection[index]):
                if time.monotonic() > deadline:
                    return
                conn.request(
                    "GET",
                    "/api/v2/platform/ambassadors/1/orders?per_page=1",
                    headers=headers(number),
                )
                response = conn.getresponse()
                response.read()
                with lock:
                    counts[response.status] = counts.get(response.status, 0) + 1
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = stack.connection(timeout=30)
        finally:
            conn.close()

    with ThreadPoolExecutor(max_workers=connections) as pool:
        list(pool.map(run, range(connections)))
    expect(sum(counts.values()) == requests, f"only {sum(counts.values())} of {requests} answered")
    return counts


def workers_seen(stack: Stack) -> int:
    """gunicorn worker processes that answered requests (from its own log's boot lines)."""
    log = (stack.stack_dir / "gunicorn.log").read_text(errors="replace")
    return len(set(re.findall(r"Booting worker with pid: (\d+)", log)))


def check_rate_limits(stack: Stack, budget: int) -> None:
    ceiling = budget + budget // 100
    say(f"rate limits: 2,000 requests, 32 connections, budget {budget} (at most {ceiling} allowed)")
    token = stack.new_token()
    started = time.monotonic()
    counts = hammer(stack, 2000, 32, lambda _: {"Authorization": f"Bearer {token}"})
    allowed = counts.get(200, 0)
    say(f"  per token: {counts} in {time.monotonic() - started:.1f} s")
    expect(budget <= allowed <= ceiling, f"the token was allowed {allowed} times")
    expect(counts.get(429, 0) == 2000 - allowed, f"not every refusal was a 429: {counts}")

    # Calls without a valid token (none, then a wrong one) from one address, each spoofing a
    # new X-Forwarded-For: the address is still 127.0.0.1, as nginx alone says.
    def anonymous(number: int) -> dict[str, str]:
        headers = {"X-Forwarded-For": f"203.0.{number % 250}.{number % 200 + 1}"}
        if number % 2:
            headers["Authorization"] = (
                "Bearer pat_abcdefghij_wrongwrongwrongwrongwrongwrongwrongwrong1"
            )
        return headers

    started = time.monotonic()
    counts = hammer(stack, 2000, 32, anonymous)
    allowed = counts.get(401, 0)
    say(f"  per address, X-Forwarded-For spoofed: {counts} in {time.monotonic() - started:.1f} s")
    expect(budget <= allowed <= ceiling, f"the address was allowed {allowed} times")
    status, headers, body = stack.get(ORDERS, {"X-Forwarded-For": "198.51.100.77"})
    expect(status == 429, f"a spoofed X-Forwarded-For got a fresh budget: {status}")
    expect(json.loads(body) == {"message": "Too Many Attempts."}, f"429 body {body!r}")
    for name in ("Retry-After", "X-RateLimit-Reset", "X-RateLimit-Limit", "X-RateLimit-Remaining"):
        expect(name in headers, f"429 without {name}")
    say(f"  workers that booted: {workers_seen(stack)}")


# --- 3. Hostile HTTP -----------------------------------------------------------------------------

HOST = b"Host: 127.0.0.1\r\n"
HOSTILE = {
    "request line of 9,000 bytes": (
        b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n" + HOST + b"\r\n",
        414,
    ),
    "query string of 20,000 bytes": (
        b"GET /healthz?" + b"a=1&" * 5000 + b" HTTP/1.1\r\n" + HOST + b"\r\n",
        414,
    ),
    "header of 9,000 bytes": (
        b"GET /healthz HTTP/1.1\r\n" + HOST + b"X-A: " + b"a" * 9000 + b"\r\n\r\n",
        431,
    ),
    "headers of 40 KB in all": (
        b"GET /healthz HTTP/1.1\r\n"
        + HOST
        + b"".join(b"X-%d: %s\r\n" % (i, b"a" * 7000) for i in range(6))
        + b"\r\n",
        431,
    ),
    "Authorization of 9,000 bytes": (
        b"GET /healthz HTTP/1.1\r\n" + HOST + b"Authorization: Bearer " + b"a" * 9000 + b"\r\n\r\n",
        431,
    ),
    "raw byte 0xff in the path": (b"GET /api/\xff HTTP/1.1\r\n" + HOST + b"\r\n", 400),
    "raw bytes in the query": (
        b"GET " + ORDERS.encode() + b"&q=\xc3\x28 HTTP/1.1\r\n" + HOST + b"\r\n",
        400,
    ),
    # The health checks' location too: gunicorn would answer these with an HTML 400 that
    # repeats the request line.
    "raw byte 0xff in /healthz's query": (b"GET /healthz?\xff HTTP/1.1\r\n" + HOST + b"\r\n", 400),
    "control byte in /readyz's query": (b"GET /readyz?a=\x01 HTTP/1.1\r\n" + HOST + b"\r\n", 400),
    "control byte in the path": (b"GET /heal\x01thz HTTP/1.1\r\n" + HOST + b"\r\n", 400),
    "NUL in a header": (b"GET /healthz HTTP/1.1\r\n" + HOST + b"X-A: a\x00b\r\n\r\n", 400),
    "two Host headers": (b"GET /healthz HTTP/1.1\r\n" + HOST + b"Host: evil.example\r\n\r\n", 400),
    "no Host in HTTP/1.1": (b"GET /healthz HTTP/1.1\r\n\r\n", 400),
    "space in a header name": (b"GET /healthz HTTP/1.1\r\n" + HOST + b"X A: b\r\n\r\n", 400),
    "TLS hello on plain HTTP": (b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n", 400),
    "unknown HTTP version": (b"GET /healthz HTTP/9.9\r\n" + HOST + b"\r\n", 505),
    "Content-Length and chunked": (
        b"POST /healthz HTTP/1.1\r\n"
        + HOST
        + b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        400,
    ),
    "body of 5 MB": (
        b"POST /healthz HTTP/1.1\r\n" + HOST + b"Content-Length: 5000000\r\n\r\n",
        413,
    ),
    "unknown host": (b"GET /healthz HTTP/1.1\r\nHost: evil.example\r\n\r\n", 400),
    # Not nginx's HTML redirect to "/api/": the app's JSON 404.
    "/api without its slash": (b"GET /api HTTP/1.1\r\n" + HOST + b"\r\n", 404),
    "/static without its slash": (b"GET /static?x=1 HTTP/1.1\r\n" + HOST + b"\r\n", 404),
}


def raw_exchange(stack: Stack, request: bytes) -> tuple[int, dict[str, str], bytes]:
    with socket.create_connection((stack.host, stack.port), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except (ConnectionResetError, TimeoutError):
                break
            if not chunk:
                break
            data += chunk
            if b"\r\n\r\n" in data:
                response = http.client.HTTPResponse(_FakeSocket(data))  # type: ignore[arg-type]
                try:
                    response.begin()
                    return response.status, dict(response.getheaders()), response.read()
                except http.client.IncompleteRead:
                    continue
    raise CheckFailed(f"no complete answer to {request[:60]!r}: {data[:200]!r}")


class _FakeSocket:
    """What http.client.HTTPResponse reads an answer from: the bytes received so far."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def makefile(self, *args: object, **kwargs: object) -> io.BytesIO:
        return io.BytesIO(self.data)


def check_hostile_http(stack: Stack) -> None:
    say("hostile HTTP through the proxy: JSON with the right status")
    for name, (request, expected) in HOSTILE.items():
        status, headers, body = raw_exchange(stack, request)
        content_type = headers.get("Content-Type", "")
        try:
            message = json.loads(body)["message"]
        except (ValueError, KeyError, TypeError):
            raise CheckFailed(
                f"{name}: {status} {content_type} {body[:120]!r} is not JSON"
            ) from None
        say(f"  {name}: {status} {message!r}")
        expect(status == expected, f"{name}: {status}, expected {expected}")
        expect(content_type.startswith("application/json"), f"{name}: Content-Type {content_type}")
        expect(bool(headers.get("X-Request-ID")), f"{name}: no X-Request-ID")
    status, headers, _ = stack.get("/healthz", {"X-Request-ID": "edge-check-42"})
    expect(headers.get("X-Request-ID") == "edge-check-42", "X-Request-ID was not passed through")
    status, headers, _ = stack.get("/healthz", {"X-Request-ID": "bad id with spaces"})
    expect(
        re.fullmatch(r"[0-9a-f]{32}", headers.get("X-Request-ID", "")) is not None,
        "no new X-Request-ID",
    )
    say("  X-Request-ID: passed through when sane, generated otherwise")


# --- 3b. Connections per address -----------------------------------------------------------------

# Not 127.0.0.1: the other checks' address keeps its own connections. Linux routes all of
# 127.0.0.0/8 to the loopback interface, so a client may bind any of them as its source.
HOLDER_ADDRESS = "127.0.1.1"


def check_connections_per_address(stack: Stack, cap: int) -> None:
    """A client holding `cap` + 72 slow-body requests (a byte every few seconds keeps each past
    nginx's client_body_timeout) gets the excess refused at once, in JSON; others are served."""
    extra = 72
    say(f"connections per address: {cap + extra} slow-body requests from {HOLDER_ADDRESS}")
    head = (
        b"POST /api/v2/platform/ambassadors/1/orders HTTP/1.1\r\n"
        + HOST
        + b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\n"
    )
    sockets: list[socket.socket] = []
    try:
        for _ in range(cap + extra):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sockets.append(sock)
            sock.settimeout(5)
            sock.bind((HOLDER_ADDRESS, 0))
            sock.connect((stack.host, stack.port))
            sock.sendall(head + b"a")
        # The refusals come at once; the held ones answer nothing (within client_body_timeout).
        refused = 0
        deadline = time.monotonic() + 2
        pending = list(sockets)
        while pending and time.monotonic() < deadline:
            ready, _, _ = select.select(pending, [], [], max(0.0, deadline - time.monotonic()))
            for sock in ready:
                pending.remove(sock)
                try:
                    answer = sock.recv(4096)
                except OSError as error:
                    raise CheckFailed(
                        f"a connection was reset instead of refused: {error}"
                    ) from None
                expect(answer.split(b" ", 2)[1:2] == [b"429"], f"refused with {answer[:80]!r}")
                expect(b'{"message":"Too Many Attempts."}' in answer, f"not JSON: {answer!r}")
                refused += 1
        held = len(sockets) - refused
        started = time.perf_counter()
        status, _, _ = stack.get(ORDERS, stack.authorized(), timeout=10)
        elapsed = (time.perf_counter() - started) * 1000
        say(
            f"  {refused} refused (429), {held} held; another address meanwhile: {status}"
            f" in {elapsed:.0f} ms"
        )
        expect(refused == extra, f"{refused} refused, expected {extra} above the cap of {cap}")
        expect(status == 200, f"another address was answered {status} while they were held")
    finally:
        for sock in sockets:
            sock.close()


# --- 4. Admin ------------------------------------------------------------------------------------


FAILED, LOCKED, EDGE_REFUSED, LOGGED_IN = "failed", "locked", "refused by nginx", "logged in"


def admin_login(stack: Stack, username: str, password: str) -> str:
    """One complete admin login (form, CSRF cookie, POST) on one connection: what became of it."""
    conn = stack.connection(timeout=30)
    try:
        conn.request("GET", "/admin/login/")
        form = conn.getresponse()
        page = form.read().decode(errors="replace")
        if form.status == 429:
            return EDGE_REFUSED
        cookie = next(
            value.split(";")[0]
            for name, value in form.getheaders()
            if name.lower() == "set-cookie" and value.startswith("csrftoken=")
        )
        token_match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        expect(token_match is not None, "no CSRF token on the admin login page")
        assert token_match is not None
        body = urlencode(
            {
                "csrfmiddlewaretoken": token_match.group(1),
                "username": username,
                "password": password,
            }
        )
        conn.request(
            "POST",
            "/admin/login/",
            body=body,
            headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
        )
        response = conn.getresponse()
        content = response.read().decode(errors="replace")
        if response.status == 429:
            if "Too many failed login attempts" in content:
                return LOCKED
            expect(json.loads(content) == {"message": "Too Many Attempts."}, f"429 {content!r}")
            return EDGE_REFUSED
        if response.status == 302:
            return LOGGED_IN
        expect(response.status == 200, f"admin login answered {response.status}")
        return FAILED
    finally:
        conn.close()


def check_admin(stack: Stack, failure_limit: int, median_margin_ms: float) -> None:
    say(f"admin: lockout after {failure_limit} failures, API latency while 8 loops guess")
    password = "edge-check-" + os.urandom(8).hex()
    username = "edge-" + os.urandom(4).hex()  # the stack's database may outlive a run
    stack.manage(
        "createsuperuser",
        "--noinput",
        "--username",
        username,
        "--email",
        "edge@example.com",
        env={"DJANGO_SUPERUSER_PASSWORD": password},
    )
    baseline = stack.timed_requests(30)
    outcomes: list[str] = []
    lock = threading.Lock()
    stop = time.monotonic() + 15

    def guess(loop: int) -> None:
        for attempt in range(10):
            if time.monotonic() > stop:
                return
            outcome = admin_login(stack, username, f"wrong-{loop}-{attempt}")
            with lock:
                outcomes.append(outcome)

    with ThreadPoolExecutor(max_workers=9) as pool:
        guesses = [pool.submit(guess, loop) for loop in range(8)]
        during = pool.submit(stack.timed_requests, 30).result()
        for future in guesses:
            future.result()
    time.sleep(2)  # nginx's page rate (5 a second) lets a person's next attempt through
    right = admin_login(stack, username, password)
    tally = {outcome: outcomes.count(outcome) for outcome in sorted(set(outcomes))}
    say(f"  {len(outcomes)} guesses: {tally}; then the right password: {right}")
    # Below the limit, plus at most one guess per loop already in flight when it was reached.
    tried = outcomes.count(FAILED)
    expect(tried < failure_limit + 8, f"{tried} guesses had their password checked")
    expect(outcomes.count(LOGGED_IN) == 0, "a wrong password logged in")
    expect(right == LOCKED, f"the right password after the lockout: {right}")
    base_median, during_median = statistics.median(baseline), statistics.median(during)
    say(f"  API median {base_median:.1f} ms before, {during_median:.1f} ms while guessing")
    # Until the lockout each guess still costs a password hash (~0.3 s of CPU): the bound is the
    # API's ordinary latency plus room for those few, far from the 278 ms median measured
    # before the lockout existed (issue 11).
    expect(
        during_median < base_median + median_margin_ms,
        f"the API's median rose by more than {median_margin_ms:.0f} ms while guessing",
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--stack-dir", required=True, type=Path)
    parser.add_argument("--budget", type=int, default=600)
    parser.add_argument("--admin-failure-limit", type=int, default=5)
    parser.add_argument("--connections-per-address", type=int, default=128)
    parser.add_argument("--p99-ms", type=float, default=200)
    parser.add_argument("--admin-median-margin-ms", type=float, default=100)
    parser.add_argument(
        "--only",
        choices=["slow", "rate", "hostile", "connections", "admin"],
        action="append",
        default=None,
    )
    args = parser.parse_args()
    stack = Stack(args.base, args.token, args.stack_dir)
    checks: dict[str, Callable[[], None]] = {
        # The address budget is spent by the rate check: the hostile check runs after it, so
        # that its anonymous calls are refused (as JSON too) rather than counted.
        "slow": lambda: check_slow_clients(stack, args.p99_ms),
        "rate": lambda: check_rate_limits(stack, args.budget),
        "hostile": lambda: check_hostile_http(stack),
        "connections": lambda: check_connections_per_address(stack, args.connections_per_address),
        "admin": lambda: check_admin(stack, args.admin_failure_limit, args.admin_median_margin_ms),
    }
    started = time.monotonic()
    try:
        for name, check in checks.items():
            if args.only is None or name in args.only:
                check()
    except CheckFailed as failure:
        print(f"FAIL [edge-check]: {failure}", file=sys.stderr)
        return 1
    say(f"all edge checks passed in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
