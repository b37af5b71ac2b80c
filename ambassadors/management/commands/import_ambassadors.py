"""`manage.py import_ambassadors FILE|-`: upsert ambassadors from JSON Lines."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ambassadors import services
from platform_api.bulk.batches import Rejected, Source, Totals
from platform_api.bulk.commands import ImportCommand


class Command(ImportCommand):
    help = (
        "Import ambassadors from JSON Lines: one a line, as GET /platform/ambassadors/{id} "
        "answers it plus the buyer's email, email_tmp, last_action_date and anonymized, "
        "id_referrer and date_update. Upserts by id_ambassador; date_update kept as given; the "
        "brand must exist, the referrer be in the database or earlier in the file. Exit status: "
        "0 all landed, 1 some rejected, 2 unreadable input, 3 stopped "
        "(database or reader lost), 130 interrupted."
    )
    what = "ambassadors"

    def land(self, sources: Iterable[Source | Rejected], batch_size: int, listener: Any) -> Totals:
        return services.ambassadors_import(
            sources=sources, batch_size=batch_size, listener=listener
        )
