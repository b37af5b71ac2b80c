"""Orders as a streamed CSV download, in the agreed layout (`orders/csv_layout.py`).

The rows are the export's (`orders.exports.iter_orders`: the orders route's own renderer, a chunk
of orders per query), so the admin's download and `manage.py export_orders --format csv` write
the same bytes for the same orders.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from django.db.models import QuerySet

from orders.csv_layout import COLUMNS, order_rows
from orders.exports import iter_orders
from orders.models import Order

# Orders rendered per query while streaming.
CHUNK_ORDERS = 500


def orders_csv(orders: QuerySet[Order]) -> Iterator[str]:
    """The header, then the rows of every order of `orders` by id, a chunk at a time so that
    memory stays flat however long the download."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)  # RFC 4180: the csv module's defaults, \r\n line ends

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(COLUMNS)
    yield flush()
    # By id: the export reads on from the last id it wrote (an order by date would repeat rows).
    for order in iter_orders(orders.order_by("id_order"), chunk=CHUNK_ORDERS):
        writer.writerows(order_rows(order))
        yield flush()
