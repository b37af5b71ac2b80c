"""Admin for brands, ambassadors and API tokens: pages render with bounded queries, tokens are
created through the service with their secret shown once, and revoked by an action."""

from __future__ import annotations

import pytest
from django.contrib.sessions.models import Session
from django.urls import reverse
from rest_framework.test import APIClient

from ambassadors.models import Ambassador, ApiToken, Brand
from ambassadors.tokens import digest_of
from orders.models import Order
from tests.admin_helpers import admin_url, count_queries
from tests.factories import AmbassadorFactory, ApiTokenFactory, BrandFactory, OrderFactory

pytestmark = pytest.mark.django_db

# Session, user, the count, the page's rows and the brand filter's choices.
MAX_CHANGELIST_QUERIES = 6
# Session, user, the row (with the related rows it shows), a raw-id or choice widget; an
# ambassador's page also counts their credited orders and their purchases.
MAX_CHANGE_QUERIES = 6


def _rows(model: type, count: int) -> None:
    brand = BrandFactory()
    if model is Brand:
        BrandFactory.create_batch(count)
    elif model is Ambassador:
        AmbassadorFactory.create_batch(count, brand=brand)
    else:
        ApiTokenFactory.create_batch(count, brand=brand)
        ApiTokenFactory.create_batch(count, for_ambassador=True)


def _one(model: type):
    if model is Brand:
        return BrandFactory()
    if model is Ambassador:
        return AmbassadorFactory()
    return ApiTokenFactory(for_ambassador=True)


MODELS = [Brand, Ambassador, ApiToken]


@pytest.mark.parametrize("model", MODELS)
def test_changelist_renders_with_queries_that_do_not_grow_with_rows(
    admin_client, django_assert_max_num_queries, model
):
    # given
    _rows(model, 3)
    few = count_queries(admin_client, admin_url(model, "changelist"))
    _rows(model, 30)

    # when
    with django_assert_max_num_queries(MAX_CHANGELIST_QUERIES):
        response = admin_client.get(admin_url(model, "changelist"))

    # then
    assert response.status_code == 200
    assert count_queries(admin_client, admin_url(model, "changelist")) == few


@pytest.mark.parametrize("model", MODELS)
def test_change_and_add_pages_render(admin_client, django_assert_max_num_queries, model):
    obj = _one(model)
    admin_client.get(admin_url(model, "change", obj.pk))  # warm the content-type cache

    with django_assert_max_num_queries(MAX_CHANGE_QUERIES):
        change = admin_client.get(admin_url(model, "change", obj.pk))
    add = admin_client.get(admin_url(model, "add"))

    assert change.status_code == 200
    assert add.status_code == 200


def test_ambassador_change_page_uses_no_dropdown_of_ambassadors(admin_client):
    token = ApiTokenFactory(for_ambassador=True)
    AmbassadorFactory.create_batch(5)

    page = admin_client.get(admin_url(ApiToken, "change", token.pk)).content.decode()
    add = admin_client.get(admin_url(ApiToken, "add")).content.decode()

    assert 'name="ambassador"' not in page  # read-only once created
    assert 'class="vForeignKeyRawIdAdminField"' in add
    assert "<select" not in add.split('name="ambassador"')[1].split(">")[0]


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("id", True),
        ("email", True),
        ("customer_id", True),
        ("lastname", True),
        ("nobody-matches-this", False),
    ],
)
def test_ambassador_search(admin_client, term, expected):
    wanted = AmbassadorFactory(lastname="Zyxwvutsrq", customer_id="CUST-LOOKFORME")
    other = AmbassadorFactory(lastname="Other")
    values = {
        "id": str(wanted.pk),
        "email": wanted.email,
        "customer_id": wanted.customer_id,
        "lastname": "yxwvut",
        "nobody-matches-this": "nobody-matches-this",
    }

    response = admin_client.get(admin_url(Ambassador, "changelist"), {"q": values[term]})

    shown = {a.pk for a in response.context["cl"].result_list}
    assert (wanted.pk in shown) is expected
    assert other.pk not in shown


def test_ambassador_filter_by_active(admin_client):
    active = AmbassadorFactory(active=Ambassador.Active.ACTIVE)
    blocked = AmbassadorFactory(active=Ambassador.Active.BLOCKED)

    response = admin_client.get(
        admin_url(Ambassador, "changelist"), {"active__exact": Ambassador.Active.BLOCKED}
    )

    shown = {a.pk for a in response.context["cl"].result_list}
    assert shown == {blocked.pk}
    assert active.pk not in shown


def _secret_from(page: str) -> str:
    marker = '<code id="token-secret"'
    start = page.index(">", page.index(marker)) + 1
    return page[start : page.index("</code>", start)]


def test_adding_a_token_shows_the_secret_once_and_stores_only_its_digest(admin_client, brand):
    # when: created, then redirected (POST-redirect-GET)
    response = admin_client.post(
        admin_url(ApiToken, "add"),
        {"kind": "brand", "brand": brand.pk, "name": "shop sync", "expires_in_days": "30"},
    )
    assert response.status_code == 302
    shown = admin_client.get(response["Location"])

    # then: the page after the redirect carries the secret, never stored whole
    assert shown.status_code == 200
    assert "no-store" in shown["Cache-Control"]
    secret = _secret_from(shown.content.decode())
    token = ApiToken.objects.get()
    assert secret.startswith(f"pat_{token.prefix}_")
    assert token.digest == digest_of(secret)
    assert (token.kind, token.brand_id, token.name) == ("brand", brand.pk, "shop sync")
    assert token.expires_at is not None
    assert secret not in str(response.cookies)
    assert secret not in response["Location"]
    stored = [s.get_decoded() for s in Session.objects.all()]
    assert all(secret not in str(data) for data in stored)
    row = ApiToken.objects.filter(pk=token.pk).values().get()
    assert all(secret not in str(value) for value in row.values())

    # and it is never shown again, nor is the digest; a reload mints nothing
    reload = admin_client.get(response["Location"], follow=True)
    assert secret not in reload.content.decode()
    assert "shown only once" in reload.content.decode()
    assert ApiToken.objects.count() == 1
    for url in (admin_url(ApiToken, "change", token.pk), admin_url(ApiToken, "changelist")):
        page = admin_client.get(url).content.decode()
        assert secret not in page
        assert token.digest not in page
        assert token.prefix in page


def test_a_secret_page_with_a_wrong_key_shows_nothing(admin_client, brand):
    response = admin_client.post(admin_url(ApiToken, "add"), {"kind": "brand", "brand": brand.pk})
    url = response["Location"].split("?")[0]

    page = admin_client.get(f"{url}?key=AAAA", follow=True).content.decode()

    assert 'id="token-secret"' not in page
    # the session's half is gone too: the right key no longer opens it
    again = admin_client.get(response["Location"], follow=True).content.decode()
    assert 'id="token-secret"' not in again


def test_the_created_token_authenticates(admin_client, ambassador):
    response = admin_client.post(
        admin_url(ApiToken, "add"), {"kind": "ambassador", "ambassador": ambassador.pk}
    )
    secret = _secret_from(admin_client.get(response["Location"]).content.decode())

    api = APIClient().get(
        f"/api/v2/platform/ambassadors/{ambassador.pk}/orders",
        HTTP_AUTHORIZATION=f"Bearer {secret}",
    )

    assert api.status_code == 200
    assert ApiToken.objects.get().brand_id == ambassador.brand_id


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "brand"}, "brand"),
        ({"kind": "ambassador"}, "ambassador"),
        ({"kind": "guest", "ambassador": "AMB"}, "ambassador"),
        ({"kind": "ambassador", "ambassador": "AMB", "brand": "OTHER"}, "ambassador"),
        ({"kind": "brand", "brand": "BRAND", "expires_in_days": "0"}, "expires_in_days"),
    ],
)
def test_adding_an_invalid_token_shows_the_error_and_creates_nothing(admin_client, data, field):
    ambassador = AmbassadorFactory()
    other = BrandFactory()
    values = {"AMB": ambassador.pk, "OTHER": other.pk, "BRAND": ambassador.brand_id}
    post = {key: values.get(value, value) for key, value in data.items()}

    response = admin_client.post(admin_url(ApiToken, "add"), post)

    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert not ApiToken.objects.exists()


def test_prefix_digest_and_scope_cannot_be_changed(admin_client):
    token = ApiTokenFactory(name="before")
    other = BrandFactory()

    response = admin_client.post(
        admin_url(ApiToken, "change", token.pk),
        {
            "name": "after",
            "prefix": "changedpfx",
            "digest": "0" * 64,
            "kind": "guest",
            "brand": other.pk,
            "expires_at_0": "",
            "expires_at_1": "",
        },
    )

    assert response.status_code == 302
    saved = ApiToken.objects.get(pk=token.pk)
    assert saved.name == "after"
    assert (saved.prefix, saved.digest, saved.kind, saved.brand_id) == (
        token.prefix,
        token.digest,
        "brand",
        token.brand_id,
    )


def test_revoke_action_revokes_the_selected_tokens_only(admin_client):
    # given
    order = OrderFactory()
    chosen = ApiTokenFactory(brand=order.ambassador.brand)
    kept = ApiTokenFactory(brand=order.ambassador.brand)
    url = f"/api/v2/platform/ambassadors/{order.ambassador_id}/orders"
    assert APIClient().get(url, HTTP_AUTHORIZATION=f"Bearer {chosen.secret}").status_code == 200

    # when
    response = admin_client.post(
        admin_url(ApiToken, "changelist"),
        {"action": "revoke_tokens", "_selected_action": [chosen.pk]},
    )

    # then
    assert response.status_code == 302
    chosen.refresh_from_db()
    kept.refresh_from_db()
    assert chosen.revoked_at is not None
    assert kept.revoked_at is None
    assert APIClient().get(url, HTTP_AUTHORIZATION=f"Bearer {chosen.secret}").status_code == 401
    assert APIClient().get(url, HTTP_AUTHORIZATION=f"Bearer {kept.secret}").status_code == 200


def test_token_state_filter(admin_client):
    usable = ApiTokenFactory()
    revoked = ApiTokenFactory(revoked=True)
    expired = ApiTokenFactory(expired=True)

    def shown(state: str) -> set[int]:
        response = admin_client.get(admin_url(ApiToken, "changelist"), {"state": state})
        return {t.pk for t in response.context["cl"].result_list}

    assert shown("usable") == {usable.pk}
    assert shown("revoked") == {revoked.pk}
    assert shown("expired") == {expired.pk}


def test_an_ambassador_page_links_their_orders_and_purchases_with_counts(admin_client):
    seller = AmbassadorFactory()
    OrderFactory.create_batch(3, ambassador=seller)
    OrderFactory(buyer=seller)

    page = admin_client.get(admin_url(Ambassador, "change", seller.pk)).content.decode()

    orders = admin_url(Order, "changelist")
    assert f'href="{orders}?ambassador={seller.pk}" id="credited-orders">3 orders' in page
    assert f'href="{orders}?buyer={seller.pk}" id="purchases">1 orders' in page


@pytest.mark.parametrize("term", ["Olga Smith", "smith", "olga.sm", "OLGA.SMITH3@EXAMPLE.COM"])
def test_ambassador_search_finds_names_and_email_prefixes(admin_client, term):
    olga = AmbassadorFactory(firstname="Olga", lastname="Smith", email="olga.smith3@example.com")
    AmbassadorFactory(firstname="Bruno", lastname="Martin", email="bruno@example.com")

    found = admin_client.get(admin_url(Ambassador, "changelist"), {"q": term})

    assert [a.pk for a in found.context["cl"].result_list] == [olga.pk]


def test_deleting_a_referenced_ambassador_is_refused_with_counts_and_offers_anonymizing(
    admin_client, django_assert_max_num_queries
):
    seller = AmbassadorFactory()
    OrderFactory.create_batch(4, ambassador=seller)

    # Session, user, the row, one count per protecting relation.
    with django_assert_max_num_queries(8):
        response = admin_client.get(admin_url(Ambassador, "delete", seller.pk))

    page = response.content.decode()
    assert "4 orders (as ambassador)" in page
    assert "Order #" not in page  # counted, not listed
    assert 'id="anonymize-form"' in page
    admin_client.post(admin_url(Ambassador, "delete", seller.pk), {"post": "yes"})
    assert Ambassador.objects.filter(pk=seller.pk).exists()


def test_anonymizing_from_the_refusal_keeps_the_orders(admin_client):
    seller = AmbassadorFactory(firstname="Olga", email="olga@example.com")
    OrderFactory(ambassador=seller)
    url = reverse("admin:ambassadors_ambassador_anonymize", args=(seller.pk,))

    assert admin_client.get(url).status_code == 405
    response = admin_client.post(url)

    assert response.status_code == 302
    seller.refresh_from_db()
    assert (seller.anonymized, seller.firstname, seller.email) == (True, "", "")
    assert Order.objects.filter(ambassador=seller).count() == 1


def test_an_unreferenced_ambassador_can_still_be_deleted(admin_client):
    loner = AmbassadorFactory()

    admin_client.post(admin_url(Ambassador, "delete", loner.pk), {"post": "yes"})

    assert not Ambassador.objects.filter(pk=loner.pk).exists()


def test_the_bulk_delete_action_refuses_referenced_ambassadors_with_counts(admin_client):
    busy, idle = AmbassadorFactory(), AmbassadorFactory()
    OrderFactory.create_batch(2, ambassador=busy)

    response = admin_client.post(
        admin_url(Ambassador, "changelist"),
        {"action": "delete_selected", "_selected_action": [busy.pk, idle.pk]},
    )

    page = response.content.decode()
    assert "2 orders (as ambassador)" in page
    assert Ambassador.objects.filter(pk__in=[busy.pk, idle.pk]).count() == 2
