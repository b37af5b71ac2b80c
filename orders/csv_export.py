"""Orders as CSV, in the layout agreed with the client's export and the import (issue 14 / 15).

One row per order line (an order without lines: one row with empty product_* and line_* cells).
Cells are the API's JSON values: the rows come from the API's own renderer
(`rendering.render_orders_page`), so the CSV cannot drift from the JSON.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

import orjson
from django.db.models import QuerySet

from orders import shape
from orders.models import Order
from orders.rendering import render_orders_page

# Orders read (and rendered) per query while streaming.
CHUNK_ORDERS = 500

# The order's scalar keys (total_products_quantity, computed, is one), the buyer's keys.
ORDER_KEYS = [item.key for item in shape.ORDER if item.key not in {"buyer", "products"}]
BUYER_KEYS = [item.key for item in shape.BUYER]
PRODUCT_KEYS = [item.key for item in shape.PRODUCT if item.key != "order_details"]
LINE_KEYS = ["quantity", "unit_price", "sku", "currency", "total_price"]

HEADER = [
    "id_ambassador",
    *ORDER_KEYS,
    *(f"buyer_{key}" for key in BUYER_KEYS),
    *(f"product_{key}" for key in PRODUCT_KEYS),
    *(f"line_{key}" for key in LINE_KEYS),
]


def cell(value: Any) -> str:
    """A JSON value as its CSV cell: null empty, booleans true/false, numbers in their JSON
    text, strings as they are, arrays and objects as compact JSON (as the API writes them)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return orjson.dumps(value).decode()


def order_rows(id_ambassador: int, order: dict[str, Any]) -> Iterator[list[str]]:
    """The CSV rows of one rendered order (the API's dict)."""
    head = [
        cell(id_ambassador),
        *(cell(order[key]) for key in ORDER_KEYS),
        *(cell(order["buyer"][key]) for key in BUYER_KEYS),
    ]
    if not order["products"]:
        yield head + [""] * (len(PRODUCT_KEYS) + len(LINE_KEYS))
        return
    for product in order["products"]:
        details = product["order_details"]
        yield [
            *head,
            *(cell(product[key]) for key in PRODUCT_KEYS),
            *(cell(details[key]) for key in LINE_KEYS),
        ]


def _lines(rows: Iterable[list[str]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)  # RFC 4180: the csv module's defaults, \r\n line ends
    for row in rows:
        writer.writerow(row)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def orders_csv(order_ids: list[int], *, now: datetime) -> Iterator[str]:
    """The header, then every order of `order_ids` (in that order), rendered a chunk at a time
    so that memory stays flat however many rows stream."""
    yield from _lines([HEADER])
    for start in range(0, len(order_ids), CHUNK_ORDERS):
        chunk = order_ids[start : start + CHUNK_ORDERS]
        credited = dict(Order.objects.filter(pk__in=chunk).values_list("pk", "ambassador_id"))
        page: QuerySet[Order] = Order.objects.filter(pk__in=chunk).order_by("-id_order")
        rendered = {order["id_order"]: order for order in render_orders_page(page, now=now)}
        yield from _lines(
            row
            for order_id in chunk
            if order_id in rendered
            for row in order_rows(credited[order_id], rendered[order_id])
        )
