"""`manage.py export_orders [--ambassador ID] [--brand ID] --out FILE|-`."""

from __future__ import annotations

from typing import IO, Any

from django.core.management.base import CommandError, CommandParser

from ambassadors.selectors import ambassador_exists, brand_exists
from orders import services
from platform_api.bulk.commands import EXIT_UNREADABLE, ExportCommand


class Command(ExportCommand):
    help = (
        "Export orders as JSON Lines (or CSV with --format csv or a .csv file name), the format "
        "import_orders reads: all of them, one credited ambassador's, or one brand's."
    )
    what = "orders"

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--ambassador", type=int, metavar="ID", help="Only this ambassador's credited orders."
        )
        parser.add_argument(
            "--brand",
            type=int,
            metavar="ID",
            help="Only orders credited to this brand's ambassadors.",
        )
        parser.add_argument(
            "--format",
            choices=("jsonl", "csv"),
            help="Default: from --out's extension, else jsonl.",
        )

    def check_options(self, options: dict[str, Any]) -> None:
        # A mistyped id would otherwise write an empty file and succeed.
        if options["ambassador"] is not None and not ambassador_exists(options["ambassador"]):
            raise CommandError(
                f"--ambassador {options['ambassador']}: no such ambassador",
                returncode=EXIT_UNREADABLE,
            )
        if options["brand"] is not None and not brand_exists(options["brand"]):
            raise CommandError(
                f"--brand {options['brand']}: no such brand", returncode=EXIT_UNREADABLE
            )

    def write(self, out: IO[bytes], options: dict[str, Any]) -> int:
        fmt = options["format"] or ("csv" if options["out"].lower().endswith(".csv") else "jsonl")
        return services.orders_export(
            out=out,
            csv=fmt == "csv",
            ambassador_id=options["ambassador"],
            brand_id=options["brand"],
        )
