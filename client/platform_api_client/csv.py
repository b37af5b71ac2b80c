"""The orders CSV: one row per order line, the layout agreed with the import and the admin export.

This module owns the layout (`COLUMNS`); the client's README documents it. UTF-8, RFC 4180 as
Python's csv module writes it (`\\r\\n` line ends), one header row:

1. `id_ambassador`: the credited ambassador (the `{id}` of the orders route read);
2. the order's scalar fields, in the API's key order;
3. the buyer's fields, prefixed `buyer_`;
4. the product's fields, prefixed `product_`; `product_images` is one cell holding the API's
   JSON array exactly as the API wrote it;
5. the line (`order_details`), prefixed `line_`, without its id_order / id_product (above).

An order without lines is one row whose product_* and line_* cells are empty. Cells: JSON null
is an empty cell, true/false are `true`/`false`, numbers and strings exactly as the API's JSON
value reads (numbers in their JSON text form, `42.0` stays `42.0`; strings unescaped).
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

from platform_api_client import rawjson
from platform_api_client.models import Order

ORDER_FIELDS = [
    "id_order",
    "id_order_external",
    "total_amount",
    "total_paid",
    "total_ws",
    "id_popliste",
    "source",
    "last_status",
    "id_meeting",
    "id_meeting_external",
    "customer_id",
    "order_info",
    "currency",
    "date_order",
    "type",
    "id_chat_segment",
    "id_chatroom",
    "date_insert",
    "date_update",
    "assignment",
    "total_products_quantity",
]
BUYER_FIELDS = [
    "id_ambassador",
    "image",
    "firstname",
    "lastname",
    "username",
    "email",
    "email_tmp",
    "active",
    "status",
    "online",
    "last_action_date",
    "customer_id",
    "anonymized",
]
PRODUCT_FIELDS = [
    "id_product",
    "name",
    "type",
    "discount_percentage",
    "price_catalog",
    "reference_unit_price",
    "sku",
    "youtube_id",
    "url",
    "description",
    "images",
    "price",
    "stock",
    "stock_available",
    "old_image",
]
LINE_FIELDS = ["quantity", "unit_price", "sku", "currency", "total_price"]

COLUMNS: list[str] = [
    "id_ambassador",
    *ORDER_FIELDS,
    *(f"buyer_{name}" for name in BUYER_FIELDS),
    *(f"product_{name}" for name in PRODUCT_FIELDS),
    *(f"line_{name}" for name in LINE_FIELDS),
]


def cell(value: Any) -> str:
    """A JSON value as its CSV cell."""
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int | Decimal | str):
        return str(value)  # a Decimal read from JSON prints as its JSON text
    raise TypeError(f"no CSV cell for a {type(value).__name__}")


def order_rows(order: Order, ambassador_id: int) -> list[list[str]]:
    """The rows of one order read from ambassador `ambassador_id`'s orders route."""
    data = order.data
    head = [str(ambassador_id), *(cell(data[name]) for name in ORDER_FIELDS)]
    head += [cell(data["buyer"][name]) for name in BUYER_FIELDS]
    products_text = rawjson.member_text(order.raw, "products") or "[]"
    rows = []
    for product in rawjson.items(products_text):
        values = product.value
        images = rawjson.member_text(product.text, "images") or "[]"
        product_cells = [
            images if name == "images" else cell(values[name]) for name in PRODUCT_FIELDS
        ]
        line = values["order_details"]
        rows.append([*head, *product_cells, *(cell(line[name]) for name in LINE_FIELDS)])
    if not rows:
        rows.append(head + [""] * (len(PRODUCT_FIELDS) + len(LINE_FIELDS)))
    return rows


def encode_rows(rows: list[list[str]]) -> bytes:
    """Rows as the file's bytes (UTF-8, `\\r\\n` line ends, quoted only where needed)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def header() -> bytes:
    """The header row's bytes."""
    return encode_rows([COLUMNS])
