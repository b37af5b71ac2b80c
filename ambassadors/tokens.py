"""The token format: `pat_<prefix>_<secret>`.

The `pat_` marker lets secret scanners recognise a leaked token; the prefix is public (stored in
clear, shown in admin and logs) and finds the row; only the SHA-256 digest of the whole token is
stored, so a database leak does not leak usable tokens.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import string
from dataclasses import dataclass

MARKER = "pat_"
PREFIX_LENGTH = 10
_PREFIX_ALPHABET = string.ascii_lowercase + string.digits
# token_urlsafe(32) yields 43 characters of [A-Za-z0-9_-].
TOKEN_RE = re.compile(r"pat_([a-z0-9]{10})_([A-Za-z0-9_-]{43})")


@dataclass(frozen=True)
class NewToken:
    prefix: str
    secret: str
    digest: str


def digest_of(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def generate() -> NewToken:
    prefix = "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(PREFIX_LENGTH))
    secret = f"{MARKER}{prefix}_{secrets.token_urlsafe(32)}"
    return NewToken(prefix=prefix, secret=secret, digest=digest_of(secret))


def parse_prefix(secret: str) -> str | None:
    """The public prefix of a well-formed token, or None for anything else."""
    match = TOKEN_RE.fullmatch(secret)
    return match.group(1) if match else None


def matches(secret: str, digest: str) -> bool:
    """Constant-time comparison of a presented token with a stored digest."""
    return hmac.compare_digest(digest_of(secret), digest)
