"""`manage.py export_products --out FILE|-`: every product with its images, as JSON Lines."""

from __future__ import annotations

from typing import IO, Any

from orders import services
from platform_api.bulk.commands import ExportCommand


class Command(ExportCommand):
    help = "Export every product with its images as JSON Lines, the format import_products reads."
    what = "products"

    def write(self, out: IO[bytes], options: dict[str, Any]) -> int:
        return services.products_export(out=out)
