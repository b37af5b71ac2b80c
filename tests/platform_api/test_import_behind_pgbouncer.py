"""`manage.py import_orders` through a real PgBouncer in transaction mode (Debian's): the
import keeps no session state between batches (staging tables are dropped at each COMMIT), so
a transaction pooler may hand each batch to another server connection."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from orders.models import Order, OrderProduct
from tests.factories import (
    AmbassadorFactory,
    BrandFactory,
    OrderFactory,
    OrderProductFactory,
    ProductFactory,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]


def test_import_orders_through_pgbouncer_in_transaction_mode(bouncer, tmp_path):
    # given: 30 orders exported, then deleted
    brand = BrandFactory()
    seller, buyer = AmbassadorFactory(brand=brand), AmbassadorFactory(brand=brand)
    product = ProductFactory()
    for _ in range(30):
        OrderProductFactory(order=OrderFactory(ambassador=seller, buyer=buyer), product=product)
    orders = tmp_path / "orders.jsonl"
    call_command("export_orders", "--out", str(orders))
    OrderProduct.objects.all().delete()
    Order.objects.all().delete()
    url = bouncer.url(connection.settings_dict["NAME"])
    before = bulk_tables()

    # when: batches of 4, each a transaction PgBouncer may give to any of its server connections
    result = subprocess.run(  # noqa: S603 (our own interpreter and manage.py)
        [sys.executable, "manage.py", "import_orders", str(orders), "--batch-size", "4"],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "platform_api.settings.local",
            "DATABASE_URL": url,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )

    # then
    assert result.returncode == 0, result.stderr
    assert "30 read, 30 landed (30 written, 0 unchanged), 0 rejected" in result.stdout
    assert Order.objects.count() == 30
    assert OrderProduct.objects.count() == 30
    assert bulk_tables() == before  # staging dropped at COMMIT, the seen ids at the end


def bulk_tables() -> set[str]:
    """The import's tables in the database (a killed run's seen-ids table stays a day)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname FROM pg_class WHERE relname LIKE 'bulk\\_%'")
        return {row[0] for row in cursor.fetchall()}
