"""GET with retries: exponential backoff with jitter, `Retry-After` honoured on 429 and 503,
connection errors and timeouts retried too, whole bodies read inside the retried call.

requests (with urllib3) does the HTTP; the retry loop is here rather than in urllib3's `Retry`
because urllib3 retries only until the headers arrive, and a body cut off midway (a dropped
connection, a read timeout during a 5 MB page) must be retried as well. urllib3 still parses
`Retry-After` (seconds or an HTTP date).
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from urllib3.exceptions import InvalidHeader
from urllib3.util.retry import Retry

from platform_api_client import __version__
from platform_api_client.errors import (
    Forbidden,
    InvalidQuery,
    NotFound,
    PlatformApiError,
    Unauthorized,
    Unavailable,
    UnexpectedResponse,
)
from platform_api_client.rawjson import MalformedJson, loads

RETRIED_STATUSES = frozenset({429, 502, 503, 504})
# A body cut off midway (requests raises ChunkedEncodingError for it, Content-Length or chunked
# alike) or one whose gzip breaks off is the network's failure, retried as a dropped connection.
BROKEN_BODY = (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError)
# Tests replace it to record the pauses instead of waiting them out.
sleep = time.sleep


@dataclass
class RetryPolicy:
    """How often and how long to retry: `attempts` in all (the first included); pauses of
    `backoff * 2**n` seconds (capped at `max_backoff`, with full jitter), or what `Retry-After`
    says, capped at `max_retry_after`."""

    attempts: int = 8
    backoff: float = 0.5
    max_backoff: float = 30.0
    max_retry_after: float = 120.0

    def pause(self, retry: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after)
        return random.uniform(0, min(self.max_backoff, self.backoff * 2**retry))


@dataclass
class Transport:
    """A session bound to one API: base URL, token, timeouts, retries; counts its retries and
    keeps the server's clock (`Date`) of the last answer."""

    base_url: str
    token: str
    timeout: float = 30.0
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    session: requests.Session = field(default_factory=requests.Session)
    retries: int = 0
    last_date: datetime | None = None
    last_url: str | None = None  # the last answer's URL and status, for the errors about it
    last_status: int | None = None

    def get(self, path: str, params: list[tuple[str, str]] | None = None) -> tuple[str, Any]:
        """The body of `GET path?params` (text, and parsed with numbers as Decimal).

        Raises the `PlatformApiError` matching the answer once retries are exhausted.
        """
        url = self.base_url.rstrip("/") + path
        headers = {
            "Authorization": f"Bearer {self.token}",
            "Accept": "application/json",
            "User-Agent": f"platform-api-client/{__version__}",
        }
        for attempt in range(self.policy.attempts):
            last = attempt == self.policy.attempts - 1
            sent = datetime.now(UTC).replace(microsecond=0)
            try:
                response = self.session.get(
                    url, params=params, headers=headers, timeout=self.timeout
                )
                text = response.content.decode("utf-8", errors="replace")
            except (requests.ConnectionError, requests.Timeout) as exc:
                if last:
                    raise Unavailable(f"cannot reach the API: {exc}", url=url) from exc
                self._pause(attempt, None)
                continue
            except BROKEN_BODY as exc:
                if last:
                    raise Unavailable(
                        f"the connection broke while reading the answer: {exc}", url=url
                    ) from exc
                self._pause(attempt, None)
                continue
            except requests.RequestException as exc:  # too many redirects, an invalid URL...
                raise PlatformApiError(f"the request failed: {exc}", url=url) from exc
            self.last_date = _server_date(response) or sent
            status = self.last_status = response.status_code
            self.last_url = response.url
            if status in RETRIED_STATUSES and not last:
                self._pause(attempt, _retry_after(response))
                continue
            return text, _parsed(status, text, response.url)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def unexpected(self, message: str) -> UnexpectedResponse:
        """An UnexpectedResponse about the last answer (its status and URL)."""
        return UnexpectedResponse(message, status=self.last_status, url=self.last_url)

    def _pause(self, attempt: int, retry_after: float | None) -> None:
        self.retries += 1
        sleep(self.policy.pause(attempt, retry_after))


def _server_date(response: requests.Response) -> datetime | None:
    """The answer's `Date` (whole seconds, as the server's clock read it), or None."""
    try:
        moment = parsedate_to_datetime(response.headers.get("Date", ""))
    except (TypeError, ValueError):
        return None
    return moment.astimezone(UTC) if moment.tzinfo else None


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return Retry().parse_retry_after(value)
    except InvalidHeader:
        return None


def _parsed(status: int, text: str, url: str) -> Any:
    try:
        body = loads(text) if text else None
    except MalformedJson:
        body = None
    if 200 <= status < 300:
        if body is None:
            raise UnexpectedResponse(
                "the API answered something that is not JSON", status=status, url=url
            )
        return body
    message = body.get("message") if isinstance(body, dict) else None
    message = str(message) if message else f"HTTP {status}"
    kinds: dict[int, type[PlatformApiError]] = {401: Unauthorized, 403: Forbidden, 404: NotFound}
    if status in kinds:
        raise kinds[status](message, status=status, url=url)
    if status in (400, 422):
        errors = body.get("errors") if isinstance(body, dict) else None
        raise InvalidQuery(
            message, errors=errors if isinstance(errors, dict) else None, status=status, url=url
        )
    if status in RETRIED_STATUSES or status >= 500:
        raise Unavailable(message, status=status, url=url)
    raise UnexpectedResponse(message, status=status, url=url)
