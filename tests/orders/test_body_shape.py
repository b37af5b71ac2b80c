"""The 200 body against the published example: keys, their order, JSON types, and values."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from orders.models import Order
from tests.factories import (
    AmbassadorFactory,
    I18nContentFactory,
    OrderFactory,
    OrderProductFactory,
    ProductFactory,
)
from tests.spec import SHARED_SPEC, SPEC_COPY, nullable_paths, published_example

ISO_UTC = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
DATE_TIME_KEYS = {"date_order", "date_insert", "date_update", "last_action_date"}


def test_the_committed_spec_is_the_shared_one():
    if not SHARED_SPEC.exists():
        pytest.skip(f"no shared spec beside the repository ({SHARED_SPEC})")
    assert SPEC_COPY.read_bytes() == SHARED_SPEC.read_bytes()


def test_the_example_is_parsed_from_the_spec():
    # Guards the parser: the example has the paginator's keys and a full order.
    example = published_example()
    assert example["data"][0]["buyer"]["last_action_date"] == "2025-05-04T09:42:00Z"
    assert example["data"][0]["products"][0]["order_details"]["total_price"] == 42
    assert ("data", "products", "youtube_id") in nullable_paths()
    assert ("data", "id_order") not in nullable_paths()


def json_type(value: Any) -> str:
    """The JSON type as the document distinguishes them: `42` is an integer, `42.0` a float."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def assert_same_shape(actual: Any, example: Any, path: tuple[str, ...] = ()) -> None:
    """Same keys in the same order and the same JSON type, recursively; arrays element-wise
    against the example's single element. Null only where the document says "(nullable)"."""
    if actual is None:
        assert path in nullable_paths(), f"{'.'.join(path)} is null but not nullable"
        return
    assert json_type(actual) == json_type(example), (
        f"{'.'.join(path)}: {json_type(actual)} {actual!r}, documented {example!r}"
    )
    if isinstance(example, dict):
        assert list(actual) == list(example), f"keys of {'.'.join(path) or 'the body'}"
        for key in example:
            assert_same_shape(actual[key], example[key], (*path, key))
    elif isinstance(example, list):
        assert actual, f"{'.'.join(path)} is empty: nothing to compare"
        for item in actual:
            assert_same_shape(item, example[0], path)


def orders_url(ambassador) -> str:
    return f"/api/v2/platform/ambassadors/{ambassador.pk}/orders"


def get_json(client, url: str, **query: Any) -> dict[str, Any]:
    response = client.get(url, query)
    assert response.status_code == 200
    # Parse the bytes as sent: `42` and `42.0` must stay distinct.
    body: dict[str, Any] = json.loads(response.content)
    return body


@pytest.fixture
def full_order(ambassador):
    """An order of whole-valued money with every nullable field filled, two lines, images."""
    product = ProductFactory(youtube_id="dQw4w9WgXcQ", old_image="https://cdn.example.com/o.jpg")
    for lang in ["en_GB", "fr_FR"]:
        I18nContentFactory(product=product, lang=lang)
    other = ProductFactory(youtube_id="abc", old_image="https://cdn.example.com/p.jpg")
    I18nContentFactory(product=other, lang="de_DE")
    order = OrderFactory(ambassador=ambassador, id_meeting_external="MEET-1")
    OrderProductFactory(order=order, product=product, quantity=2)
    OrderProductFactory(order=order, product=other, quantity=1)
    return order


def test_body_matches_the_published_example(brand_client, ambassador, full_order):
    # given: three pages, so that every URL of the middle one is a string
    OrderFactory(ambassador=ambassador, date_order=full_order.date_order + timedelta(hours=1))
    OrderFactory(ambassador=ambassador, date_order=full_order.date_order - timedelta(hours=1))

    # when
    body = get_json(brand_client, orders_url(ambassador), per_page=1, page=2)

    # then
    assert body["data"][0]["id_order"] == full_order.id_order
    assert_same_shape(body, published_example())


def test_nullable_fields_are_null_when_empty(brand_client, ambassador):
    product = ProductFactory(
        name=None, type=None, sku=None, youtube_id=None, url=None, description=None
    )
    I18nContentFactory(product=product)
    order = OrderFactory(ambassador=ambassador, id_order_external=None, id_meeting_external=None)
    OrderProductFactory(order=order, product=product, sku="")

    body = get_json(brand_client, orders_url(ambassador))

    rendered = body["data"][0]
    assert rendered["id_order_external"] is None
    assert rendered["id_meeting_external"] is None
    line = rendered["products"][0]
    for key in ["name", "type", "sku", "youtube_id", "url", "description", "old_image"]:
        assert line[key] is None, key
    assert line["order_details"]["sku"] == ""
    assert_same_shape(body["data"][0], published_example()["data"][0], ("data",))


def test_a_single_page_envelope_has_null_links(brand_client, ambassador, full_order):
    body = get_json(brand_client, orders_url(ambassador))

    assert body["prev_page_url"] is None
    assert body["next_page_url"] is None
    assert [link["url"] is None for link in body["links"]] == [True, False, True]


def test_numbers_are_numbers_with_the_documented_form(brand_client, ambassador):
    product = ProductFactory(
        price_catalog=Decimal("19.99"),
        reference_unit_price=Decimal("20.00"),
        price=Decimal("18.00"),
        discount_percentage=Decimal("12.50"),
        stock_available=Decimal("3.00"),
        stock=4,
    )
    order = OrderFactory(
        ambassador=ambassador,
        total_amount=Decimal("59.97"),
        total_paid=Decimal("0.00"),
        total_ws=Decimal("50.10"),
    )
    OrderProductFactory(order=order, product=product, quantity=3, unit_price=Decimal("19.99"))

    raw = brand_client.get(orders_url(ambassador)).content.decode()
    rendered = json.loads(raw)["data"][0]

    # number(float): always with a fraction
    assert '"total_amount":59.97' in raw
    assert '"total_paid":0.0' in raw
    assert '"total_ws":50.1' in raw
    assert '"price":18.0' in raw
    assert '"unit_price":19.99' in raw
    assert '"stock_available":3.0' in raw
    # integer(float): whole values as integers, cents kept
    assert '"price_catalog":19.99' in raw
    assert '"reference_unit_price":20,' in raw
    assert '"stock":4,' in raw
    details = rendered["products"][0]["order_details"]
    assert details["total_price"] == 59.97  # 19.99 * 3
    assert details["quantity"] == 3
    assert rendered["total_products_quantity"] == 3


@pytest.mark.parametrize(
    ("unit_price", "quantity", "total_price"),
    [("42.00", 2, 84), ("19.99", 3, 59.97), ("0.10", 3, 0.3), ("0.00", 5, 0), ("33.33", 3, 99.99)],
)
def test_total_price_is_unit_price_times_quantity(
    brand_client, ambassador, unit_price, quantity, total_price
):
    order = OrderFactory(ambassador=ambassador)
    OrderProductFactory(order=order, quantity=quantity, unit_price=Decimal(unit_price))

    details = get_json(brand_client, orders_url(ambassador))["data"][0]["products"][0][
        "order_details"
    ]

    assert details["total_price"] == total_price
    assert json_type(details["total_price"]) == json_type(total_price)


def test_products_are_the_lines_in_line_order(brand_client, ambassador):
    # given: the same product twice, and lines created out of product order
    first: Any = ProductFactory()
    second: Any = ProductFactory()
    I18nContentFactory(product=first, lang="fr_FR")
    I18nContentFactory(product=first, lang="en_GB")
    I18nContentFactory(product=second, lang="es_ES")
    order: Any = OrderFactory(ambassador=ambassador, currency="USD")
    lines: list[Any] = [
        OrderProductFactory(order=order, product=second, quantity=1, unit_price=Decimal("5.00")),
        OrderProductFactory(order=order, product=first, quantity=4, unit_price=Decimal("2.50")),
        OrderProductFactory(order=order, product=second, quantity=2, unit_price=Decimal("5.00")),
    ]
    empty: Any = OrderFactory(
        ambassador=ambassador, date_order=order.date_order - timedelta(days=1)
    )

    # when
    data = get_json(brand_client, orders_url(ambassador))["data"]

    # then
    rendered = data[0]
    assert [p["id_product"] for p in rendered["products"]] == [
        second.id_product,
        first.id_product,
        second.id_product,
    ]
    assert [p["order_details"] for p in rendered["products"]] == [
        {
            "id_order": order.id_order,
            "id_product": line.product.id_product,
            "quantity": line.quantity,
            "unit_price": float(line.unit_price),
            "sku": line.sku,
            "currency": "USD",
            "total_price": line.quantity * float(line.unit_price),
        }
        for line in lines
    ]
    assert rendered["total_products_quantity"] == 7
    # images: the product's own, by id, in every line that shows the product
    first_images = [
        {"id_i18n_content": image.id_i18n_content, "lang": image.lang, "content": image.content}
        for image in first.images.order_by("id_i18n_content")
    ]
    assert rendered["products"][1]["images"] == first_images
    assert [i["lang"] for i in rendered["products"][0]["images"]] == ["es_ES"]
    assert rendered["products"][0]["images"] == rendered["products"][2]["images"]
    # an order without lines
    assert data[1]["id_order"] == empty.id_order
    assert data[1]["products"] == []
    assert data[1]["total_products_quantity"] == 0


def test_product_without_images_has_an_empty_list(brand_client, ambassador):
    OrderProductFactory(order=OrderFactory(ambassador=ambassador))

    products = get_json(brand_client, orders_url(ambassador))["data"][0]["products"]

    assert products[0]["images"] == []


def test_values_come_from_their_columns(brand_client, ambassador):
    buyer: Any = AmbassadorFactory(
        brand=ambassador.brand,
        email_tmp="new@example.com",
        active=-1,
        status=3,
        anonymized=True,
        customer_id="BUYER-1",
    )
    order: Any = OrderFactory(
        ambassador=ambassador,
        buyer=buyer,
        id_popliste=9,
        source="instagram",
        last_status=Order.Status.FULFILLED,
        id_meeting=11,
        customer_id="ORDER-CUST",
        order_info="gift",
        currency="CHF",
        type=Order.Type.STORE,
        id_chat_segment=12,
        id_chatroom=13,
        assignment=Order.Assignment.AFFILIATION_ASSIGNED,
    )

    rendered = get_json(brand_client, orders_url(ambassador))["data"][0]

    assert {key: rendered[key] for key in ["id_order", "id_order_external", "id_popliste"]} == {
        "id_order": order.id_order,
        "id_order_external": order.id_order_external,
        "id_popliste": 9,
    }
    assert rendered["source"] == "instagram"
    assert rendered["last_status"] == "FULFILLED"
    assert (rendered["id_meeting"], rendered["id_chat_segment"], rendered["id_chatroom"]) == (
        11,
        12,
        13,
    )
    assert (rendered["customer_id"], rendered["order_info"], rendered["currency"]) == (
        "ORDER-CUST",
        "gift",
        "CHF",
    )
    assert (rendered["type"], rendered["assignment"]) == ("STORE", "affiliation_assigned")
    assert rendered["buyer"] == {
        "id_ambassador": buyer.id_ambassador,
        "image": buyer.image,
        "firstname": buyer.firstname,
        "lastname": buyer.lastname,
        "username": buyer.username,
        "email": buyer.email,
        "email_tmp": "new@example.com",
        "active": -1,
        "status": 3,
        "online": False,
        "last_action_date": buyer.last_action_date.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "customer_id": "BUYER-1",
        "anonymized": True,
    }


def test_date_times_are_iso_8601_utc_to_the_second(brand_client, ambassador):
    paris = timezone.get_fixed_timezone(60)
    buyer = AmbassadorFactory(
        brand=ambassador.brand,
        last_action_date=datetime(2025, 5, 4, 11, 42, 0, 999999, tzinfo=paris),
    )
    OrderFactory(
        ambassador=ambassador,
        buyer=buyer,
        date_order=datetime(2025, 5, 4, 9, 42, 7, 654321, tzinfo=UTC),
        date_insert=datetime(2025, 5, 4, 10, 0, 0, tzinfo=paris),
        date_update=datetime(2025, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    )

    rendered = get_json(brand_client, orders_url(ambassador))["data"][0]

    assert rendered["date_order"] == "2025-05-04T09:42:07Z"  # truncated, as PHP formats
    assert rendered["date_insert"] == "2025-05-04T09:00:00Z"
    assert rendered["date_update"] == "2025-12-31T23:59:59Z"
    assert rendered["buyer"]["last_action_date"] == "2025-05-04T10:42:00Z"
    for key in ["date_order", "date_insert", "date_update"]:
        assert ISO_UTC.fullmatch(rendered[key])


@pytest.mark.parametrize(
    ("age", "online"),
    [
        (timedelta(seconds=0), True),
        (timedelta(minutes=4, seconds=50), True),
        (timedelta(minutes=5, seconds=10), False),
        (timedelta(days=2), False),
        (-timedelta(minutes=1), True),  # a clock slightly ahead: still online
    ],
)
def test_online_means_active_in_the_last_five_minutes(brand_client, ambassador, age, online):
    buyer = AmbassadorFactory(brand=ambassador.brand, last_action_date=timezone.now() - age)
    OrderFactory(ambassador=ambassador, buyer=buyer)

    rendered = get_json(brand_client, orders_url(ambassador))["data"][0]

    assert rendered["buyer"]["online"] is online


@pytest.mark.parametrize(
    "mutate",
    [
        lambda body: body["data"][0].update(total_amount=42),  # float written as an integer
        lambda body: body["data"][0]["products"][0].update(price_catalog=42.5),
        lambda body: body["data"][0]["buyer"].update(online=1),  # boolean as integer
        lambda body: body["data"][0].update(id_order="42"),  # number as string
        lambda body: body["data"][0].update(id_chatroom=None),  # null where not nullable
        lambda body: body["data"][0].pop("assignment"),
        lambda body: body.update(current_page=body.pop("current_page")),  # key order
    ],
)
def test_the_shape_comparison_catches_deviations(mutate):
    body = json.loads(json.dumps(published_example()))
    assert_same_shape(body, published_example())

    mutate(body)

    with pytest.raises(AssertionError):
        assert_same_shape(body, published_example())
