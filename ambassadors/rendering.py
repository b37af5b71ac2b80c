"""Ambassadors as JSON-ready dicts, in `shape.AMBASSADOR`: one query whatever the page size."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import QuerySet

from ambassadors import shape
from ambassadors.models import Ambassador
from platform_api.rendering import render_object, values_names

AMBASSADOR_VALUES = [*values_names(shape.AMBASSADOR), "last_action_date"]


def render_ambassadors(ambassadors: QuerySet[Ambassador], *, now: datetime) -> list[dict[str, Any]]:
    """The ambassadors of an ordered (and sliced) queryset, rendered."""
    online_since = now - timedelta(seconds=shape.ONLINE_WINDOW_SECONDS)
    return [
        render_object(
            shape.AMBASSADOR,
            row,
            "",
            {
                "full_name": shape.full_name(row["firstname"], row["lastname"]),
                "online": row["last_action_date"] > online_since,
            },
        )
        for row in ambassadors.values(*AMBASSADOR_VALUES)
    ]
