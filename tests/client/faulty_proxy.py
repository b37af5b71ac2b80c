"""A local HTTP proxy in front of the live server that misbehaves on cue: answers 429 or 503
instead of forwarding, holds a request until the test lets it through, or forwards an answer
cut off midway (the whole `Content-Length` announced, half the body sent, the connection
closed)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

GATE_TIMEOUT = 30  # seconds a held request waits at most


@dataclass
class Fault:
    """What to answer instead of forwarding: a status, its body and its `Retry-After`."""

    status: int
    message: str
    retry_after: str | None = None


@dataclass
class Plan:
    """Faults by request number (1-based, every request counted), requests whose answer is cut
    off midway, and one request to hold."""

    faults: dict[int, Fault] = field(default_factory=dict)
    cuts: set[int] = field(default_factory=set)
    always: Fault | None = None
    hold: int | None = None
    held: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    requests: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def start_proxy(upstream: str, plan: Plan) -> tuple[ThreadingHTTPServer, str]:
    """A running proxy to `upstream` and its base URL; `shutdown()` it after the test."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            with plan.lock:
                plan.requests.append(self.path)
                number = len(plan.requests)
            fault = plan.faults.get(number) or plan.always
            if fault is not None:
                self._answer(fault.status, fault.message, fault.retry_after)
                return
            if number == plan.hold:
                plan.held.set()
                plan.release.wait(GATE_TIMEOUT)
            upstream_response = requests.get(
                upstream + self.path,
                headers={"Authorization": self.headers.get("Authorization", "")},
                timeout=GATE_TIMEOUT,
            )
            try:
                self.send_response(upstream_response.status_code)
                for name in ("Content-Type", "Retry-After"):
                    if name in upstream_response.headers:
                        self.send_header(name, upstream_response.headers[name])
                body = upstream_response.content
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if number in plan.cuts:
                    self.wfile.write(body[: len(body) // 2])
                    self.close_connection = True
                    return
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client was killed while this request was held

        def _answer(self, status: int, message: str, retry_after: str | None) -> None:
            body = f'{{"message":"{message}"}}'.encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            if retry_after is not None:
                self.send_header("Retry-After", retry_after)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"
