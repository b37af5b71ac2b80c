"""Admin for orders, lines, products and images: usable with a million orders.

Pages render with query counts that do not grow with the table, searches are exact index
lookups, the related rows are raw-id inputs, totals are computed with the page, and the
changelist does not COUNT(*) a large unfiltered table on PostgreSQL.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib import admin as django_admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ambassadors.models import Ambassador
from orders.models import I18nContent, Order, OrderProduct, Product
from platform_api.admin_tools import EstimatedCountPaginator
from tests.admin_helpers import admin_url, count_queries
from tests.factories import (
    AmbassadorFactory,
    I18nContentFactory,
    OrderFactory,
    OrderProductFactory,
    ProductFactory,
)

pytestmark = pytest.mark.django_db

requires_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the row estimate is PostgreSQL's"
)

MODELS = [Order, OrderProduct, Product, I18nContent]
# Session, user, the count (on PostgreSQL the planner's estimate first), the page's ids, its
# rows (related rows joined), the currency choices.
MAX_CHANGELIST_QUERIES = 7
# Session, user, the row with its totals, raw-id labels (ambassador, buyer), the inline rows.
MAX_CHANGE_QUERIES = 6


def _order_with_lines(lines: int = 3) -> Order:
    order: Order = OrderFactory.create()
    for _ in range(lines):
        OrderProductFactory(order=order)
    return order


def _rows(model: type, count: int) -> None:
    if model is Product:
        for _ in range(count):
            I18nContentFactory(lang="fr_FR", product=ProductFactory())
        return
    if model is I18nContent:
        I18nContentFactory.create_batch(count)
        return
    for _ in range(count):
        _order_with_lines(2)


def _one(model: type):
    order = _order_with_lines(3)
    line = order.lines.all()[0]
    if model is Order:
        return order
    if model is OrderProduct:
        return line
    image = I18nContentFactory(product=line.product)
    return line.product if model is Product else image


@pytest.fixture
def small_pages(monkeypatch):
    # Several pages from a few rows: a single page is listed without the ids-first paging.
    for model in MODELS:
        monkeypatch.setattr(type(django_admin.site._registry[model]), "list_per_page", 2)


@pytest.mark.parametrize("model", MODELS)
def test_changelist_renders_with_queries_that_do_not_grow_with_rows(
    admin_client, django_assert_max_num_queries, model, small_pages
):
    # given: the currency choices are cached after the first page
    _rows(model, 3)
    admin_client.get(admin_url(model, "changelist"))
    few = count_queries(admin_client, admin_url(model, "changelist"))
    _rows(model, 25)

    # when
    with django_assert_max_num_queries(MAX_CHANGELIST_QUERIES):
        response = admin_client.get(admin_url(model, "changelist"))

    # then
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 2
    assert response.context["cl"].multi_page
    assert count_queries(admin_client, admin_url(model, "changelist")) == few


@pytest.mark.parametrize("model", MODELS)
def test_change_and_add_pages_render(admin_client, django_assert_max_num_queries, model):
    obj = _one(model)
    admin_client.get(admin_url(model, "change", obj.pk))  # warm the content-type cache

    with django_assert_max_num_queries(MAX_CHANGE_QUERIES):
        change = admin_client.get(admin_url(model, "change", obj.pk))
    add = admin_client.get(admin_url(model, "add"))

    assert change.status_code == 200
    # Lines are history: shown, never added by hand.
    assert add.status_code == (403 if model is OrderProduct else 200)


def test_order_change_page_queries_do_not_grow_with_its_lines(admin_client):
    one_line = _order_with_lines(1)
    five_lines = _order_with_lines(5)

    few = count_queries(admin_client, admin_url(Order, "change", one_line.pk))
    many = count_queries(admin_client, admin_url(Order, "change", five_lines.pk))

    assert many == few


def test_order_page_uses_autocomplete_inputs_not_dropdowns_of_everyone(admin_client):
    order = _order_with_lines(2)
    AmbassadorFactory.create_batch(5)

    page = admin_client.get(admin_url(Order, "change", order.pk)).content.decode()

    for name in ("ambassador", "buyer"):
        tag = page.split(f'<select name="{name}"')[1].split(">", 1)[0]
        assert "admin-autocomplete" in tag, name
    # only the chosen person is an option: the others come from the autocomplete view
    chosen = page.split('<select name="ambassador"')[1].split("</select>")[0]
    assert chosen.count("<option") == 1
    # and both people are a click away
    assert admin_url(Ambassador, "change", order.ambassador_id) in page
    assert admin_url(Ambassador, "change", order.buyer_id) in page


def test_order_totals_are_read_only_and_computed_from_the_lines(admin_client):
    order = OrderFactory()
    OrderProductFactory(order=order, quantity=2, unit_price=Decimal("10.50"))
    OrderProductFactory(order=order, quantity=3, unit_price=Decimal("1.00"))

    response = admin_client.get(admin_url(Order, "change", order.pk))

    form = response.context["adminform"]
    assert {"lines_total", "total_products_quantity"} <= set(form.readonly_fields)
    page = response.content.decode()
    assert "24.00" in page  # 2 * 10.50 + 3 * 1.00
    changelist = admin_client.get(admin_url(Order, "changelist"))
    row = changelist.context["cl"].result_list[0]
    assert (row.lines_quantity, row.lines_amount) == (5, Decimal("24.00"))


@pytest.mark.parametrize("field", ["id", "external", "customer_id", "buyer_email"])
def test_order_search(admin_client, field):
    wanted = OrderFactory(id_order_external="SHOP-42", customer_id="CUST-WANTED")
    other = OrderFactory()
    term = {
        "id": str(wanted.pk),
        "external": "SHOP-42",
        "customer_id": "CUST-WANTED",
        "buyer_email": wanted.buyer.email,
    }[field]

    response = admin_client.get(admin_url(Order, "changelist"), {"q": term})

    shown = {o.pk for o in response.context["cl"].result_list}
    assert wanted.pk in shown
    assert other.pk not in shown


def test_order_search_with_no_match_and_non_numeric_term(admin_client):
    OrderFactory()

    response = admin_client.get(admin_url(Order, "changelist"), {"q": "not-an-id"})

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == []


@pytest.mark.parametrize(
    ("params", "wanted_attrs"),
    [
        ({"last_status__exact": "RETURNED"}, {"last_status": Order.Status.RETURNED}),
        ({"type__exact": "MAG"}, {"type": Order.Type.MAG}),
        ({"assignment__exact": "affiliation_assigned"}, {"assignment": "affiliation_assigned"}),
        ({"currency": "CHF"}, {"currency": "CHF"}),
    ],
)
def test_order_filters(admin_client, params, wanted_attrs):
    wanted = OrderFactory(**wanted_attrs)
    other = OrderFactory()

    response = admin_client.get(admin_url(Order, "changelist"), params)

    shown = {o.pk for o in response.context["cl"].result_list}
    assert shown == {wanted.pk}
    assert other.pk not in shown


def test_order_date_filter(admin_client):
    recent = OrderFactory(date_order=timezone.now() - timedelta(hours=1))
    OrderFactory(date_order=timezone.now() - timedelta(days=90))
    today = timezone.now()

    response = admin_client.get(
        admin_url(Order, "changelist"),
        {
            "date_order__gte": (today - timedelta(days=7)).date().isoformat(),
            "date_order__lt": (today + timedelta(days=1)).date().isoformat(),
        },
    )

    assert {o.pk for o in response.context["cl"].result_list} == {recent.pk}


def test_currency_filter_lists_the_currencies_in_use(admin_client):
    OrderFactory(currency="GBP")
    OrderFactory(currency="EUR")

    response = admin_client.get(admin_url(Order, "changelist"))

    spec = next(f for f in response.context["cl"].filter_specs if f.title == "currency")
    assert [code for code, _ in spec.lookup_choices] == ["EUR", "GBP"]


@pytest.mark.parametrize(
    ("model", "term"),
    [
        (Product, "sku"),
        (Product, "id"),
        (Product, "name"),
        (OrderProduct, "sku"),
        (OrderProduct, "order"),
        (I18nContent, "product"),
    ],
)
def test_product_line_and_image_search(admin_client, model, term):
    wanted = OrderProductFactory(product=ProductFactory(name="Alpine Parka", sku="SKU-WANTED"))
    other = OrderProductFactory(product=ProductFactory(name="Other"))
    wanted_image = I18nContentFactory(product=wanted.product)
    I18nContentFactory(product=other.product)
    value = {
        "sku": "SKU-WANTED",
        "id": str(wanted.product_id),
        "name": "pine par",
        "order": str(wanted.order_id),
        "product": str(wanted.product_id),
    }[term]
    expected = {Product: wanted.product_id, OrderProduct: wanted.pk, I18nContent: wanted_image.pk}

    response = admin_client.get(admin_url(model, "changelist"), {"q": value})

    assert {o.pk for o in response.context["cl"].result_list} == {expected[model]}


def test_paginator_counts_exactly_on_small_or_filtered_tables(django_assert_num_queries):
    OrderFactory.create_batch(3)

    with django_assert_num_queries(1 if connection.vendor != "postgresql" else 2):
        assert EstimatedCountPaginator(Order.objects.order_by("pk"), 2).count == 3
    assert EstimatedCountPaginator(Order.objects.filter(pk__lt=0).order_by("pk"), 2).count == 0


@requires_postgres
def test_paginator_uses_the_planner_estimate_for_a_large_unfiltered_table(monkeypatch):
    # given: fresh statistics, and a threshold low enough that three rows count as large
    OrderFactory.create_batch(3)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE orders_order")
    monkeypatch.setattr(EstimatedCountPaginator, "exact_below", 1)

    # when
    with CaptureQueriesContext(connection) as queries:
        count = EstimatedCountPaginator(Order.objects.order_by("pk"), 2).count

    # then: one catalogue lookup, no COUNT
    assert count == 3
    assert len(queries) == 1
    assert "pg_class" in queries[0]["sql"]
    assert "COUNT" not in queries[0]["sql"].upper()
    filtered = EstimatedCountPaginator(Order.objects.filter(pk__lt=0).order_by("pk"), 2)
    assert filtered.count == 0


@requires_postgres
def test_changelist_of_a_large_table_does_not_count_it(admin_client, monkeypatch):
    OrderFactory.create_batch(3)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE orders_order")
    monkeypatch.setattr(EstimatedCountPaginator, "exact_below", 1)

    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(admin_url(Order, "changelist"))

    assert response.status_code == 200
    assert not [q for q in queries if "COUNT(" in q["sql"].upper()]


def test_facet_counts_are_never_computed(admin_client):
    _rows(Order, 3)
    admin_client.get(admin_url(Order, "changelist"))  # warm the currency cache
    plain = count_queries(admin_client, admin_url(Order, "changelist"))

    faceted = count_queries(admin_client, admin_url(Order, "changelist") + "?_facets=True")

    assert faceted == plain
    page = admin_client.get(admin_url(Order, "changelist") + "?_facets=True").content.decode()
    assert "Show counts" not in page


def test_a_deep_page_costs_the_queries_of_the_first(admin_client, small_pages):
    _rows(Order, 7)  # four pages of two
    admin_client.get(admin_url(Order, "changelist"))
    url = admin_url(Order, "changelist")

    first = count_queries(admin_client, url)
    last = count_queries(admin_client, f"{url}?p=4")

    assert last == first
    newest_first = list(Order.objects.order_by("-id_order").values_list("pk", flat=True))
    shown = [o.pk for o in admin_client.get(f"{url}?p=3").context["cl"].result_list]
    assert shown == newest_first[4:6]


def test_orders_are_filtered_by_the_credited_ambassador_and_the_buyer(admin_client):
    mine = _order_with_lines(1)
    other = _order_with_lines(1)
    url = admin_url(Order, "changelist")

    credited = admin_client.get(f"{url}?ambassador={mine.ambassador_id}")
    bought = admin_client.get(f"{url}?buyer={other.buyer_id}")

    assert [o.pk for o in credited.context["cl"].result_list] == [mine.pk]
    assert [o.pk for o in bought.context["cl"].result_list] == [other.pk]
    # the filter is an autocomplete over the ambassadors, showing who is chosen
    page = credited.content.decode()
    assert 'id="filter-ambassador"' in page
    assert f'<option value="{mine.ambassador_id}" selected>' in page
    assert "admin/js/autocomplete.js" in page


def test_a_malformed_ambassador_filter_is_refused_not_a_500(admin_client):
    response = admin_client.get(admin_url(Order, "changelist") + "?ambassador=abc")

    assert response.status_code == 302
    assert "e=1" in response["Location"]


def test_the_date_range_reaches_old_orders(admin_client):
    old = OrderFactory(date_order=timezone.now().replace(year=2019, month=3, day=5))
    OrderFactory()
    url = admin_url(Order, "changelist")

    ranged = admin_client.get(
        f"{url}?date_order__range__gte=2019-03-01&date_order__range__lte=2019-03-31"
    )

    assert [o.pk for o in ranged.context["cl"].result_list] == [old.pk]


def test_order_search_finds_buyers_by_full_name_and_email_prefix(admin_client):
    olga = AmbassadorFactory(firstname="Olga", lastname="Smith", email="olga.smith7@example.com")
    hers = OrderFactory(buyer=olga)
    OrderFactory()
    url = admin_url(Order, "changelist")

    for term in ("Olga Smith", "smith olga", "olga.smi", "OLGA.SMITH7@example.com"):
        found = admin_client.get(url, {"q": term}).context["cl"].result_list
        assert [o.pk for o in found] == [hers.pk], term


def test_product_search_lists_the_exact_id_first(admin_client):
    target = ProductFactory(name="Serum")
    named_after = ProductFactory(name=f"Candle {target.pk}")

    found = admin_client.get(admin_url(Product, "changelist"), {"q": str(target.pk)})

    # newest first otherwise: the candle would lead
    assert [p.pk for p in found.context["cl"].result_list] == [target.pk, named_after.pk]


def test_list_columns_are_what_admins_look_for(admin_client):
    _order_with_lines(1)

    page = admin_client.get(admin_url(Order, "changelist")).content.decode()

    for header in ("date (UTC)", "buyer", "credited to", "total amount", "currency"):
        assert header.upper() in page.upper(), header


def test_totals_and_lines_cannot_be_edited(admin_client):
    order = _order_with_lines(2)
    page = admin_client.get(admin_url(Order, "change", order.pk)).content.decode()

    for name in ("total_amount", "total_paid", "total_ws", "lines-0-unit_price"):
        assert f'name="{name}"' not in page, name
    assert (
        admin_client.get(admin_url(OrderProduct, "change", order.lines.first().pk)).context[
            "has_change_permission"
        ]
        is False
    )


def test_deleting_a_sold_product_is_refused_with_a_count(admin_client):
    order = _order_with_lines(1)
    product = order.lines.get().product
    for _ in range(3):
        OrderProductFactory(product=product)

    response = admin_client.get(admin_url(Product, "delete", product.pk))

    page = response.content.decode()
    assert "4 order lines" in page
    assert admin_url(OrderProduct, "change", order.lines.get().pk) not in page
    assert admin_client.post(admin_url(Product, "delete", product.pk), {"post": "yes"}).status_code
    assert Product.objects.filter(pk=product.pk).exists()
