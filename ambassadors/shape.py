"""The JSON shape of an ambassador as the platform routes answer it (see `platform_api.shape`).

`GET /ambassadors/{id}` answers one `AMBASSADOR`, `GET /ambassadors` a page of them, keys in the
published order.
"""

from __future__ import annotations

from platform_api.shape import Column, Computed, Kind

# `online`: the ambassador's last action is less than this many seconds before the request.
ONLINE_WINDOW_SECONDS = 300
# PHP's trim(): what Laravel strips from the ends of `full_name`.
FULL_NAME_TRIMMED = " \t\n\r\x00\x0b"

C, K = Column, Kind

AMBASSADOR: list[Column | Computed] = [
    C("id_ambassador", K.INT),
    C("id_brand", K.INT, column="brand_id"),
    C("date_insert", K.DATETIME),
    C("customer_id", K.TEXT),
    C("image", K.TEXT),
    C("gender", K.TEXT),
    C("firstname", K.TEXT),
    C("lastname", K.TEXT),
    C("username", K.TEXT),
    Computed("full_name"),  # firstname and lastname joined by one space, trimmed
    C("gamification_score", K.INT),
    C("active", K.INT),
    C("status", K.INT),
    Computed("online"),  # last_action_date less than ONLINE_WINDOW_SECONDS before the request
]


def full_name(firstname: str, lastname: str) -> str:
    """`trim("$firstname $lastname")`, as the published API computes it."""
    return f"{firstname} {lastname}".strip(FULL_NAME_TRIMMED)
