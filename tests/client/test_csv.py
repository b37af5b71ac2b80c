"""The client's orders CSV: the layout agreed with the import and the admin export.

The agreed columns are spelled out in tests/csv_columns.py.
"""

from __future__ import annotations

import csv
import io

from platform_api_client import Order
from platform_api_client import csv as orders_csv
from platform_api_client.rawjson import loads

from tests.csv_columns import AGREED

BUYER = (
    '{"id_ambassador":7,"image":"https:\\/\\/cdn.example.com\\/a.jpg","firstname":"Zo\\u00eb",'
    '"lastname":"O\'Neil, \\"Z\\"","username":"z","email":"z@example.com","email_tmp":"",'
    '"active":1,"status":0,"online":false,"last_action_date":"2025-05-04T09:42:00Z",'
    '"customer_id":"C-7","anonymized":true}'
)
IMAGES = '[{"id_i18n_content":3,"lang":"en_GB","content":"https:\\/\\/cdn.example.com\\/p.jpg"}]'
PRODUCT = (
    '{"id_product":5,"name":null,"type":"physical","discount_percentage":10.0,'
    '"price_catalog":42,"reference_unit_price":40,"sku":"SKU-5","youtube_id":null,'
    '"url":"https:\\/\\/shop.example.com\\/p","description":"a,b\\r\\nc","images":' + IMAGES + ","
    '"price":37.8,"stock":12,"stock_available":10.0,"old_image":null,'
    '"order_details":{"id_order":42,"id_product":5,"quantity":2,"unit_price":19.9,"sku":"L-1",'
    '"currency":"EUR","total_price":39.8}}'
)


def order_text(products: str) -> str:
    return (
        '{"id_order":42,"id_order_external":null,"total_amount":42.0,"total_paid":0.0,'
        '"total_ws":1.0E+2,"id_popliste":0,"source":"","last_status":"OK","id_meeting":0,'
        '"id_meeting_external":null,"customer_id":"C-7","order_info":"","currency":"EUR",'
        '"date_order":"2025-05-04T09:42:00Z","type":"WEB","id_chat_segment":0,"id_chatroom":3,'
        '"date_insert":"2025-05-04T09:42:00Z","date_update":"2025-05-04T09:42:00Z",'
        f'"assignment":"unassigned","buyer":{BUYER},"products":{products},'
        '"total_products_quantity":2}'
    )


def rows_of(text: str, ambassador_id: int = 9) -> list[dict[str, str]]:
    order = Order.from_api(loads(text), text)
    data = orders_csv.encode_rows(orders_csv.order_rows(order, ambassador_id))
    return list(csv.DictReader(io.StringIO(data.decode(), newline=""), fieldnames=AGREED))


def test_columns_are_the_agreed_layout():
    assert orders_csv.COLUMNS == AGREED
    assert orders_csv.header() == (",".join(AGREED) + "\r\n").encode()


def test_a_row_per_line_with_cells_as_the_json_reads():
    [row] = rows_of(order_text(f"[{PRODUCT}]"))

    assert row["id_ambassador"] == "9"
    assert row["total_amount"] == "42.0"  # the JSON text form, not 42
    assert row["total_ws"] == "1.0E+2"
    assert row["id_order_external"] == ""  # null
    assert row["buyer_online"] == "false"
    assert row["buyer_anonymized"] == "true"
    assert row["buyer_firstname"] == "Zoë"  # strings unescaped
    assert row["buyer_lastname"] == 'O\'Neil, "Z"'
    assert row["buyer_image"] == "https://cdn.example.com/a.jpg"
    assert row["product_name"] == ""
    assert row["product_price_catalog"] == "42"
    assert row["product_description"] == "a,b\r\nc"
    assert row["product_images"] == IMAGES  # the API's JSON array as the API wrote it
    assert (row["line_quantity"], row["line_unit_price"], row["line_total_price"]) == (
        "2",
        "19.9",
        "39.8",
    )


def test_an_order_without_lines_is_one_row_with_empty_product_and_line_cells():
    [row] = rows_of(order_text("[]"))

    assert row["id_order"] == "42"
    assert all(row[name] == "" for name in AGREED if name.startswith(("product_", "line_")))


def test_rows_end_in_crlf_and_quote_only_where_needed():
    text = order_text(f"[{PRODUCT},{PRODUCT}]")
    order = Order.from_api(loads(text), text)

    data = orders_csv.encode_rows(orders_csv.order_rows(order, 9)).decode()

    assert data.count('"a,b\r\nc"') == 2
    assert data.endswith("\r\n")
    assert data.startswith("9,42,,42.0,0.0,1.0E+2,0,,OK,")


def test_the_import_reads_the_same_layout():
    from orders import csv_layout

    assert csv_layout.COLUMNS == orders_csv.COLUMNS
