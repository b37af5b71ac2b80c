"""Exporting products and orders in the import's format, streamed in chunks by id.

Orders are rendered by the orders route's own renderer (`rendering.render_orders_page`), so an
exported order is the API's order, plus the credited `id_ambassador` first.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from orders import shape
from orders.imports import PRODUCT_FIELDS
from orders.models import I18nContent, Order, Product
from orders.rendering import format_datetime, render_orders_page, whole_or_float

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


_CONVERT: dict[shape.Kind, Callable[[Any], Any]] = {
    shape.Kind.INT: int,
    shape.Kind.TEXT: str,
    shape.Kind.FLOAT: float,
    shape.Kind.WHOLE_OR_FLOAT: whole_or_float,
    shape.Kind.DATETIME: format_datetime,
    shape.Kind.BOOL: bool,
}


def _render(
    spec: list[shape.Column | shape.Computed], row: dict[str, Any], **computed: Any
) -> dict[str, Any]:
    """An object of `spec` as the API writes it, computed keys given (those not given left out)."""
    rendered: dict[str, Any] = {}
    for item in spec:
        if isinstance(item, shape.Computed):
            if item.key in computed:
                rendered[item.key] = computed[item.key]
            continue
        value = row[item.source]
        rendered[item.key] = None if value is None else _CONVERT[item.kind](value)
    return rendered


def iter_products(*, chunk: int = CHUNK) -> Iterator[dict[str, Any]]:
    """Each product with its images, by id, as the import reads it."""
    last = 0
    image_names = [column.source for column in shape.columns(shape.IMAGE)]
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
            images[image["product_id"]].append(_render(shape.IMAGE, image))
        for row in rows:
            yield _render(shape.PRODUCT, row, images=images[row["id_product"]])
        last = rows[-1]["id_product"]
