"""`manage.py rebuild_order_counts`: recount the orders route's unfiltered totals."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from orders.services import order_counts_rebuild


class Command(BaseCommand):
    help = (
        "Recount every ambassador's orders into the counters PostgreSQL's triggers keep "
        "(orders_ambassador_order_count). Run it after loading orders with triggers off "
        "(session_replication_role = replica, as bench/dataset.sql does); otherwise the counters "
        "are already exact and nothing changes. Writes to the orders wait while it runs (about "
        "half a second per million orders); reads go on."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        corrected = order_counts_rebuild()
        if corrected is None:
            self.stdout.write("Nothing to rebuild: this database counts orders on every request.")
            return
        seconds = time.perf_counter() - started
        self.stdout.write(
            f"Recounted every ambassador's orders in {seconds:.1f} s: "
            f"{corrected} counter{'s' if corrected != 1 else ''} corrected."
        )
