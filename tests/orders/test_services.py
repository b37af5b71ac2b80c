"""The round trip: export everything, import it into emptied tables, the API answers the same.

Byte for byte, on a sample of the orders route's pages, sorts and filters, over the demo data.
"""

from __future__ import annotations

import io

import pytest
from rest_framework.test import APIClient

from ambassadors import services as ambassador_services
from ambassadors.models import Ambassador, Brand
from ambassadors.services import token_create
from orders import demo, services
from orders.models import I18nContent, Order, OrderProduct, Product
from platform_api.bulk.batches import read_json_lines
from tests.bulk import Recorder

pytestmark = pytest.mark.django_db

QUERIES = [
    "",
    "?per_page=100",
    "?page=2&per_page=7",
    "?sort=total_amount",
    "?sort=-date_update&per_page=50",
    "?sort=id_order&filter[last_status]=OK,FULFILLED",
    "?filter[placed_between]=2025-06-01,2026-06-01&per_page=30",
    "?filter[updated_since]=2026-01-01T00:00:00Z",
    "?filter[type]=WEB&filter[currency]=EUR&page=3",
]


def _answers(client: APIClient, ambassador_ids: list[int]) -> dict[str, bytes]:
    answers = {}
    for ambassador_id in ambassador_ids:
        for query in QUERIES:
            url = f"/api/v2/platform/ambassadors/{ambassador_id}/orders{query}"
            response = client.get(url)
            assert response.status_code == 200, url
            answers[url] = response.content
    return answers


def _land(service, data: bytes) -> None:
    recorder = Recorder()
    totals = service(sources=read_json_lines(io.BytesIO(data)), batch_size=97, listener=recorder)
    assert recorder.rejects == []
    assert totals.landed == totals.read


def test_export_then_import_into_emptied_tables_answers_byte_identical():
    # given the demo data and the API's answers on it
    summary = demo.seed_demo(seed=7, ambassadors=40, orders=500)
    _, secret = token_create(kind="brand", brand=Brand.objects.get(pk=1))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    ambassador_ids = [
        summary.busy_ambassador_id,
        *Order.objects.filter(ambassador__brand_id=1)
        .exclude(ambassador_id=summary.busy_ambassador_id)
        .values_list("ambassador_id", flat=True)
        .distinct()
        .order_by("ambassador_id")[:2],
    ]
    before = _answers(client, ambassador_ids)

    # when everything is exported, the tables emptied, and the files imported
    ambassadors, products, orders = io.BytesIO(), io.BytesIO(), io.BytesIO()
    ambassador_services.ambassadors_export(out=ambassadors)
    services.products_export(out=products)
    services.orders_export(out=orders)
    OrderProduct.objects.all().delete()
    Order.objects.all().delete()
    I18nContent.objects.all().delete()
    Product.objects.all().delete()
    Ambassador.objects.update(referrer=None)
    Ambassador.objects.all().delete()
    _land(ambassador_services.ambassadors_import, ambassadors.getvalue())
    _land(services.products_import, products.getvalue())
    _land(services.orders_import, orders.getvalue())

    # then every answer is the same, byte for byte
    assert Ambassador.objects.count() == summary.ambassadors
    assert Ambassador.objects.exclude(referrer=None).exists()
    assert Order.objects.count() == summary.orders
    assert OrderProduct.objects.count() == summary.lines
    assert _answers(client, ambassador_ids) == before
