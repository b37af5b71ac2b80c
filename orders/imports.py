"""Importing products (with their images) and orders (with their lines), in the API's shapes.

Keys come from `orders/shape.py`: a product line is the orders route's product without
`order_details`; an order line is the route's order plus the credited `id_ambassador`. In an
order, `buyer` and each product are references, by `id_ambassador` and `id_product` (their other
keys are the export's snapshot and are not written: the ambassadors and products files are the
source of those rows); `products[].order_details` are the order's lines, in order. Computed keys
(`total_price`, `total_products_quantity`, `online`) are accepted and ignored.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

import psycopg
from django.db import DatabaseError, IntegrityError, connection, transaction

from ambassadors.models import Ambassador
from orders import shape
from orders.models import I18nContent, Order, OrderProduct, Product
from platform_api.bulk.batches import Landed, RedoBatch, Rejected, Source
from platform_api.bulk.fast import compile_row, copy_line
from platform_api.bulk.records import Keys, as_array, as_object, clean_row
from platform_api.bulk.rules import Invalid, RowRules
from platform_api.bulk.staging import (
    BIGINT_MAX,
    BIGINT_MIN,
    LINE_NO,
    SeenIds,
    StagingTable,
    column,
    copy_text,
    distinct_from,
    id_array,
    is_postgresql,
    missing_references,
    quote,
    reset_sequences,
    upsert,
    upsert_sql,
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


_DUPLICATE = "id_order {id} is also on line {first}: one line per order"
_NO_SELLER = "id_ambassador {id}: no such ambassador (import the ambassadors first)"
_NO_BUYER = "buyer.id_ambassador {id}: no such ambassador (import the ambassadors first)"
_NO_PRODUCT = "products: id_product {id}: no such product (import the products first)"


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
    note = ""

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
        ids: dict[int, int] = {}
        for index, item in enumerate(as_array(value["images"], "images")):
            what = f"images[{index}]"
            image = as_object(item, what)
            IMAGE_OBJECT.check(image, what)
            cleaned = clean_row(image, self.image_rules, IMAGE_KEYS, what=what)
            if cleaned["lang"] in languages:
                raise Invalid(f"{what}: a second image in {cleaned['lang']}: one per language")
            languages.add(cleaned["lang"])
            image_id = cleaned["id_i18n_content"]
            if image_id in ids:
                raise Invalid(
                    f"{what}.id_i18n_content {image_id} is also images[{ids[image_id]}]'s: "
                    "one id per image"
                )
            ids[image_id] = index
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


@dataclass(slots=True)  # not frozen: its __init__ cost 1.4 µs a record (0.3 µs so), both sides
class OrderRecord:
    source: Source
    # SQLite: rows in staging order (line number first) as tuples. PostgreSQL: COPY text
    # (`fast.py`) in the real tables' columns, ORDER_FIELDS and LINE_FIELDS, as a batch of new
    # orders goes into them; staging puts line number and position in front.
    row: tuple[Any, ...] | str
    lines: list[tuple[Any, ...]] | str
    # What the checks and the counter need, without staging the rows.
    id_order: int
    id_ambassador: int
    id_buyer: int
    products: tuple[int, ...]

    def staged_row(self) -> str:
        """The order's COPY text for its staging table (PostgreSQL)."""
        return f"{self.source.line}\t{self.row}"

    def staged_lines(self) -> str:
        """The lines' COPY text for their staging table (PostgreSQL)."""
        assert isinstance(self.lines, str)
        line = self.source.line
        # COPY text escapes newlines in values: each "\n" ends a row.
        return "".join(
            f"{line}\t{position}\t{text}\n"
            for position, text in enumerate(self.lines.split("\n")[:-1], start=1)
        )


# (required, allowed) key sets of the shapes, for `_parse_fast`.
_ORDER_KEYS = (ORDER_OBJECT.required_set, ORDER_OBJECT.allowed)
_BUYER_KEYS = (BUYER_REFERENCE.required_set, BUYER_REFERENCE.allowed)
_PRODUCT_KEYS = (PRODUCT_REFERENCE.required_set, PRODUCT_REFERENCE.allowed)
_LINE_KEYS = (LINE_OBJECT.required_set, LINE_OBJECT.allowed)


class OrderImporter:
    """Upsert orders by `id_order`; each order's lines replaced as a set when they differ.

    On PostgreSQL, when the role may set `session_replication_role` (a superuser, or
    `GRANT SET ON PARAMETER session_replication_role`), each batch runs with it set to `replica`
    for its transaction only: the per-row foreign-key triggers do not fire, and the batch does
    their work set-based instead (`_merge_orders_replica`): it locks the rows they would lock,
    checks the references as it always does, and moves the order counter as the counter's
    triggers would. Otherwise, the triggers do it (and the summary says so).
    """

    kind = "order"

    def __init__(self, *, row_triggers: bool = False) -> None:
        self.row_triggers = row_triggers
        self.copy = is_postgresql()
        self.order_rules = RowRules(Order, [a for _, a in ORDER_KEYS] + ["ambassador_id"])
        self.buyer_rules = RowRules(Ambassador, ["id_ambassador"])
        self.line_rules = RowRules(OrderProduct, [a for _, a in LINE_OWN_KEYS] + ["product_id"])
        self.fast_order = compile_row(
            self.order_rules, [*ORDER_KEYS, ("id_ambassador", "ambassador_id")], copy=self.copy
        )
        self.fast_line = compile_row(self.line_rules, LINE_OWN_KEYS, copy=self.copy)
        self.orders = StagingTable("bulk_stage_order", Order, ORDER_FIELDS)
        self.lines = StagingTable(
            "bulk_stage_line", OrderProduct, LINE_FIELDS, extra=(LINE_NO, "pos")
        )
        # The orders of a batch whose lines differ from the file's (filled by the merge).
        self.changed = StagingTable("bulk_changed_orders", Order, ["id_order"], extra=())
        # The existing orders of a batch with the triggers off: loaded from the records' COPY
        # text as it is (no line numbers: the checks are done; positions from the load order).
        self.known_orders = StagingTable("bulk_stage_order", Order, ORDER_FIELDS, extra=())
        self.known_lines = StagingTable(
            "bulk_stage_line", OrderProduct, LINE_FIELDS, extra=(), serial="seq"
        )
        self.seen = SeenIds()
        self.replica = False  # may this role skip the triggers (decided by `prepare`)?
        self.note = ""
        self._replica_batch = False  # this batch skips them
        self._redo_with_triggers = False  # the next attempt of this batch must not
        self._role_before = "origin"

    def prepare(self) -> None:
        with connection.cursor() as cursor:
            self.seen.create(cursor)
        if is_postgresql():
            self.replica = not self.row_triggers and replica_allowed()
            if self.replica:
                self.note = "references checked per batch"
            elif self.row_triggers:
                self.note = "references checked row by row: --row-triggers"
            else:
                self.note = (
                    "references checked row by row: this role may not set "
                    "session_replication_role (docs/import-export.md)"
                )

    def begin_batch(self) -> None:
        self._replica_batch = self.replica and not self._redo_with_triggers
        self._redo_with_triggers = False
        with connection.cursor() as cursor:
            if self._replica_batch:
                # For this transaction only: an interrupted batch rolls back with it.
                cursor.execute(
                    "SELECT current_setting('session_replication_role'), "
                    "set_config('session_replication_role', 'replica', true)"
                )
                self._role_before = cursor.fetchone()[0]
            else:  # a batch with the triggers off stages only its existing orders, if any
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
        # `Keys.fits`, inline: 8 calls a record were a tenth of its time.
        if type(value) is not dict or not _ORDER_KEYS[0] <= value.keys() <= _ORDER_KEYS[1]:
            return None
        row = self.fast_order(value)
        buyer = value["buyer"]
        if (
            row is None
            or type(buyer) is not dict
            or not _BUYER_KEYS[0] <= buyer.keys() <= _BUYER_KEYS[1]
        ):
            return None
        buyer_id = buyer["id_ambassador"]
        products = value["products"]
        if (
            type(buyer_id) is not int
            or not BIGINT_MIN <= buyer_id <= BIGINT_MAX
            or type(products) is not list
        ):
            return None
        order_id = value["id_order"]  # an int: the compiled rules checked it
        line_no = source.line
        lines: list[Any] = []
        product_ids: list[int] = []
        fast_line, copy = self.fast_line, self.copy
        product_keys, line_keys = _PRODUCT_KEYS, _LINE_KEYS
        for position, product in enumerate(products, start=1):
            if (
                type(product) is not dict
                or not product_keys[0] <= product.keys() <= product_keys[1]
            ):
                return None
            details = product["order_details"]
            if type(details) is not dict or not line_keys[0] <= details.keys() <= line_keys[1]:
                return None
            product_id = product["id_product"]
            if type(product_id) is not int or not BIGINT_MIN <= product_id <= BIGINT_MAX:
                return None
            line = fast_line(details)
            if line is None:
                return None
            if ("id_order" in details and details["id_order"] != order_id) or (
                "id_product" in details and details["id_product"] != product_id
            ):
                return None
            product_ids.append(product_id)
            if copy:
                lines.append(f"{order_id}\t{product_id}\t{line}\n")
            else:
                lines.append((line_no, position, order_id, product_id, *line))
        keys = (order_id, value["id_ambassador"], buyer_id, tuple(product_ids))
        if copy:
            return OrderRecord(source, f"{row}\t{buyer_id}\n", "".join(lines), *keys)
        return OrderRecord(source, (line_no, *row, buyer_id), lines, *keys)

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
        order = (source.line, *(row[f] for f in ORDER_FIELDS[:-1]), buyer_id)
        keys = (order_id, row["ambassador_id"], buyer_id, tuple(line[3] for line in lines))
        if self.copy:
            text = "".join(copy_line(line[2:]) for line in lines)
            return OrderRecord(source, copy_line(order[1:]), text, *keys)
        return OrderRecord(source, order, lines, *keys)

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
        if self._replica_batch:
            return self._land_replica(batch)
        by_line = {record.source.line: record.source for record in batch}
        landed = Landed()
        with connection.cursor() as cursor:
            self.orders.clear(cursor)
            self.lines.clear(cursor)
            cursor.execute("DELETE FROM bulk_changed_orders")
            if self.copy:
                self.orders.load_text(cursor, "".join(r.staged_row() for r in batch))
                self.lines.load_text(cursor, "".join(r.staged_lines() for r in batch))
            else:
                self.orders.load(cursor, [record.row for record in batch])
                self.lines.load(cursor, [line for record in batch for line in record.lines])
            for line, ref, first in self.seen.duplicates(cursor, "order", self.orders, "id_order"):
                landed.rejected.append(
                    Rejected(line, _DUPLICATE.format(id=ref, first=first), by_line[line].text)
                )
            self._drop(cursor, landed)
            self.seen.remember(cursor, "order", self.orders, "id_order")
            for column_name, why in (("id_ambassador", _NO_SELLER), ("id_buyer", _NO_BUYER)):
                rows = missing_references(cursor, self.orders, column_name, Ambassador)
                landed.rejected += _rejects(_not_yet(rows, landed), by_line, why)
            rows = missing_references(cursor, self.lines, "id_product", Product)
            landed.rejected += _rejects(
                _not_yet(_first_per_line(rows), landed), by_line, _NO_PRODUCT
            )
            self._drop(cursor, landed)
            landed.written = _merge_orders(cursor, self.orders, self.lines)
        return landed

    def _land_replica(self, batch: list[OrderRecord]) -> Landed:
        """A batch with the triggers off: checked on the records' keys, then merged."""
        landed = Landed()
        with connection.cursor() as cursor:
            records = self._checked(cursor, batch, landed)
            try:
                landed.written = _merge_orders_replica(
                    cursor, records, self.known_orders, self.known_lines, self.changed
                )
            except RedoBatch:
                self._redo_with_triggers = True
                raise
        return landed

    def _checked(self, cursor: Any, batch: list[OrderRecord], landed: Landed) -> list[OrderRecord]:
        """The records without a duplicate id or a missing reference; the others rejected.

        The same checks, in the same order, as the staged path's statements, on the keys the
        records carry. The references are locked as the foreign keys' triggers would lock them
        (`_locked`), and what the locks do not find is missing.
        """
        earlier = self.seen.earlier(cursor, "order", [record.id_order for record in batch])
        first: dict[int, int] = {}
        unique = []
        for record in batch:
            line = record.source.line
            seen = earlier.get(record.id_order)
            if seen is None:
                seen = first.setdefault(record.id_order, line)
            if seen == line:
                unique.append(record)
            else:
                why = _DUPLICATE.format(id=record.id_order, first=seen)
                landed.rejected.append(Rejected(line, why, record.source.text))
        self.seen.add(cursor, "order", [(r.id_order, r.source.line) for r in unique])
        people = _locked(
            cursor, Ambassador, {r.id_ambassador for r in unique} | {r.id_buyer for r in unique}
        )
        products = _locked(cursor, Product, {ref for r in unique for ref in r.products})
        refused: set[int] = set()

        def refuse(record: OrderRecord, why: str, ref: int) -> None:
            refused.add(record.source.line)
            landed.rejected.append(
                Rejected(record.source.line, why.format(id=ref), record.source.text)
            )

        for record in unique:
            if record.id_ambassador not in people:
                refuse(record, _NO_SELLER, record.id_ambassador)
        for record in unique:
            if record.source.line not in refused and record.id_buyer not in people:
                refuse(record, _NO_BUYER, record.id_buyer)
        for record in unique:
            if record.source.line not in refused:
                for ref in record.products:
                    if ref not in products:
                        refuse(record, _NO_PRODUCT, ref)
                        break
        return [record for record in unique if record.source.line not in refused]

    def _drop(self, cursor: Any, landed: Landed) -> None:
        dropped = [item.line for item in landed.rejected]
        self.orders.delete_lines(cursor, dropped)
        self.lines.delete_lines(cursor, dropped)

    def after_batch(self) -> None:
        with connection.cursor() as cursor:
            reset_sequences(cursor, [Order, OrderProduct])
            if self._replica_batch:
                # The transaction's end restores it too; this is for a caller's outer one.
                cursor.execute(
                    "SELECT set_config('session_replication_role', %s, true)", [self._role_before]
                )


def replica_allowed() -> bool:
    """May this connection's role set `session_replication_role` (tried, then rolled back)?"""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
            transaction.set_rollback(True)
    except DatabaseError:
        return False
    return True


def _not_yet(rows: list[tuple[int, int]], landed: Landed) -> list[tuple[int, int]]:
    """The rows of records not rejected yet: a record is rejected once, for its first fault."""
    rejected = {item.line for item in landed.rejected}
    return [(line, ref) for line, ref in rows if line not in rejected]


def _first_per_line(rows: list[tuple[int, int]]) -> list[tuple[int, int]]:
    first: dict[int, int] = {}
    for line, ref in rows:
        first.setdefault(line, ref)
    return sorted(first.items())


def _locked(cursor: Any, model: type[Ambassador | Product | Order], ids: set[int]) -> set[int]:
    """Those of `ids` that are rows of `model`, locked as the foreign keys' triggers lock them.

    `FOR KEY SHARE`, in id order, one statement: a concurrent DELETE (or key change) of one of
    them waits for this batch's COMMIT (and then fails on the rows that name it); one that
    committed first, even while this statement waited for it, leaves its row out: missing.
    """
    if not ids:
        return set()
    table, key = quote(model._meta.db_table), quote(column(model, model._meta.pk.name))
    cursor.execute(
        f"SELECT {key} FROM {table} WHERE {key} = ANY(%s::bigint[]) ORDER BY {key} FOR KEY SHARE",
        [id_array(sorted(ids))],
    )
    return {row[0] for row in cursor.fetchall()}


def _merge_orders(cursor: Any, orders: StagingTable, lines: StagingTable) -> int:
    """Upsert the staged orders and replace the lines that differ; the number of orders written."""
    order_table, stage_orders = quote(Order._meta.db_table), quote(orders.name)
    # Orders new to the database get their lines inserted without comparing them (a first
    # load is all new: the comparison was a tenth of its time).
    cursor.execute(
        f"INSERT INTO bulk_changed_orders (id_order) SELECT s.id_order FROM {stage_orders} AS s "
        f"WHERE NOT EXISTS (SELECT 1 FROM {order_table} AS o WHERE o.id_order = s.id_order)"
    )
    fresh = cursor.rowcount
    written = upsert(cursor, orders)
    changed = _changed_lines(cursor, orders, lines)
    _replace_lines(cursor, lines, changed=bool(changed), fresh=bool(fresh))
    return len(written | changed)


def _merge_orders_replica(
    cursor: Any,
    records: list[OrderRecord],
    orders: StagingTable,
    lines: StagingTable,
    changed_orders: StagingTable,
) -> int:
    """`_merge_orders` with the triggers off: what they would do, done here set-based.

    New orders and their lines are COPY'd straight into the tables (no staging: a first load
    is all new); existing ones are staged and upserted, their lines compared. Foreign keys:
    the references are locked and checked (`_locked`); an existing order that gets lines here
    is locked `FOR KEY SHARE` (a new one is this transaction's own). The order counter
    (orders.0003): +1 for each order inserted, -1/+1 for each one re-attributed, applied by the
    triggers' own `orders_order_count_add` (counters locked in id order). Each delta comes from
    a row this transaction holds: orders it inserts (no concurrent insert of the same id: that
    one is the RedoBatch case), and existing ones it locks before updating, reading their
    ambassador. Anything else (a row changed or removed concurrently) redoes the batch with the
    triggers.
    """
    if not records:
        return 0
    order_table = Order._meta.db_table
    # Which exist: only ids up to the highest are looked up (a first load or a feed of new
    # orders, none). One inserted concurrently in between is the COPY's unique violation.
    cursor.execute(f"SELECT max(id_order) FROM {quote(order_table)}")
    highest = cursor.fetchone()[0]
    existing: set[int] = set()
    candidates = [] if highest is None else [r.id_order for r in records if r.id_order <= highest]
    if candidates:
        cursor.execute(
            f"SELECT id_order FROM {quote(order_table)} WHERE id_order = ANY(%s::bigint[])",
            [id_array(candidates)],
        )
        existing = {row[0] for row in cursor.fetchall()}
    fresh = [record for record in records if record.id_order not in existing]
    known = [record for record in records if record.id_order in existing]
    if fresh:
        # A plain COPY: one inserted concurrently under the same id is a unique violation
        # (RedoBatch), never an update whose previous ambassador is unknown.
        try:
            # By ambassador: 5 of the 9 indexes lead with it, and neighbouring entries are
            # cheaper to add (~10% of the backend's CPU for a first load, bench/RESULTS.md).
            by_ambassador = sorted(fresh, key=attrgetter("id_ambassador"))
            with transaction.atomic():
                copy_text(
                    cursor,
                    order_table,
                    [column(Order, name) for name in ORDER_FIELDS],
                    "".join(record.row for record in by_ambassador),  # type: ignore[misc]
                )
        except IntegrityError as exc:
            if isinstance(exc.__cause__, psycopg.errors.UniqueViolation):
                raise RedoBatch("an order was inserted concurrently") from exc
            raise  # a rule the checks do not know: batches.py isolates the record
    counts = Counter(record.id_ambassador for record in fresh)  # ambassador -> change
    written: set[int] = set()  # existing orders updated
    if known:
        for table in (orders, lines, changed_orders):
            table.create(cursor)
        orders.load_text(cursor, "".join(record.row for record in known))  # type: ignore[misc]
        lines.load_text(cursor, "".join(record.lines for record in known))  # type: ignore[misc]
        written = _update_orders(cursor, orders, counts)
    moved = sorted((ref, delta) for ref, delta in counts.items() if delta)
    if moved:
        # The counter's triggers' work, in one call (its counters locked in id order).
        cursor.execute(
            "SELECT orders_order_count_add(%s::bigint[], %s::bigint[])",
            [id_array(ref for ref, _ in moved), id_array(delta for _, delta in moved)],
        )
    if fresh:
        # In the file's order: an order's lines get ascending ids, so rank by id = position.
        copy_text(
            cursor,
            OrderProduct._meta.db_table,
            [column(OrderProduct, name) for name in LINE_FIELDS],
            "".join(record.lines for record in fresh),  # type: ignore[misc]
        )
    changed: set[int] = set()
    if known:
        changed = _changed_lines(cursor, orders, lines, position=_LOADED_POSITION)
        kept = changed - written  # existing orders whose lines change, their row does not
        if kept and len(_locked(cursor, Order, kept)) != len(kept):
            raise RedoBatch("an order was removed concurrently")
        _replace_lines(cursor, lines, changed=bool(changed), fresh=False, order="seq")
    return len(fresh) + len(written | changed)


def _update_orders(cursor: Any, orders: StagingTable, counts: Counter[int]) -> set[int]:
    """Upsert the staged (existing) orders; their ids. Re-attributions moved in `counts`."""
    order_table, stage_orders = quote(Order._meta.db_table), quote(orders.name)
    changing = [c for c in (column(Order, name) for name in orders.fields) if c != "id_order"]
    # The existing orders that differ from the file, locked before they are read.
    cursor.execute(
        f"SELECT o.id_order, o.id_ambassador FROM {order_table} AS o "
        f"JOIN {stage_orders} AS s ON s.id_order = o.id_order "
        f"WHERE {distinct_from('o', 's', changing)} ORDER BY o.id_order FOR UPDATE OF o"
    )
    before = dict(cursor.fetchall())
    # As `upsert`, plus each row's ambassador: a row written that was not locked above (one
    # changed, or removed and now inserted again, by a concurrent writer) redoes the batch.
    cursor.execute(f"{upsert_sql(orders)} RETURNING id_order, id_ambassador")
    written = set()
    for order, ambassador in cursor.fetchall():
        if order not in before:
            raise RedoBatch(f"order {order} was changed concurrently")
        if before[order] != ambassador:
            counts[before[order]] -= 1
            counts[ambassador] += 1
        written.add(order)
    return written


# A line's position in its order when the staging table numbers the rows as loaded (`seq`).
_LOADED_POSITION = "row_number() OVER (PARTITION BY id_order ORDER BY seq)"


def _changed_lines(
    cursor: Any, orders: StagingTable, lines: StagingTable, *, position: str = "pos"
) -> set[int]:
    """Existing orders whose staged lines differ from theirs, added to bulk_changed_orders."""
    line_table = quote(OrderProduct._meta.db_table)
    stage_orders, stage_lines = quote(orders.name), quote(lines.name)
    compared = "id_order, pos, id_product, quantity, unit_price, sku, currency"
    staged = f"id_order, {position} AS pos, id_product, quantity, unit_price, sku, currency"
    # An existing order's lines are compared as a list (position = rank by id); only orders
    # whose list differs get theirs replaced, so a re-run rewrites nothing.
    cursor.execute(
        f"WITH existing AS (SELECT l.id_order, row_number() OVER (PARTITION BY l.id_order "
        f"ORDER BY l.id_order_product) AS pos, l.id_product, l.quantity, l.unit_price, l.sku, "
        f"l.currency FROM {line_table} AS l "
        f"WHERE l.id_order IN (SELECT id_order FROM {stage_orders})), "
        f"staged AS (SELECT {staged} FROM {stage_lines} "
        f"WHERE id_order NOT IN (SELECT id_order FROM bulk_changed_orders)) "
        f"INSERT INTO bulk_changed_orders (id_order) "
        f"SELECT id_order FROM (SELECT {compared} FROM staged "
        f"EXCEPT SELECT {compared} FROM existing) AS added "
        f"UNION SELECT id_order FROM (SELECT {compared} FROM existing "
        f"EXCEPT SELECT {compared} FROM staged) AS removed "
        f"RETURNING id_order"
    )
    return {row[0] for row in cursor.fetchall()}


def _replace_lines(
    cursor: Any, lines: StagingTable, *, changed: bool, fresh: bool, order: str = "id_order, pos"
) -> None:
    """The lines of the orders in bulk_changed_orders: deleted (changed ones), then inserted."""
    line_table, stage_lines = quote(OrderProduct._meta.db_table), quote(lines.name)
    if changed:
        cursor.execute(
            f"DELETE FROM {line_table} WHERE id_order IN (SELECT id_order FROM bulk_changed_orders)"
        )
    if changed or fresh:
        cursor.execute(
            f"INSERT INTO {line_table} (id_order, id_product, quantity, unit_price, sku, currency) "
            f"SELECT id_order, id_product, quantity, unit_price, sku, currency FROM {stage_lines} "
            f"WHERE id_order IN (SELECT id_order FROM bulk_changed_orders) ORDER BY {order}"
        )
