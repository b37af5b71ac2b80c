"""The orders CSV: the agreed layout (tests/csv_columns.py), cells from the API's JSON."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import orjson
import pytest
from django.utils import timezone

from orders.csv_export import orders_csv
from orders.csv_layout import COLUMNS as HEADER
from orders.models import Order
from orders.rendering import render_orders_page
from tests.admin_helpers import admin_url
from tests.factories import OrderFactory, OrderProductFactory

pytestmark = pytest.mark.django_db

LAYOUT = (
    "id_ambassador,id_order,id_order_external,total_amount,total_paid,total_ws,id_popliste,"
    "source,last_status,id_meeting,id_meeting_external,customer_id,order_info,currency,"
    "date_order,type,id_chat_segment,id_chatroom,date_insert,date_update,assignment,"
    "total_products_quantity,buyer_id_ambassador,buyer_image,buyer_firstname,buyer_lastname,"
    "buyer_username,buyer_email,buyer_email_tmp,buyer_active,buyer_status,buyer_online,"
    "buyer_last_action_date,buyer_customer_id,buyer_anonymized,product_id_product,product_name,"
    "product_type,product_discount_percentage,product_price_catalog,"
    "product_reference_unit_price,product_sku,product_youtube_id,product_url,"
    "product_description,product_images,product_price,product_stock,product_stock_available,"
    "product_old_image,line_quantity,line_unit_price,line_sku,line_currency,line_total_price"
)


def parse(chunks) -> list[dict[str, str]]:
    text = "".join(chunks)
    assert text.endswith("\r\n")
    return list(csv.DictReader(io.StringIO(text)))


def test_the_header_is_the_agreed_layout():
    assert ",".join(HEADER) == LAYOUT


def test_one_row_per_line_with_the_api_values():
    order = OrderFactory(id_order_external=None)
    OrderProductFactory(order=order, quantity=2, unit_price=Decimal("12.50"))
    OrderProductFactory(order=order, quantity=1, unit_price=Decimal("3.00"))
    now = timezone.now()
    api = render_orders_page(Order.objects.filter(pk=order.pk), now=now)[0]

    rows = parse(orders_csv(Order.objects.filter(pk=order.pk)))

    assert len(rows) == 2
    first = rows[0]
    assert first["id_ambassador"] == str(order.ambassador_id)
    assert first["id_order_external"] == ""  # null
    assert first["total_amount"] == orjson.dumps(api["total_amount"]).decode()
    assert first["date_order"] == api["date_order"]
    assert first["buyer_anonymized"] in {"true", "false"}
    assert first["product_images"] == orjson.dumps(api["products"][0]["images"]).decode()
    assert (first["line_quantity"], first["line_unit_price"], first["line_total_price"]) == (
        "2",
        "12.5",
        "25",
    )
    assert rows[1]["line_unit_price"] == "3.0"


def test_an_order_without_lines_is_one_row_with_empty_product_cells():
    order = OrderFactory()

    (row,) = parse(orders_csv(Order.objects.filter(pk=order.pk)))

    assert row["id_order"] == str(order.pk)
    assert all(row[key] == "" for key in HEADER if key.startswith(("product_", "line_")))


def test_the_admin_action_streams_the_selected_orders(admin_client):
    chosen, other = OrderFactory(), OrderFactory()
    more = OrderFactory.create_batch(3)

    response = admin_client.post(
        admin_url(Order, "changelist"),
        {"action": "export_csv", "_selected_action": [chosen.pk]},
    )
    several = admin_client.post(
        admin_url(Order, "changelist"),
        {"action": "export_csv", "_selected_action": [o.pk for o in more]},
    )
    # each order once, by id
    assert [row["id_order"] for row in parse(c.decode() for c in several.streaming_content)] == [
        str(o.pk) for o in sorted(more, key=lambda o: o.pk)
    ]

    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    rows = parse(chunk.decode() for chunk in response.streaming_content)
    assert [row["id_order"] for row in rows] == [str(chosen.pk)]
    assert str(other.pk) not in {row["id_order"] for row in rows}


def test_an_export_over_the_bound_is_refused_with_a_message(admin_client, monkeypatch):
    monkeypatch.setattr("orders.admin.MAX_EXPORTED_ORDERS", 1)
    orders = OrderFactory.create_batch(2)

    response = admin_client.post(
        admin_url(Order, "changelist"),
        {"action": "export_csv", "_selected_action": [o.pk for o in orders]},
        follow=True,
    )

    assert not getattr(response, "streaming", False)
    assert "at most 1 orders" in response.content.decode()
