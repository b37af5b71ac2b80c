"""Importing products (with their images) and orders (with their lines), in the API's shapes.

Keys come from `orders/shape.py`: a product line is the orders route's product without
`order_details`; an order line is the route's order plus the credited `id_ambassador`. In an
order, `buyer` and each product are references, by `id_ambassador` and `id_product` (their other
keys are the export's snapshot and are not written: the ambassadors and products files are the
source of those rows); `products[].order_details` are the order's lines, in order. Computed keys
(`total_price`, `total_products_quantity`, `online`) are accepted and ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connection

from ambassadors.models import Ambassador
from orders import shape
from orders.models import I18nContent, Order, OrderProduct, Product
from platform_api.bulk.batches import Landed, Rejected, Source
from platform_api.bulk.fast import compile_row
from platform_api.bulk.records import Keys, as_array, as_object, clean_row
from platform_api.bulk.rules import Invalid, RowRules
from platform_api.bulk.staging import (
    LINE_NO,
    SeenIds,
    StagingTable,
    missing_references,
    quote,
    reset_sequences,
    upsert,
)
from platform_api.shape import Computed, Shape, columns


def _keys(spec: Shape) -> list[tuple[str, str]]:
    """(JSON key, model attname) of a shape's columns."""
    return [(column.key, column.source) for column in columns(spec)]


def _all(spec: Shape) -> list[str]:
    return [item.key for item in spec]


def _computed(spec: Shape) -> list[str]:
    return [item.key for item in spec if isinstance(item, Computed)]


PRODUCT_KEYS = _keys(shape.PRODUCT)
IMAGE_KEYS = _keys(shape.IMAGE)
ORDER_KEYS = _keys(shape.ORDER)
LINE_KEYS = [(key, attname) for key, attname in _keys(shape.ORDER_DETAILS)]
LINE_OWN_KEYS = [(k, a) for k, a in LINE_KEYS if a not in ("order_id", "product_id")]

PRODUCT_FIELDS = [attname for _, attname in PRODUCT_KEYS]
IMAGE_FIELDS = ["id_i18n_content", "product_id", "lang", "content"]
ORDER_FIELDS = [attname for _, attname in ORDER_KEYS] + ["ambassador_id", "buyer_id"]
LINE_FIELDS = ["order_id", "product_id", *(attname for _, attname in LINE_OWN_KEYS)]

PRODUCT_OBJECT = Keys([*(key for key, _ in PRODUCT_KEYS), "images"])
IMAGE_OBJECT = Keys(key for key, _ in IMAGE_KEYS)
ORDER_OBJECT = Keys(
    ["id_ambassador", *(key for key, _ in ORDER_KEYS), "buyer", "products"],
    optional=["total_products_quantity"],
)
# In an order, the buyer and the products are references: the id, and the snapshot's other keys.
BUYER_REFERENCE = Keys(
    ["id_ambassador"], optional=[k for k in _all(shape.BUYER) if k != "id_ambassador"]
)
PRODUCT_REFERENCE = Keys(
    ["id_product", "order_details"],
    optional=[k for k in _all(shape.PRODUCT) if k not in ("id_product", "order_details")],
)
LINE_OBJECT = Keys(
    [key for key, _ in LINE_OWN_KEYS],
    optional=["id_order", "id_product", *_computed(shape.ORDER_DETAILS)],
)


def _rejects(rows: list[tuple[int, int]], by_line: dict[int, Source], why: str) -> list[Rejected]:
    return [Rejected(line, why.format(id=ref), by_line[line].text) for line, ref in rows]


@dataclass(frozen=True)
class ProductRecord:
    source: Source
    row: tuple[Any, ...]
    images: list[tuple[Any, ...]]


class ProductImporter:
    """Upsert products by `id_product`; each product's images replaced as a set."""

    kind = "product"

    def __init__(self) -> None:
        self.product_rules = RowRules(Product, PRODUCT_FIELDS)
        self.image_rules = RowRules(I18nContent, ["id_i18n_content", "lang", "content"])
        self.products = StagingTable("bulk_stage_product", Product, PRODUCT_FIELDS)
        self.images = StagingTable("bulk_stage_image", I18nContent, IMAGE_FIELDS)
        self.seen = SeenIds()

    def prepare(self) -> None:
        with connection.cursor() as cursor:
            self.seen.create(cursor)

    def begin_batch(self) -> None:
        with connection.cursor() as cursor:
            self.products.create(cursor)
            self.images.create(cursor)

    def finish(self) -> None:
        with connection.cursor() as cursor:
            self.seen.drop(cursor)

    def parse(self, source: Source) -> ProductRecord:
        value = as_object(source.value, "a product")
        PRODUCT_OBJECT.check(value, "product")
        row = clean_row(value, self.product_rules, PRODUCT_KEYS, what="product")
        product_id = row["id_product"]
        images = []
        languages: set[str] = set()
        for index, item in enumerate(as_array(value["images"], "images")):
            what = f"images[{index}]"
            image = as_object(item, what)
            IMAGE_OBJECT.check(image, what)
            cleaned = clean_row(image, self.image_rules, IMAGE_KEYS, what=what)
            if cleaned["lang"] in languages:
                raise Invalid(f"{what}: a second image in {cleaned['lang']}: one per language")
            languages.add(cleaned["lang"])
            images.append(
                (
                    source.line,
                    cleaned["id_i18n_content"],
                    product_id,
                    cleaned["lang"],
                    cleaned["content"],
                )
            )
        return ProductRecord(source, (source.line, *(row[f] for f in PRODUCT_FIELDS)), images)

    def land(self, batch: list[ProductRecord]) -> Landed:
        by_line = {record.source.line: record.source for record in batch}
        landed = Landed()
        with connection.cursor() as cursor:
            self.products.clear(cursor)
            self.images.clear(cursor)
            self.products.load(cursor, [record.row for record in batch])
            self.images.load(cursor, [image for record in batch for image in record.images])
            duplicates = self.seen.duplicates(cursor, "product", self.products, "id_product")
            image_duplicates = self.seen.duplicates(cursor, "image", self.images, "id_i18n_content")
            for line, ref, first in duplicates:
                landed.rejected.append(
                    Rejected(
                        line,
                        f"id_product {ref} is also on line {first}: one line per product",
                        by_line[line].text,
                    )
                )
            for line, ref, first in image_duplicates:
                if line in {r.line for r in landed.rejected}:
                    continue
                landed.rejected.append(
                    Rejected(
                        line,
                        f"images: id_i18n_content {ref} is also on line {first}",
                        by_line[line].text,
                    )
                )
            dropped = [item.line for item in landed.rejected]
            self.products.delete_lines(cursor, dropped)
            self.images.delete_lines(cursor, dropped)
            self.seen.remember(cursor, "product", self.products, "id_product")
            self.seen.remember(cursor, "image", self.images, "id_i18n_content")
            landed.written = _merge_products(cursor, self.products, self.images)
        return landed

    def after_batch(self) -> None:
        with connection.cursor() as cursor:
            reset_sequences(cursor, [Product, I18nContent])


def _merge_products(cursor: Any, products: StagingTable, images: StagingTable) -> int:
    """Upsert the staged products and replace their images; the number of products written."""
    written = upsert(cursor, products)
    image_table = quote(I18nContent._meta.db_table)
    stage_products, stage_images = quote(products.name), quote(images.name)
    # Images of the staged products that the file does not list as they are, and staged ids that
    # now belong elsewhere, go first: what stays equals the file, and the unique (product, lang)
    # index never sees two images of one language at once.
    cursor.execute(
        f"DELETE FROM {image_table} WHERE (id_product IN (SELECT id_product FROM {stage_products}) "
        f"OR id_i18n_content IN (SELECT id_i18n_content FROM {stage_images})) "
        f"AND NOT EXISTS (SELECT 1 FROM {stage_images} AS s "
        f"WHERE s.id_i18n_content = {image_table}.id_i18n_content "
        f"AND s.id_product = {image_table}.id_product AND s.lang = {image_table}.lang "
        f"AND s.content = {image_table}.content) RETURNING id_product"
    )
    written.update(row[0] for row in cursor.fetchall())
    cursor.execute(
        f"INSERT INTO {image_table} (id_i18n_content, id_product, lang, content) "
        f"SELECT id_i18n_content, id_product, lang, content FROM {stage_images} AS s "
        f"WHERE NOT EXISTS (SELECT 1 FROM {image_table} AS i "
        f"WHERE i.id_i18n_content = s.id_i18n_content) ORDER BY id_i18n_content "
        f"RETURNING id_product"
    )
    written.update(row[0] for row in cursor.fetchall())
    return len(written)


@dataclass(frozen=True)
class OrderRecord:
    source: Source
    row: tuple[Any, ...]
    lines: list[tuple[Any, ...]]


class OrderImporter:
    """Upsert orders by `id_order`; each order's lines replaced as a set when they differ."""

    kind = "order"

    def __init__(self) -> None:
        self.order_rules = RowRules(Order, [a for _, a in ORDER_KEYS] + ["ambassador_id"])
        self.buyer_rules = RowRules(Ambassador, ["id_ambassador"])
        self.line_rules = RowRules(OrderProduct, [a for _, a in LINE_OWN_KEYS] + ["product_id"])
        self.fast_order = compile_row(
            self.order_rules, [*ORDER_KEYS, ("id_ambassador", "ambassador_id")]
        )
        self.fast_buyer = compile_row(self.buyer_rules, [("id_ambassador", "id_ambassador")])
        self.fast_line = compile_row(
            self.line_rules, [("product_id", "product_id"), *LINE_OWN_KEYS]
        )
        self.orders = StagingTable("bulk_stage_order", Order, ORDER_FIELDS)
        self.lines = StagingTable(
            "bulk_stage_line", OrderProduct, LINE_FIELDS, extra=(LINE_NO, "pos")
        )
        # The orders of a batch whose lines differ from the file's (filled by the merge).
        self.changed = StagingTable("bulk_changed_orders", Order, ["id_order"], extra=())
        self.seen = SeenIds()

    def prepare(self) -> None:
        with connection.cursor() as cursor:
            self.seen.create(cursor)

    def begin_batch(self) -> None:
        with connection.cursor() as cursor:
            self.orders.create(cursor)
            self.lines.create(cursor)
            self.changed.create(cursor)

    def finish(self) -> None:
        with connection.cursor() as cursor:
            self.seen.drop(cursor)

    def parse(self, source: Source) -> OrderRecord:
        try:
            record = self._parse_fast(source)
        except Exception:  # in doubt: the checked path below says why
            record = None
        return record if record is not None else self._parse_checked(source)

    def _parse_fast(self, source: Source) -> OrderRecord | None:
        """The record if it passes the compiled rules (`fast.py`) as is; None if in doubt."""
        value = source.value
        if type(value) is not dict or not ORDER_OBJECT.fits(value):
            return None
        row = self.fast_order(value)
        buyer = value["buyer"]
        if row is None or type(buyer) is not dict or not BUYER_REFERENCE.fits(buyer):
            return None
        buyer_row = self.fast_buyer(buyer)
        products = value["products"]
        if buyer_row is None or type(products) is not list:
            return None
        order_id = row[0]
        line_no = source.line
        lines = []
        fast_line = self.fast_line
        for position, product in enumerate(products, start=1):
            if type(product) is not dict or not PRODUCT_REFERENCE.fits(product):
                return None
            details = product["order_details"]
            if type(details) is not dict or not LINE_OBJECT.fits(details):
                return None
            product_id = product["id_product"]
            line = fast_line({**details, "product_id": product_id})
            if line is None:
                return None
            if ("id_order" in details and details["id_order"] != order_id) or (
                "id_product" in details and details["id_product"] != line[0]
            ):
                return None
            lines.append((line_no, position, order_id, *line))
        return OrderRecord(source, (line_no, *row, buyer_row[0]), lines)

    def _parse_checked(self, source: Source) -> OrderRecord:
        value = as_object(source.value, "an order")
        ORDER_OBJECT.check(value, "order")
        row = clean_row(
            {**value, "ambassador_id": value["id_ambassador"]},
            self.order_rules,
            [*ORDER_KEYS, ("ambassador_id", "ambassador_id")],
            what="order",
        )
        buyer = as_object(value["buyer"], "order.buyer")
        BUYER_REFERENCE.check(buyer, "order.buyer")
        buyer_id = clean_row(
            buyer, self.buyer_rules, [("id_ambassador", "id_ambassador")], what="order.buyer"
        )["id_ambassador"]
        order_id = row["id_order"]
        lines = []
        for index, item in enumerate(as_array(value["products"], "order.products")):
            lines.append(self._line(source.line, order_id, index, item))
        return OrderRecord(
            source,
            (source.line, *(row[f] for f in ORDER_FIELDS[:-1]), buyer_id),
            lines,
        )

    def _line(self, line_no: int, order_id: int, index: int, item: Any) -> tuple[Any, ...]:
        what = f"order.products[{index}]"
        product = as_object(item, what)
        PRODUCT_REFERENCE.check(product, what)
        details = as_object(product["order_details"], f"{what}.order_details")
        LINE_OBJECT.check(details, f"{what}.order_details")
        row = clean_row(
            {**details, "product_id": product["id_product"]},
            self.line_rules,
            [*LINE_OWN_KEYS, ("product_id", "product_id")],
            what=f"{what}.order_details",
        )
        for key, expected in (("id_order", order_id), ("id_product", row["product_id"])):
            if key in details and details[key] != expected:
                raise Invalid(
                    f"{what}.order_details.{key} is {details[key]!r}, but the line belongs to "
                    f"{key} {expected}"
                )
        return (line_no, index + 1, order_id, *(row[f] for f in LINE_FIELDS[1:]))

    def land(self, batch: list[OrderRecord]) -> Landed:
        by_line = {record.source.line: record.source for record in batch}
        landed = Landed()
        with connection.cursor() as cursor:
            self.orders.clear(cursor)
            self.lines.clear(cursor)
            cursor.execute("DELETE FROM bulk_changed_orders")
            self.orders.load(cursor, [record.row for record in batch])
            self.lines.load(cursor, [line for record in batch for line in record.lines])
            for line, ref, first in self.seen.duplicates(cursor, "order", self.orders, "id_order"):
                landed.rejected.append(
                    Rejected(
                        line,
                        f"id_order {ref} is also on line {first}: one line per order",
                        by_line[line].text,
                    )
                )
            self._drop(cursor, landed)
            self.seen.remember(cursor, "order", self.orders, "id_order")
            for column_name, why in (
                (
                    "id_ambassador",
                    "id_ambassador {id}: no such ambassador (import the ambassadors first)",
                ),
                (
                    "id_buyer",
                    "buyer.id_ambassador {id}: no such ambassador (import the ambassadors first)",
                ),
            ):
                rows = missing_references(cursor, self.orders, column_name, Ambassador)
                landed.rejected += _rejects(rows, by_line, why)
            rows = missing_references(cursor, self.lines, "id_product", Product)
            landed.rejected += _rejects(
                _first_per_line(rows),
                by_line,
                "products: id_product {id}: no such product (import the products first)",
            )
            self._drop(cursor, landed)
            landed.written = _merge_orders(cursor, self.orders, self.lines)
        return landed

    def _drop(self, cursor: Any, landed: Landed) -> None:
        dropped = [item.line for item in landed.rejected]
        self.orders.delete_lines(cursor, dropped)
        self.lines.delete_lines(cursor, dropped)

    def after_batch(self) -> None:
        with connection.cursor() as cursor:
            reset_sequences(cursor, [Order, OrderProduct])


def _first_per_line(rows: list[tuple[int, int]]) -> list[tuple[int, int]]:
    first: dict[int, int] = {}
    for line, ref in rows:
        first.setdefault(line, ref)
    return sorted(first.items())


def _merge_orders(cursor: Any, orders: StagingTable, lines: StagingTable) -> int:
    """Upsert the staged orders and replace the lines that differ; the number of orders written."""
    line_table, order_table = quote(OrderProduct._meta.db_table), quote(Order._meta.db_table)
    stage_orders, stage_lines = quote(orders.name), quote(lines.name)
    # Orders new to the database get their lines inserted without comparing them (a first
    # load is all new: the comparison was a tenth of its time).
    cursor.execute(
        f"INSERT INTO bulk_changed_orders (id_order) SELECT s.id_order FROM {stage_orders} AS s "
        f"WHERE NOT EXISTS (SELECT 1 FROM {order_table} AS o WHERE o.id_order = s.id_order)"
    )
    fresh = cursor.rowcount
    written = upsert(cursor, orders)
    compared = "id_order, pos, id_product, quantity, unit_price, sku, currency"
    # An existing order's lines are compared as a list (position = rank by id); only orders
    # whose list differs get theirs replaced, so a re-run rewrites nothing.
    cursor.execute(
        f"WITH existing AS (SELECT l.id_order, row_number() OVER (PARTITION BY l.id_order "
        f"ORDER BY l.id_order_product) AS pos, l.id_product, l.quantity, l.unit_price, l.sku, "
        f"l.currency FROM {line_table} AS l "
        f"WHERE l.id_order IN (SELECT id_order FROM {stage_orders})), "
        f"staged AS (SELECT {compared} FROM {stage_lines} "
        f"WHERE id_order NOT IN (SELECT id_order FROM bulk_changed_orders)) "
        f"INSERT INTO bulk_changed_orders (id_order) "
        f"SELECT id_order FROM (SELECT {compared} FROM staged "
        f"EXCEPT SELECT {compared} FROM existing) AS added "
        f"UNION SELECT id_order FROM (SELECT {compared} FROM existing "
        f"EXCEPT SELECT {compared} FROM staged) AS removed "
        f"RETURNING id_order"
    )
    changed = {row[0] for row in cursor.fetchall()}
    if changed:
        cursor.execute(
            f"DELETE FROM {line_table} WHERE id_order IN (SELECT id_order FROM bulk_changed_orders)"
        )
    if changed or fresh:
        cursor.execute(
            f"INSERT INTO {line_table} (id_order, id_product, quantity, unit_price, sku, currency) "
            f"SELECT id_order, id_product, quantity, unit_price, sku, currency FROM {stage_lines} "
            f"WHERE id_order IN (SELECT id_order FROM bulk_changed_orders) ORDER BY id_order, pos"
        )
    return len(written | changed)
