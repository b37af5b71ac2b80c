"""The query parameters of `GET /ambassadors` (read by `platform_api.query`)."""

from __future__ import annotations

from ambassadors.filters import AmbassadorFilterSet
from platform_api.query import ListParameters

AMBASSADOR_PARAMETERS = ListParameters(
    filters=tuple(AmbassadorFilterSet.base_filters),
    sorts=("last_action_date",),
    default_sort=("id_ambassador",),
    tie_breaker="id_ambassador",
)
