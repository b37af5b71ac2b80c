"""A browser tool on another origin calls the API with its token (platform_api/cors.py)."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from typing import Any

import pytest

pytestmark = pytest.mark.browser

FETCH = """async ([url, secret]) => {
    try {
        const answer = await fetch(url, {headers: {Authorization: `Bearer ${secret}`}});
        return {
            status: answer.status,
            body: await answer.json(),
            remaining: answer.headers.get("X-RateLimit-Remaining"),
        };
    } catch (error) {
        return {error: String(error)};
    }
}"""


class _ToolPage(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(b"<!doctype html><title>internal tool</title>")

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def tool_page(browser) -> Iterator[Any]:
    """A page of another origin (another port of 127.0.0.1), as an internal tool's page is to
    the API. Served from a real loopback server: Chromium refuses a page without an address
    (one the browser fulfils itself) any request to loopback, CORS or not."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _ToolPage)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"http://127.0.0.1:{server.server_address[1]}/internal-tool")
    yield page
    context.close()
    server.shutdown()
    server.server_close()


def test_a_page_of_another_origin_reads_the_orders_with_a_bearer_token(tool_page, base_url, manage):
    secret = manage("create_token", "--kind", "brand", "--brand", "1").strip().splitlines()[-1]
    url = f"{base_url}/api/v2/platform/ambassadors/1/orders?per_page=2"
    # The Authorization header makes the call "non-simple": Chromium sends a preflight first
    # and reads the answer only if both carry the CORS headers.
    result = tool_page.evaluate(FETCH, [url, secret])
    assert "error" not in result, result
    assert result["status"] == 200
    assert result["body"]["per_page"] == 2
    assert len(result["body"]["data"]) == 2
    # Laravel's default exposes no header beyond the CORS-safelisted ones.
    assert result["remaining"] is None


def test_an_error_answer_is_readable_from_another_origin_too(tool_page, base_url):
    url = f"{base_url}/api/v2/platform/ambassadors/1/orders"
    result = tool_page.evaluate(FETCH, [url, "pat_not-a-token"])
    assert "error" not in result, result
    assert result["status"] == 401
    assert "message" in result["body"]
