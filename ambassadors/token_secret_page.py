"""A new token's secret, carried across the redirect that follows its creation, stored nowhere.

The page answering the creation's POST used to show the secret itself, so a reload re-sent the
POST and minted a second token. Now the POST redirects (POST-redirect-GET) and the secret
crosses the redirect split in two: the session holds it masked with a random one-time pad of
its length, the redirect URL holds the pad. Neither half alone tells anything about the secret
(a one-time pad), the first display deletes the session's half, and so a reload, the browser's
history or a copied URL shows nothing more.
"""

from __future__ import annotations

import base64
import binascii
import secrets

from django.http import HttpRequest

PAD_PARAMETER = "key"


def _session_key(token_pk: int) -> str:
    return f"admin:token-secret:{token_pk}"


def _xor(data: bytes, pad: bytes) -> bytes:
    return bytes(a ^ b for a, b in zip(data, pad, strict=True))


def stash(request: HttpRequest, token_pk: int, secret: str) -> str:
    """Keep the masked secret in the session; return the pad, for the redirect URL."""
    plain = secret.encode()
    pad = secrets.token_bytes(len(plain))
    request.session[_session_key(token_pk)] = base64.b64encode(_xor(plain, pad)).decode()
    return base64.urlsafe_b64encode(pad).decode()


def take(request: HttpRequest, token_pk: int, pad: str) -> str | None:
    """The secret, once: the session's half is deleted whatever the pad. None when it was
    already shown, or the pad does not fit."""
    masked = request.session.pop(_session_key(token_pk), None)
    if masked is None:
        return None
    try:
        plain = _xor(base64.b64decode(masked), base64.urlsafe_b64decode(pad.encode()))
        return plain.decode()
    except (binascii.Error, ValueError):
        return None
