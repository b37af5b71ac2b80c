"""Path ids: anything that is not a positive 64-bit integer names nothing (404, never 500)."""

from __future__ import annotations

INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1  # also PHP's PHP_INT_MAX
# Ids are positive bigints.
ID_MAX = INT64_MAX


def parse_id(raw: str) -> int | None:
    """The id `raw` names, or None."""
    if not raw.isascii() or not raw.isdigit() or len(raw) > 19:
        return None
    number = int(raw)
    return number if 1 <= number <= ID_MAX else None
