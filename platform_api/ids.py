"""Path ids: anything that is not a positive 64-bit integer names nothing (404, never 500)."""

from __future__ import annotations

ID_MAX = 2**63 - 1


def parse_id(raw: str) -> int | None:
    if not raw.isascii() or not raw.isdigit() or len(raw) > 19:
        return None
    number = int(raw)
    return number if 1 <= number <= ID_MAX else None
