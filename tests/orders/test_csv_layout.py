"""The orders CSV: the agreed columns, cells as the API's values, and reading it back."""

from __future__ import annotations

import csv
import io
import re

import pytest

from orders import csv_layout, services
from orders.exports import iter_orders, orders_for_export
from orders.models import Order, OrderProduct
from platform_api.bulk.batches import Rejected, Source
from tests.bulk import Recorder
from tests.csv_columns import AGREED
from tests.factories import AmbassadorFactory, OrderFactory, OrderProductFactory, ProductFactory


def test_the_columns_derived_from_the_shape_are_the_agreed_layout():
    assert csv_layout.COLUMNS == AGREED


@pytest.fixture
def orders(db):
    seller = AmbassadorFactory()
    buyer = AmbassadorFactory(brand=seller.brand)
    product = ProductFactory(name='Mug, "large"', description="two\nlines", youtube_id=None)
    with_lines = OrderFactory(ambassador=seller, buyer=buyer, order_info="a, b")
    OrderProductFactory(order=with_lines, product=product, quantity=2)
    OrderProductFactory(order=with_lines, product=ProductFactory(), quantity=1)
    OrderFactory(ambassador=seller, buyer=buyer)  # no lines
    return list(iter_orders(orders_for_export()))


def _csv(records) -> bytes:
    out = io.StringIO(newline="")
    csv_layout.write_orders(out, records)
    return out.getvalue().encode()


def test_one_row_per_line_and_one_empty_row_for_an_order_without_lines(orders):
    rows = list(csv.DictReader(io.StringIO(_csv(orders).decode(), newline="")))

    assert [row["id_order"] for row in rows] == [
        str(o["id_order"]) for o in orders for _ in range(max(1, len(o["products"])))
    ]
    empty = rows[-1]
    assert all(empty[name] == "" for name in AGREED if name.startswith(("product_", "line_")))
    first = rows[0]
    assert first["id_order_external"] == orders[0]["id_order_external"]
    assert first["id_meeting_external"] == ""  # null
    assert first["buyer_anonymized"] == "false"
    assert first["total_amount"] == "84.0"  # the JSON text of the number
    assert first["product_images"] == "[]"
    assert first["product_name"] == 'Mug, "large"'


def test_reading_the_csv_back_gives_the_json_records(orders):
    read = list(csv_layout.read_orders(io.BytesIO(_csv(orders))))

    assert all(isinstance(item, Source) for item in read)
    assert [item.line for item in read] == [2, 5]  # the quoted newline spans a line
    OrderProduct.objects.all().delete()
    Order.objects.all().delete()
    recorder = Recorder()
    totals = services.orders_import(sources=read, batch_size=10, listener=recorder)
    assert (totals.landed, recorder.rejects) == (2, [])
    assert list(iter_orders(orders_for_export())) == orders


def test_a_file_cut_in_the_middle_of_a_row_rejects_that_order_only(orders):
    data = _csv(orders)
    cut = data[: data.rindex(b"\r\n", 0, len(data) - 2) + 2] + data.rsplit(b"\r\n", 2)[-2][:30]

    read = list(csv_layout.read_orders(io.BytesIO(cut)))

    assert isinstance(read[0], Source)
    assert isinstance(read[1], Rejected)
    assert "the file may end in the middle of this row" in read[1].reason


def test_rows_of_one_order_must_agree(orders):
    rows = _csv(orders).decode().split("\r\n")
    rows[2] = rows[2].replace(",OK,", ",CANCELLED,", 1)

    read = list(csv_layout.read_orders(io.BytesIO("\r\n".join(rows).encode())))

    assert isinstance(read[0], Rejected)
    assert "disagree on last_status" in read[0].reason


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        (b"", "the file is empty"),
        (b"id_order,colour\r\n", "missing ['id_ambassador'"),
        (",".join(reversed(AGREED)).encode() + b"\r\n", "in another order"),
    ],
)
def test_a_file_with_another_header_is_refused_whole(header, problem):
    with pytest.raises(csv_layout.LayoutError, match=re.escape(problem)):
        list(csv_layout.read_orders(io.BytesIO(header)))


def test_a_byte_order_mark_before_the_header_is_not_part_of_it(orders):
    read = list(csv_layout.read_orders(io.BytesIO(b"\xef\xbb\xbf" + _csv(orders))))

    assert [type(item) for item in read] == [Source, Source]


def test_a_row_that_is_not_utf8_rejects_its_order_only(orders):
    data = _csv(orders).replace(b"a, b", b"a\xff b", 1)  # the first order's order_info

    read = list(csv_layout.read_orders(io.BytesIO(data)))

    assert [type(item) for item in read] == [Rejected, Source]
    assert read[0].line == 2
    assert "row at line 2 is not UTF-8" in read[0].reason
    assert "a\\xff b" in read[0].text
    assert read[0].as_json()  # the rejects file can hold it


def test_a_cell_longer_than_the_csv_modules_default_limit_reads_back(orders):
    # order_info has no length limit: a JSON import takes 200,000 characters, so must the CSV
    orders[0]["order_info"] = "x" * 200_000
    before = csv.field_size_limit(131_072)  # the module's default, whatever ran before
    try:
        read = list(csv_layout.read_orders(io.BytesIO(_csv(orders))))
    finally:
        csv.field_size_limit(before)

    assert [type(item) for item in read] == [Source, Source]
    assert read[0].value["order_info"] == "x" * 200_000
