"""The page's orders as JSON-ready dicts, from two queries whatever the page size.

Rows come from `.values()` (no model instances: building them dominated the textbook version's
cost) and are shaped by walking `shape.py`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db.models import QuerySet

from ambassadors.shape import ONLINE_WINDOW_SECONDS
from orders import shape
from orders.models import Order, OrderProduct
from platform_api.rendering import render_object, values_names, whole_or_float

ORDER_VALUES = values_names(shape.ORDER) + values_names(shape.BUYER, "buyer__")
LINE_VALUES = [
    "id_order_product",
    *values_names(shape.ORDER_DETAILS),
    *values_names(shape.PRODUCT, "product__"),
    *values_names(shape.IMAGE, "product__images__"),
]


def render_orders_page(page: QuerySet[Order], *, now: datetime) -> list[dict[str, Any]]:
    """The `data` array for a sliced, ordered queryset of orders: two queries."""
    orders = list(page.values(*ORDER_VALUES))
    if not orders:
        return []
    lines_by_order = _lines_by_order(order["id_order"] for order in orders)
    online_since = now - timedelta(seconds=ONLINE_WINDOW_SECONDS)
    rendered = []
    for order in orders:
        buyer = render_object(
            shape.BUYER,
            order,
            "buyer__",
            {"online": order["buyer__last_action_date"] > online_since},
        )
        lines = lines_by_order.get(order["id_order"], [])
        products = [_render_line(line, images) for line, images in lines]
        rendered.append(
            render_object(
                shape.ORDER,
                order,
                "",
                {
                    "buyer": buyer,
                    "products": products,
                    "total_products_quantity": sum(line["quantity"] for line, _ in lines),
                },
            )
        )
    return rendered


def _lines_by_order(
    order_ids: Iterable[int],
) -> dict[int, list[tuple[dict[str, Any], list[dict[str, Any]]]]]:
    """Lines with their product and its images, one query (images joined, then regrouped)."""
    rows = (
        OrderProduct.objects.filter(order_id__in=list(order_ids))
        .order_by("order_id", "id_order_product", "product__images__id_i18n_content")
        .values(*LINE_VALUES)
    )
    grouped: dict[int, list[tuple[dict[str, Any], list[dict[str, Any]]]]] = defaultdict(list)
    current_line_id = None
    for row in rows:
        if row["id_order_product"] != current_line_id:
            current_line_id = row["id_order_product"]
            grouped[row["order_id"]].append((row, []))
        if row["product__images__id_i18n_content"] is not None:
            grouped[row["order_id"]][-1][1].append(
                render_object(shape.IMAGE, row, "product__images__", {})
            )
    return grouped


def _render_line(line: dict[str, Any], images: list[dict[str, Any]]) -> dict[str, Any]:
    details = render_object(
        shape.ORDER_DETAILS,
        line,
        "",
        {"total_price": whole_or_float(line["unit_price"] * line["quantity"])},
    )
    return render_object(
        shape.PRODUCT, line, "product__", {"images": images, "order_details": details}
    )
