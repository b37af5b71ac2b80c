"""Importing products and orders: upserts by id, validation with reasons, rejects."""

from __future__ import annotations

import copy
import io
from typing import Any

import orjson
import pytest
from django.db import connection

from orders import services
from orders.exports import iter_orders, iter_products, orders_for_export
from orders.imports import OrderImporter
from orders.models import I18nContent, Order, OrderProduct, Product
from platform_api.bulk.batches import read_json_lines
from platform_api.bulk.batches import run_import as run_batches
from tests.bulk import Recorder, json_lines, run_import
from tests.factories import (
    AmbassadorFactory,
    BrandFactory,
    I18nContentFactory,
    OrderFactory,
    OrderProductFactory,
    ProductFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    brand = BrandFactory()
    return AmbassadorFactory(brand=brand), AmbassadorFactory(brand=brand)


@pytest.fixture
def products():
    first, second = ProductFactory(), ProductFactory()
    I18nContentFactory(product=first, lang="en_GB")
    I18nContentFactory(product=first, lang="fr_FR")
    return first, second


def exported_orders(count: int, people, products) -> list[dict[str, Any]]:
    """`count` orders in the export's shape (2 lines each); the rows are deleted again."""
    seller, buyer = people
    for _ in range(count):
        order = OrderFactory(ambassador=seller, buyer=buyer)
        OrderProductFactory(order=order, product=products[0], quantity=1)
        OrderProductFactory(order=order, product=products[1], quantity=3)
    records = list(iter_orders(orders_for_export()))
    OrderProduct.objects.all().delete()
    Order.objects.all().delete()
    return records


def line_rows() -> list[tuple[Any, ...]]:
    return list(
        OrderProduct.objects.order_by("id_order_product").values_list(
            "id_order_product", "order_id", "product_id", "quantity", "unit_price"
        )
    )


def test_orders_land_and_read_back_as_they_were_written(people, products):
    records = exported_orders(3, people, products)

    totals, recorder = run_import(services.orders_import, records)

    assert recorder.rejects == []
    assert (totals.read, totals.landed, totals.written, totals.rejected) == (3, 3, 3, 0)
    assert list(iter_orders(orders_for_export())) == [
        {**record, "buyer": {**record["buyer"], "online": False}} for record in records
    ]
    assert OrderProduct.objects.count() == 6


def test_a_rerun_changes_nothing_not_even_the_lines_ids(people, products):
    records = exported_orders(3, people, products)
    run_import(services.orders_import, records)
    before = line_rows()
    dates = list(Order.objects.values_list("date_update", flat=True))

    totals, recorder = run_import(services.orders_import, records)

    assert (totals.landed, totals.written, recorder.rejects) == (3, 0, [])
    assert line_rows() == before
    assert list(Order.objects.values_list("date_update", flat=True)) == dates


def test_a_changed_order_is_updated_and_its_lines_replaced_as_a_set(people, products):
    records = exported_orders(2, people, products)
    run_import(services.orders_import, records)
    changed = copy.deepcopy(records[0])
    changed["last_status"] = "CANCELLED"
    changed["date_update"] = "2030-01-02T03:04:05Z"
    changed["products"] = changed["products"][1:]  # one line less
    changed["products"][0]["order_details"]["quantity"] = 7
    untouched_lines = [row for row in line_rows() if row[1] == records[1]["id_order"]]

    totals, _ = run_import(services.orders_import, [changed, records[1]])

    assert totals.written == 1
    order = Order.objects.get(pk=changed["id_order"])
    assert order.last_status == "CANCELLED"
    assert order.date_update.isoformat() == "2030-01-02T03:04:05+00:00"  # kept as given
    assert list(order.lines.values_list("product_id", "quantity")) == [(products[1].pk, 7)]
    assert [row for row in line_rows() if row[1] == records[1]["id_order"]] == untouched_lines


def _bad(record: dict[str, Any], change) -> dict[str, Any]:
    bad = copy.deepcopy(record)
    change(bad)
    return bad


def _unknown_product(order: dict[str, Any]) -> None:
    order["products"][0]["id_product"] = 777_777
    order["products"][0]["order_details"]["id_product"] = 777_777


def _set_line(key: str, value: Any):
    def change(order: dict[str, Any]) -> None:
        order["products"][0]["order_details"][key] = value

    return change


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda o: o.update(colour="red"), "order: unknown key(s) 'colour'"),
        (lambda o: o.pop("currency"), "order: missing key(s) 'currency'"),
        (lambda o: o.update(total_amount="12.00"), "order.total_amount: expected a number"),
        (lambda o: o.update(id_popliste=1.5), "order.id_popliste: expected an integer, got 1.5"),
        (
            lambda o: o.update(id_chatroom=1e30),
            "order.id_chatroom: expected an integer, got 1e+30",
        ),
        (lambda o: o.update(total_paid=-1), "order: breaks the rule order_total_paid_gte_0"),
        (lambda o: o.update(total_ws=1.234), "order.total_ws: 1.234 has more than 2 decimal"),
        (lambda o: o.update(last_status="LOST"), "order.last_status: 'LOST' is not one of"),
        (lambda o: o.update(currency="EURO"), "order.currency: is 4 characters long, at most 3"),
        (
            lambda o: o.update(date_order="yesterday"),
            "order.date_order: 'yesterday' is not an ISO 8601",
        ),
        (lambda o: o.update(date_order="2025-01-01T10:00:00"), "has no time zone"),
        # Past year 9999 in UTC: the row would land and no export or route could read it.
        (
            lambda o: o.update(date_update="9999-12-31T23:59:59-05:00"),
            "order.date_update: '9999-12-31T23:59:59-05:00' is out of range",
        ),
        (lambda o: o.update(source=None), "order.source: may not be null"),
        (lambda o: o.update(id_ambassador=999_999), "id_ambassador 999999: no such ambassador"),
        (lambda o: o["buyer"].update(id_ambassador=888_888), "buyer.id_ambassador 888888: no such"),
        (lambda o: o["buyer"].update(shoe_size=42), "order.buyer: unknown key(s) 'shoe_size'"),
        (_unknown_product, "products: id_product 777777: no such product"),
        (_set_line("quantity", -2), "breaks the rule order_line_quantity_gt_0"),
        (_set_line("quantity", 0), "breaks the rule order_line_quantity_gt_0"),
        (_set_line("id_order", 1), "order_details.id_order is 1, but the line belongs to"),
        (lambda o: o.update(products={}), "order.products must be a JSON array, got an object"),
        (lambda o: o.update(buyer=None), "order.buyer must be a JSON object, got null"),
    ],
)
def test_a_bad_order_is_rejected_with_its_line_and_the_others_land(
    people, products, change, reason
):
    first, bad, last = exported_orders(3, people, products)

    totals, recorder = run_import(services.orders_import, [first, _bad(bad, change), last])

    assert list(recorder.reasons) == [2]
    assert reason in recorder.reasons[2]
    assert recorder.rejects[0].text.startswith('{"id_ambassador"')
    assert (totals.landed, totals.rejected) == (2, 1)
    assert set(Order.objects.values_list("pk", flat=True)) == {first["id_order"], last["id_order"]}


def test_lines_that_are_not_json_are_rejected_and_a_cut_last_line_says_so(people, products):
    first, second = exported_orders(2, people, products)
    data = json_lines([first, b"{not json", b""]) + orjson_cut(second)

    totals, recorder = run_import(services.orders_import, data)

    assert sorted(recorder.reasons) == [2, 4]
    assert recorder.reasons[2].startswith("not valid JSON")
    assert "the file ends in the middle of this line" in recorder.reasons[4]
    assert (totals.landed, totals.rejected) == (1, 2)


def test_a_byte_order_mark_crlf_and_blank_lines_are_not_records(people, products):
    first, second = exported_orders(2, people, products)
    data = (
        b"\xef\xbb\xbf" + orjson.dumps(first) + b"\r\n\r\n  \r\n" + orjson.dumps(second) + b"\r\n"
    )

    totals, recorder = run_import(services.orders_import, data)

    assert recorder.rejects == []
    assert (totals.read, totals.landed) == (2, 2)


def test_a_line_that_is_not_utf8_is_rejected_as_text_with_the_bad_byte_shown(people, products):
    first, second = exported_orders(2, people, products)
    bad = orjson.dumps(first).replace(b'"id_order"', b'"id_\xffo"', 1)

    totals, recorder = run_import(services.orders_import, bad + b"\n" + orjson.dumps(second))

    assert recorder.reasons[1].startswith("not UTF-8 (invalid start byte at byte")
    assert recorder.rejects[0].text.startswith('{"id_ambassador"')
    assert '"id_\\xffo"' in recorder.rejects[0].text
    assert totals.landed == 1


def orjson_cut(record: dict[str, Any]) -> bytes:
    text = orjson.dumps(record)
    return text[: len(text) // 2]


@pytest.mark.parametrize("batch_size", [2, 100])
def test_an_id_twice_in_one_file_lands_once_and_the_second_is_rejected(
    people, products, batch_size
):
    first, second = exported_orders(2, people, products)
    again = _bad(first, lambda o: o.update(last_status="CANCELLED"))

    totals, recorder = run_import(
        services.orders_import, [first, second, again], batch_size=batch_size
    )

    assert recorder.reasons == {
        3: f"id_order {first['id_order']} is also on line 1: one line per order"
    }
    assert Order.objects.get(pk=first["id_order"]).last_status == first["last_status"]
    assert totals.landed == 2


def test_one_bad_record_in_a_thousand_rejects_it_alone(people, products):
    records = renumbered(exported_orders(1, people, products)[0], range(1, 1001))
    records[499]["products"][1]["order_details"]["quantity"] = -1

    totals, recorder = run_import(services.orders_import, records, batch_size=250)

    assert list(recorder.reasons) == [500]
    assert "order.products[1].order_details: breaks the rule" in recorder.reasons[500]
    assert (totals.landed, totals.rejected) == (999, 1)
    assert Order.objects.count() == 999
    assert OrderProduct.objects.count() == 999 * 2
    assert not Order.objects.filter(pk=500).exists()


def test_a_record_the_database_refuses_is_isolated_and_the_rest_of_its_batch_lands(
    people, products
):
    # given an importer that does not know the quantity rule (as a new constraint would be)
    records = exported_orders(4, people, products)
    records[2]["products"][0]["order_details"]["quantity"] = -5
    importer = OrderImporter()
    importer.line_rules.checks = []
    recorder = Recorder()

    # when
    totals = run_batches(
        read_json_lines(io.BytesIO(json_lines(records))),
        importer,
        batch_size=10,
        listener=recorder,
    )

    # then
    assert list(recorder.reasons) == [3]
    assert recorder.reasons[3].startswith("the database refused it:")
    assert "order_line_quantity_gt_0" in recorder.reasons[3]
    assert totals.landed == 3
    assert Order.objects.count() == 3


def renumbered(template: dict[str, Any], ids: range) -> list[dict[str, Any]]:
    """Copies of one exported order under other ids."""
    records = []
    for n in ids:
        order = copy.deepcopy(template)
        order["id_order"] = n
        for product in order["products"]:
            product["order_details"]["id_order"] = n
        records.append(order)
    return records


@pytest.mark.parametrize("count", [1, 50])
def test_statements_per_batch_do_not_depend_on_its_size(
    people, products, count, django_assert_num_queries
):
    records = renumbered(exported_orders(1, people, products)[0], range(1, count + 1))
    # The run's seen-ids table (created, dropped), then one batch: its staging tables (2
    # statements each), savepoints, set-based statements, sequences; the COPYs are not counted
    # by Django. On PostgreSQL the batch runs with the triggers off (the test role may: the
    # probe at the start, 3): the setting and its restore, the references' locks, the highest
    # order id (none: no order to look up, as no seen id), the counter, the savepoint of the
    # new orders' COPY; a batch of new orders stages nothing.
    expected = {"postgresql": 22}.get(connection.vendor, 27)

    with django_assert_num_queries(expected):
        run_import(services.orders_import, records, batch_size=100)

    assert Order.objects.count() == count


@pytest.mark.parametrize("count", [1, 50])
def test_with_the_triggers_the_statements_per_batch_do_not_depend_on_its_size(
    people, products, count, django_assert_num_queries, monkeypatch
):
    # A role that may not set session_replication_role: the triggers' path (PostgreSQL only).
    if connection.vendor != "postgresql":
        pytest.skip("the other path is PostgreSQL's")
    monkeypatch.setattr("orders.imports.replica_allowed", lambda: False)
    records = renumbered(exported_orders(1, people, products)[0], range(1, count + 1))

    with django_assert_num_queries(28):
        totals, _ = run_import(services.orders_import, records, batch_size=100)

    assert totals.note.startswith("references checked row by row")
    assert Order.objects.count() == count


def test_products_upsert_and_their_images_are_replaced_as_a_set(products):
    records = list(iter_products())
    first = next(r for r in records if r["id_product"] == products[0].pk)
    I18nContent.objects.all().delete()
    Product.objects.all().delete()

    totals, recorder = run_import(services.products_import, records)
    assert (totals.landed, totals.written, recorder.rejects) == (2, 2, [])
    assert list(iter_products()) == records

    totals, _ = run_import(services.products_import, records)
    assert totals.written == 0

    changed = copy.deepcopy(first)
    changed["price"] = 1.5
    changed["images"] = [
        {"id_i18n_content": 9001, "lang": "fr_FR", "content": "https://cdn.example.com/new.jpg"},
        {**first["images"][0], "content": "https://cdn.example.com/en.jpg"},
    ]
    totals, _ = run_import(services.products_import, [changed])
    assert totals.written == 1
    product = Product.objects.get(pk=first["id_product"])
    assert str(product.price) == "1.50"
    assert list(
        product.images.order_by("id_i18n_content").values_list("id_i18n_content", "lang", "content")
    ) == [
        (first["images"][0]["id_i18n_content"], "en_GB", "https://cdn.example.com/en.jpg"),
        (9001, "fr_FR", "https://cdn.example.com/new.jpg"),
    ]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda p: p["images"][0].update(lang="xx_XX"), "images[0].lang: 'xx_XX' is not one of"),
        (
            lambda p: p["images"].append({**p["images"][0], "id_i18n_content": 5555}),
            "a second image in en_GB",
        ),
        (
            lambda p: p["images"].append({**p["images"][0], "lang": "de_DE"}),
            "images[2].id_i18n_content",
        ),
        (
            lambda p: p.update(discount_percentage=101),
            "breaks the rule product_discount_percentage_range",
        ),
        (lambda p: p.update(stock="many"), "product.stock: expected an integer, got a string"),
        (lambda p: p.update(name=None, weight=3), "unknown key(s) 'weight'"),
    ],
)
def test_a_bad_product_is_rejected(products, change, reason):
    records = list(iter_products())
    Product.objects.all().delete()

    _, recorder = run_import(services.products_import, [_bad(records[0], change), records[1]])

    assert list(recorder.reasons) == [1]
    assert reason in recorder.reasons[1]
    assert list(Product.objects.values_list("pk", flat=True)) == [records[1]["id_product"]]


def test_imported_ids_move_the_sequences_on(products):
    records = list(iter_products())
    Product.objects.all().delete()
    records[0]["id_product"] = 50_000
    for image in records[0]["images"]:
        image["id_i18n_content"] += 60_000

    run_import(services.products_import, records)

    assert ProductFactory().pk > 50_000
    assert I18nContentFactory().pk > 60_000


def test_the_compiled_rules_give_the_checked_rows_or_defer_to_them(people, products):
    # The fast path (platform_api/bulk/fast.py) returns the same rows as the checked one, and
    # None for every record the checked path rejects (which then says why).
    importer = OrderImporter()
    good = exported_orders(2, people, products)
    good[1]["total_amount"] = 12  # an integer amount, as a feed may write it
    good[1]["id_meeting_external"] = None
    for number, record in enumerate(good, start=1):
        source = next(iter(read_json_lines(io.BytesIO(orjson.dumps(record)))))
        fast = importer._parse_fast(source)
        assert fast == importer._parse_checked(source), number
    bad = [
        {**good[0], "colour": "red"},
        {**good[0], "total_amount": "12.00"},
        {**good[0], "id_popliste": 1.5},
        {**good[0], "id_popliste": True},
        {**good[0], "total_paid": -1},
        {**good[0], "total_ws": 1.234},
        {**good[0], "last_status": "LOST"},
        {**good[0], "currency": "EURO"},
        {**good[0], "date_order": "2025-01-01T10:00:00"},
        {**good[0], "date_order": "9999-12-31T23:59:59-05:00"},
        {**good[0], "source": None},
        {**good[0], "source": "a\x00b"},
        {**good[0], "id_order": 2**63},
        {**good[0], "buyer": {"id_ambassador": "1"}},
        _bad(good[0], _set_line("quantity", 0)),
        _bad(good[0], _set_line("id_order", good[0]["id_order"] + 1)),
        _bad(good[0], _set_line("unit_price", 1e12)),
        {**good[0], "products": {}},
    ]
    for number, record in enumerate(bad, start=1):
        source = next(iter(read_json_lines(io.BytesIO(orjson.dumps(record)))))
        try:
            fast = importer._parse_fast(source)
        except Exception:  # raising is how a cleaner says "in doubt"
            fast = None
        assert fast is None, number


@pytest.mark.parametrize("triggers", [False, True], ids=["fast path", "triggers' path"])
def test_control_characters_in_values_land_as_they_were(people, products, triggers, monkeypatch):
    # COPY text escapes them; the staged path splits the lines' text at its row ends
    if triggers:
        if connection.vendor != "postgresql":
            pytest.skip("the other path is PostgreSQL's")
        monkeypatch.setattr("orders.imports.replica_allowed", lambda: False)
    records = exported_orders(2, people, products)
    records[0]["order_info"] = "two\nlines\tand a \\ backslash\r"
    records[1]["products"][0]["order_details"]["sku"] = "a\tb\nc\\d"

    totals, recorder = run_import(services.orders_import, records)

    assert (recorder.rejects, totals.landed) == ([], 2)
    assert Order.objects.get(pk=records[0]["id_order"]).order_info == records[0]["order_info"]
    line = OrderProduct.objects.filter(order_id=records[1]["id_order"]).order_by("pk").first()
    assert line.sku == "a\tb\nc\\d"
    assert OrderProduct.objects.filter(order_id=records[1]["id_order"]).count() == 2
