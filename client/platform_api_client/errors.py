"""What can go wrong talking to the API, one exception per thing a caller acts on differently.

Every error carries the API's own `message` when it sent one.
"""

from __future__ import annotations

from typing import Any


class PlatformApiError(Exception):
    """Base class: any failure of a Platform API call."""

    def __init__(self, message: str, *, status: int | None = None, url: str | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.url = url

    def __str__(self) -> str:
        where = f" ({self.status} from {self.url})" if self.status and self.url else ""
        return f"{self.message}{where}"


class Unauthorized(PlatformApiError):
    """401: no token, or an unknown, expired or revoked one."""


class Forbidden(PlatformApiError):
    """403: the token may not use this route or read this ambassador."""


class NotFound(PlatformApiError):
    """404: the ambassador does not exist, or belongs to another brand."""


class InvalidQuery(PlatformApiError):
    """400 or 422: an unknown filter or sort, or a malformed value; `errors` names the fields."""

    def __init__(self, message: str, *, errors: dict[str, list[str]] | None = None, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.errors = errors or {}


class Unavailable(PlatformApiError):
    """The API kept answering 429/503 or 5xx, or could not be reached, after every retry."""


class UnexpectedResponse(PlatformApiError):
    """An answer the client does not understand (not the API's JSON)."""
