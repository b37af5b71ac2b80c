"""`manage.py import_products FILE|-`: upsert products and their images from JSON Lines."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from orders import services
from platform_api.bulk.batches import Rejected, Source, Totals
from platform_api.bulk.commands import ImportCommand


class Command(ImportCommand):
    help = (
        "Import products from JSON Lines, one product a line in the orders route's product shape "
        "with its images (without order_details). Upserts by id_product; a product's images are "
        "replaced as a set (by id_i18n_content). Re-running a file changes nothing. Exit status: "
        "0 all landed, 1 some rejected, 2 unreadable input, 3 stopped "
        "(database or reader lost), 130 interrupted."
    )
    what = "products"

    def land(self, sources: Iterable[Source | Rejected], batch_size: int, listener: Any) -> Totals:
        return services.products_import(sources=sources, batch_size=batch_size, listener=listener)
