"""The query parameters of `GET /ambassadors/{id}/orders` (read by `platform_api.query`)."""

from __future__ import annotations

from orders.filters import ALLOWED_FILTERS
from platform_api.php_query import PhpValue
from platform_api.query import ListParameters, ListQuery

ORDER_PARAMETERS = ListParameters(
    filters=tuple(ALLOWED_FILTERS),
    sorts=("date_order", "id_order", "total_amount", "total_paid", "date_update"),
    default_sort=("-date_order",),
    tie_breaker="id_order",
)


def read_orders_query(query: dict[str, PhpValue]) -> ListQuery:
    """Validate everything except filter values (the FilterSet does those)."""
    return ORDER_PARAMETERS.read(query)
