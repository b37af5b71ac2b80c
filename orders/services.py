"""Writes for orders and products: the bulk import, and the export that reads back what it writes.

An import is not one transaction: each batch commits or rolls back whole (`platform_api.bulk`),
so a long load can be interrupted and re-run without losing or doubling anything.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import IO

from django.db import connections, router, transaction

from orders import csv_layout
from orders.exports import iter_orders, iter_products, orders_for_export
from orders.imports import OrderImporter, ProductImporter
from orders.models import AmbassadorOrderCount
from platform_api.bulk.batches import Listener, Rejected, Source, Totals, run_import
from platform_api.bulk.exports import consistent_snapshot, write_json_lines


def products_import(
    *, sources: Iterable[Source | Rejected], batch_size: int, listener: Listener
) -> Totals:
    """Upsert products (and their images) by id from decoded records."""
    return run_import(sources, ProductImporter(), batch_size=batch_size, listener=listener)


def orders_import(
    *,
    sources: Iterable[Source | Rejected],
    batch_size: int,
    listener: Listener,
    row_triggers: bool = False,
) -> Totals:
    """Upsert orders (and replace their lines) by id from decoded records; `row_triggers`
    keeps the tables' triggers firing even where the role could skip them."""
    importer = OrderImporter(row_triggers=row_triggers)
    return run_import(sources, importer, batch_size=batch_size, listener=listener)


def products_export(*, out: IO[bytes]) -> int:
    """Every product with its images, as JSON Lines; the number written."""
    with consistent_snapshot():
        return write_json_lines(out, iter_products())


def orders_export(
    *,
    out: IO[bytes],
    csv: bool = False,
    ambassador_id: int | None = None,
    brand_id: int | None = None,
) -> int:
    """Orders (all, one ambassador's, or one brand's) as JSON Lines or CSV; the number written."""
    with consistent_snapshot():
        orders = iter_orders(orders_for_export(ambassador_id=ambassador_id, brand_id=brand_id))
        if csv:
            text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
            try:
                return csv_layout.write_orders(text, orders)
            finally:
                text.detach()
        return write_json_lines(out, orders)


def order_counts_rebuild() -> int | None:
    """Recount every ambassador's orders into `AmbassadorOrderCount` (after a load that skipped
    triggers, e.g. `session_replication_role = replica`); how many counters were wrong, or None
    where the database counts instead (not PostgreSQL).

    Writes to the orders wait while it runs (SHARE ROW EXCLUSIVE lock); reads go on.
    """
    alias = router.db_for_write(AmbassadorOrderCount)
    connection = connections[alias]
    if connection.vendor != "postgresql":
        return None
    with transaction.atomic(using=alias), connection.cursor() as cursor:
        # The function is the migration's (orders/migrations/0003_ambassador_order_count.py).
        cursor.execute("SELECT orders_order_count_rebuild()")
        (corrected,) = cursor.fetchone()
    return int(corrected)
