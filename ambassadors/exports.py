"""Exporting ambassadors in the import's format, streamed in chunks by id."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from django.utils import timezone

from ambassadors import shape
from ambassadors.imports import FIELDS, RECORD
from ambassadors.models import Ambassador
from platform_api.rendering import format_datetime, render_object

CHUNK = 1000


def iter_ambassadors(
    *, brand_id: int | None = None, chunk: int = CHUNK
) -> Iterator[dict[str, Any]]:
    """Each ambassador (all, or one brand's) as the import reads it, by id."""
    ambassadors = Ambassador.objects.order_by("id_ambassador")
    if brand_id is not None:
        ambassadors = ambassadors.filter(brand_id=brand_id)
    online_since = timezone.now() - timedelta(seconds=shape.ONLINE_WINDOW_SECONDS)
    last = 0
    while True:
        rows = list(ambassadors.filter(id_ambassador__gt=last).values(*FIELDS)[:chunk])
        if not rows:
            return
        for row in rows:
            computed = {
                "full_name": shape.full_name(row["firstname"], row["lastname"]),
                "online": row["last_action_date"] > online_since,
            }
            yield {
                **render_object(RECORD, row, "", computed),
                "id_referrer": row["referrer_id"],
                "date_update": format_datetime(row["date_update"]),
            }
        last = rows[-1]["id_ambassador"]
