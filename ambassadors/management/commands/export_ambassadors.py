"""`manage.py export_ambassadors [--brand ID] --out FILE|-`."""

from __future__ import annotations

from typing import IO, Any

from django.core.management.base import CommandError, CommandParser

from ambassadors import services
from ambassadors.selectors import brand_exists
from platform_api.bulk.commands import EXIT_UNREADABLE, ExportCommand


class Command(ExportCommand):
    help = "Export ambassadors (all, or one brand's) as JSON Lines, as import_ambassadors reads."
    what = "ambassadors"

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--brand", type=int, metavar="ID", help="Only this brand's.")

    def check_options(self, options: dict[str, Any]) -> None:
        if options["brand"] is not None and not brand_exists(options["brand"]):
            raise CommandError(
                f"--brand {options['brand']}: no such brand", returncode=EXIT_UNREADABLE
            )

    def write(self, out: IO[bytes], options: dict[str, Any]) -> int:
        return services.ambassadors_export(out=out, brand_id=options["brand"])
