"""Exporting products and orders in the import's format, streamed in chunks by id.

Orders are rendered by the orders route's own renderer (`rendering.render_orders_page`), so an
exported order is the API's order, plus the credited `id_ambassador` first.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from orders import shape
from orders.imports import PRODUCT_FIELDS
from orders.models import I18nContent, Order, Product
from orders.rendering import render_orders_page
from platform_api.rendering import render_object
from platform_api.shape import columns

CHUNK = 1000


def orders_for_export(
    *, ambassador_id: int | None = None, brand_id: int | None = None
) -> QuerySet[Order]:
    """The orders an export writes: all, one ambassador's credited orders, or one brand's."""
    orders = Order.objects.all()
    if ambassador_id is not None:
        orders = orders.filter(ambassador_id=ambassador_id)
    if brand_id is not None:
        orders = orders.filter(ambassador__brand_id=brand_id)
    return orders.order_by("id_order")


def iter_orders(orders: QuerySet[Order], *, chunk: int = CHUNK) -> Iterator[dict[str, Any]]:
    """Each order as the import reads it, by id; memory bounded by the chunk."""
    now = timezone.now()
    last = 0
    while True:
        heads = list(
            orders.filter(id_order__gt=last).values_list("id_order", "ambassador_id")[:chunk]
        )
        if not heads:
            return
        page = Order.objects.filter(id_order__in=[id_order for id_order, _ in heads]).order_by(
            "id_order"
        )
        for (_, ambassador_id), order in zip(heads, render_orders_page(page, now=now), strict=True):
            yield {"id_ambassador": ambassador_id, **order}
        last = heads[-1][0]


def iter_products(*, chunk: int = CHUNK) -> Iterator[dict[str, Any]]:
    """Each product with its images, by id, as the import reads it."""
    last = 0
    image_names = [column.source for column in columns(shape.IMAGE)]
    while True:
        rows = list(
            Product.objects.filter(id_product__gt=last)
            .order_by("id_product")
            .values(*PRODUCT_FIELDS)[:chunk]
        )
        if not rows:
            return
        images: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for image in (
            I18nContent.objects.filter(product_id__in=[row["id_product"] for row in rows])
            .order_by("id_i18n_content")
            .values("product_id", *image_names)
        ):
            images[image["product_id"]].append(render_object(shape.IMAGE, image, "", {}))
        for row in rows:
            product = render_object(
                shape.PRODUCT, row, "", {"images": images[row["id_product"]], "order_details": None}
            )
            del product["order_details"]  # a product of the catalogue is on no order
            yield product
        last = rows[-1]["id_product"]
