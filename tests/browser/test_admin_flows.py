"""What an admin does, in Chromium: lists, filters, search, deep pages, an unchanged save,
ambassador -> orders, a refused delete, the CSV export, tokens, and the API docs' "Try it out".

Speed is measured by bench/admin_pages.py, never asserted here; pages are checked for what they
show, and the deep page for answering at all.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

pytestmark = pytest.mark.browser

ORDERS_PATH = "/admin/orders/order/"


def result_ids(page: Any) -> list[int]:
    return [
        int(text)
        for text in page.locator("#result_list tbody th.field-id_order a").all_inner_texts()
    ]


def column_texts(page: Any, column: str) -> list[str]:
    return page.locator(f"#result_list tbody td.field-{column}").all_inner_texts()


def test_the_order_list_shows_what_admins_look_for_at_1400_px(page, base_url):
    page.goto(base_url + ORDERS_PATH)

    assert len(result_ids(page)) == 50
    columns = ("date_order_utc", "buyer_link", "ambassador_link", "last_status", "total_amount")
    for column in (*columns, "currency"):
        header = page.locator(f"#result_list thead th.column-{column}")
        box = header.bounding_box()
        assert box is not None, column
        assert box["x"] + box["width"] <= 1400, f"{column} needs a sideways scroll"
    assert "DATE (UTC)" in page.locator("#result_list thead").inner_text().upper()
    assert page.locator("text=Show counts").count() == 0


@pytest.mark.parametrize(
    ("filter_title", "choice", "parameter"),
    [
        ("last status", "OK", "last_status__exact"),
        ("type", "web", "type__exact"),
        ("assignment", "unassigned", "assignment__exact"),
        ("currency", "EUR", "currency"),
    ],
)
def test_each_choice_filter_narrows_the_list(page, base_url, filter_title, choice, parameter):
    page.goto(base_url + ORDERS_PATH)
    before = page.locator("#changelist-form .paginator").inner_text()

    page.locator(f'#changelist-filter details[data-filter-title="{filter_title}"] a').filter(
        has_text=re.compile(f"^{re.escape(choice)}$")
    ).first.click()
    page.wait_for_url(re.compile(f"[?&]{re.escape(parameter)}="))

    assert parameter in parse_qs(urlsplit(page.url).query)
    assert result_ids(page)
    assert page.locator("#changelist-form .paginator").inner_text() != before


def test_the_ambassador_autocomplete_filter(page, base_url):
    page.goto(base_url + ORDERS_PATH)

    page.locator("#filter-ambassador .select2-selection").click()
    page.locator(".select2-search__field").fill("Olga Smith")
    page.locator(".select2-results__option", has_text="Olga Smith (#1)").click()
    page.wait_for_url(re.compile(r"[?&]ambassador=1\b"))

    assert result_ids(page)
    assert set(column_texts(page, "ambassador_link")) == {"Olga Smith (#1)"}


def test_the_date_range_reaches_2019(page, base_url):
    page.goto(base_url + ORDERS_PATH)
    page.fill("input[name=date_order__range__gte]", "2019-03-01")
    page.fill("input[name=date_order__range__lte]", "2019-03-31")
    page.locator(".admindatefilter input[type=submit]").click()
    page.wait_for_url(re.compile("date_order__range__gte=2019-03-01"))

    assert len(result_ids(page)) == 5
    assert all(text.startswith("2019-03-05") for text in column_texts(page, "date_order_utc"))


@pytest.mark.parametrize("term", ["Olga Smith", "olga.smi"])
def test_search_finds_a_buyer_by_full_name_and_email_prefix(page, base_url, term):
    page.goto(base_url + ORDERS_PATH)

    page.fill("#searchbar", term)
    page.press("#searchbar", "Enter")
    page.wait_for_url(re.compile(r"[?&]q="))

    assert result_ids(page)
    assert set(column_texts(page, "buyer_link")) == {"Olga Smith (#1)"}


def test_search_lists_the_exact_order_id_first(page, base_url):
    page.goto(base_url + ORDERS_PATH + "?q=42")

    assert result_ids(page)[0] == 42


def test_the_last_page_answers_like_the_first(page, base_url):
    page.goto(base_url + ORDERS_PATH)
    page.locator(".paginator a.end").click()
    page.wait_for_url(re.compile(r"[?&]p=\d+"))

    ids = result_ids(page)
    assert ids
    assert min(ids) == 1  # the oldest order, on the last page


def test_an_unchanged_save_keeps_the_microseconds(page, base_url, manage):
    read = (
        "from orders.models import Order; o = Order.objects.get(pk=7); "
        "print(o.date_order.isoformat(), o.date_update.isoformat())"
    )
    before = manage("shell", "-c", read)
    assert ".123457" in before or "." in before  # microseconds are there to lose

    page.goto(f"{base_url}{ORDERS_PATH}7/change/")
    assert page.locator('input[name="total_amount"]').count() == 0  # read-only
    page.locator('input[name="_save"]').click()
    page.wait_for_selector(".messagelist .success")
    page.goto(f"{base_url}{ORDERS_PATH}7/history/")

    assert manage("shell", "-c", read) == before
    assert "No fields changed." in page.locator("#change-history").inner_text()


def test_from_an_ambassador_to_their_orders_and_purchases(page, base_url):
    page.goto(f"{base_url}/admin/ambassadors/ambassador/1/change/")
    credited_text = page.locator("#credited-orders").inner_text()
    count = int(credited_text.split()[0].replace(",", ""))

    page.locator("#credited-orders").click()
    page.wait_for_url(re.compile(r"[?&]ambassador=1\b"))

    assert "ambassador=1" in page.url
    assert set(column_texts(page, "ambassador_link")) == {"Olga Smith (#1)"}
    assert f"{count} " in page.locator("#changelist-form .paginator").inner_text()
    page.goto(f"{base_url}/admin/ambassadors/ambassador/1/change/")
    page.locator("#purchases").click()
    page.wait_for_url(re.compile(r"[?&]buyer=1\b"))
    assert "buyer=1" in page.url


def test_an_order_links_its_ambassador_and_buyer(page, base_url):
    page.goto(f"{base_url}{ORDERS_PATH}?ambassador=1")
    page.locator("#result_list tbody th.field-id_order a").first.click()
    page.wait_for_url(re.compile(r"/order/\d+/change/"))  # ?_changelist_filters= follows

    ambassador = page.locator(".fieldBox.field-ambassador_page a").get_attribute("href")
    buyer = page.locator(".fieldBox.field-buyer_page a").get_attribute("href")

    assert ambassador == "/admin/ambassadors/ambassador/1/change/"
    assert buyer is not None
    page.goto(base_url + buyer)
    assert "Change ambassador" in page.title()


def test_deleting_a_busy_ambassador_is_refused_with_a_count(page, base_url):
    page.goto(f"{base_url}/admin/ambassadors/ambassador/1/delete/")

    listed = page.locator("#deleted-objects li").all_inner_texts()
    assert any(re.match(r"[\d,]+ orders \(as ambassador\)", text) for text in listed)
    assert len(listed) <= 3
    assert page.locator("#anonymize-form input[type=submit]").is_visible()


def test_the_csv_export_of_the_selected_orders(page, base_url):
    page.goto(f"{base_url}{ORDERS_PATH}?ambassador=1")
    shown = result_ids(page)
    page.locator("#action-toggle").check()
    page.select_option("select[name=action]", "export_csv")

    with page.expect_download() as download:
        page.locator("button[name=index]").click()

    text = Path(download.value.path()).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert sorted({int(row["id_order"]) for row in rows}) == sorted(shown)
    ids = [int(row["id_order"]) for row in rows]
    assert ids == sorted(ids)  # by id, each order's lines together, no order twice
    assert {row["id_ambassador"] for row in rows} == {"1"}


def _create_token(page: Any, base_url: str) -> str:
    page.goto(f"{base_url}/admin/ambassadors/apitoken/add/")
    page.select_option("#id_kind", "brand")
    page.select_option("#id_brand", "1")
    page.fill("#id_name", "browser")
    page.locator('input[name="_save"]').click()
    page.wait_for_selector("#token-secret")
    return page.locator("#token-secret").inner_text().strip()


def _token_count(page: Any, base_url: str) -> int:
    page.goto(f"{base_url}/admin/ambassadors/apitoken/?q=browser")
    return len(page.locator("#result_list tbody tr").all())


def test_token_create_reload_and_revoke(page, base_url):
    before = _token_count(page, base_url)
    secret = _create_token(page, base_url)
    assert secret.startswith("pat_")
    secret_url = page.url

    page.reload()

    assert page.locator("#token-secret").count() == 0
    assert "shown only once" in page.locator(".messagelist").inner_text()
    assert _token_count(page, base_url) == before + 1
    page.goto(secret_url)
    assert page.locator("#token-secret").count() == 0

    prefix = secret.split("_")[1]
    page.goto(f"{base_url}/admin/ambassadors/apitoken/?q={prefix}")
    page.locator("#result_list tbody input.action-select").check()
    page.select_option("select[name=action]", "revoke_tokens")
    page.locator("button[name=index]").click()
    assert "1 token(s) revoked." in page.locator(".messagelist").inner_text()


def test_the_api_docs_try_it_out_with_a_token(page, base_url):
    secret = _create_token(page, base_url)
    page.goto(f"{base_url}/api/v2/docs/")

    page.locator("button.authorize").click()
    page.locator(".modal-ux input[type=text], .modal-ux input[type=password]").first.fill(secret)
    page.locator(".modal-ux button.authorize").click()
    page.locator(".modal-ux button.btn-done, .modal-ux button.close-modal").first.click()
    # The orders route by its operation id: the docs list the ambassadors routes too.
    orders = page.locator("#operations-Platform-platform_ambassador_orders")
    orders.locator(".opblock-summary").click()
    orders.locator("button.try-out__btn").click()
    orders.locator(".parameters input[placeholder*='id']").first.fill("1")
    orders.locator("button.execute").click()

    status = page.locator(".live-responses-table .response .response-col_status").first
    status.wait_for()
    assert status.inner_text().strip().startswith("200")
    assert (
        '"current_page": 1' in page.locator(".live-responses-table .microlight").first.inner_text()
    )
