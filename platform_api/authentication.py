"""Bearer-token authentication: who is calling.

Every failure — no header, another scheme, a malformed, unknown, expired or revoked token — is the
same 401, so that a caller learns nothing about which tokens exist.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import timezone
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from ambassadors import tokens
from ambassadors.models import ApiToken
from ambassadors.selectors import token_by_prefix
from ambassadors.services import token_mark_used

# Longer than any token: refuse to hash or look up megabytes of header.
_MAX_CREDENTIALS_LENGTH = 256


class TokenUser:
    """The caller as DRF sees it: an authenticated principal that carries its token."""

    is_authenticated = True
    is_anonymous = False

    def __init__(self, token: ApiToken) -> None:
        self.token = token

    def __str__(self) -> str:
        return str(self.token)


def credentials_from_header(header: str) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None.

    The scheme is case-insensitive (RFC 7235); exactly one space separates it from the token.
    """
    scheme, sep, credentials = header.partition(" ")
    if not sep or scheme.lower() != "bearer":
        return None
    if not credentials or len(credentials) > _MAX_CREDENTIALS_LENGTH:
        return None
    return credentials


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer pat_…` against the stored digests."""

    def authenticate(self, request: Request) -> tuple[TokenUser, ApiToken] | None:
        header = request.META.get("HTTP_AUTHORIZATION")
        if header is None:
            return None
        credentials = credentials_from_header(header)
        prefix = tokens.parse_prefix(credentials) if credentials else None
        if credentials is None or prefix is None:
            raise exceptions.AuthenticationFailed()
        token = token_by_prefix(prefix)
        if token is None or not tokens.matches(credentials, token.digest):
            raise exceptions.AuthenticationFailed()
        now = timezone.now()
        if not token.is_usable(now):
            raise exceptions.AuthenticationFailed()
        token_mark_used(token=token, now=now, interval_seconds=settings.TOKEN_LAST_USED_INTERVAL)
        # For the request log: the public prefix only.
        request._request.platform_api_token = token  # type: ignore[attr-defined]
        return TokenUser(token), token

    def authenticate_header(self, request: Any) -> str:
        return "Bearer"
