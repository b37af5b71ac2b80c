"""`manage.py import_orders FILE|-`: upsert orders and their lines from JSON Lines or CSV."""

from __future__ import annotations

from collections.abc import Iterable
from typing import IO, Any

from django.core.management.base import CommandParser

from orders import csv_layout, services
from platform_api.bulk.batches import Rejected, Source, Totals, Unusable, read_json_lines
from platform_api.bulk.commands import ImportCommand


class Command(ImportCommand):
    help = (
        "Import orders from JSON Lines (one order a line: the orders route's order plus the "
        "credited id_ambassador) or CSV (one row per line, docs/import-export.md). Upserts by "
        "id_order; an order's lines are replaced as a set; date_update is kept as given. Buyers, "
        "credited ambassadors and products must exist (import them first). Exit status: 0 all "
        "landed, 1 some rejected, 2 unreadable input, 3 stopped "
        "(database or reader lost), 130 interrupted."
    )
    what = "orders"
    formats = ("jsonl", "csv")
    row_triggers = False

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--row-triggers",
            action="store_true",
            help="Keep every trigger of the orders tables firing (references checked row by "
            "row, about half the speed): for a database with triggers of its own on them.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self.row_triggers = bool(options["row_triggers"])
        super().handle(*args, **options)

    def read(self, stream: IO[bytes], fmt: str) -> Iterable[Source | Rejected]:
        if fmt == "csv":
            return csv_layout.read_orders(stream)
        # The CSV read as JSON Lines would reject every row (standard input without --format).
        peek = getattr(stream, "peek", None)
        if peek is not None and csv_layout.starts_with_header(peek(4096)):
            raise Unusable(
                "the input is the orders CSV (its header row), not JSON Lines: pass --format csv "
                "(or name the file .csv)"
            )
        return read_json_lines(stream)

    def land(self, sources: Iterable[Source | Rejected], batch_size: int, listener: Any) -> Totals:
        return services.orders_import(
            sources=sources,
            batch_size=batch_size,
            listener=listener,
            row_triggers=self.row_triggers,
        )
