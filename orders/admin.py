"""Admin for orders, their lines and the products sold, built to stay fast with a million orders.

Searches are exact matches that an index answers (people by name or email prefix), related rows
are autocomplete inputs (no dropdown of 100k ambassadors), changelists do not COUNT(*) the whole
table and page their ids first (see `EstimatedCountPaginator`), and totals are computed by the
database for the page's rows only.
"""

from __future__ import annotations

from datetime import UTC
from decimal import Decimal
from typing import Any

from django.contrib import admin, messages
from django.core.cache import cache
from django.db.models import (
    DecimalField,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone
from rangefilter.filters import DateRangeFilter

from ambassadors.selectors import people_matching
from orders.csv_export import orders_csv
from orders.models import MONEY, I18nContent, Order, OrderProduct, Product
from platform_api.admin_tools import (
    AutocompleteFilter,
    LargeTableAdmin,
    admin_link,
    rank_exact_id,
)
from platform_api.ids import parse_id

CENT = Decimal("0.01")
# A buyer search matching more people than this (a one-letter email prefix) is too broad to
# list their orders; the first ones found are used.
MAX_SEARCHED_BUYERS = 500
# The CSV export action streams at most this many orders.
MAX_EXPORTED_ORDERS = 20_000
CURRENCY_CHOICES_CACHE_KEY = "admin:orders:currencies"
CURRENCY_CHOICES_TTL = 600


class CurrencyFilter(admin.SimpleListFilter):
    """Currencies in use. Django's default for a plain field runs SELECT DISTINCT over the whole
    table on every changelist page; the list is cached for a few minutes instead."""

    title = "currency"
    parameter_name = "currency"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        currencies = cache.get(CURRENCY_CHOICES_CACHE_KEY)
        if currencies is None:
            currencies = list(
                Order.objects.order_by("currency").values_list("currency", flat=True).distinct()
            )
            cache.set(CURRENCY_CHOICES_CACHE_KEY, currencies, CURRENCY_CHOICES_TTL)
        return [(code, code) for code in currencies]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        return queryset.filter(currency=value) if value else queryset


class OrderProductInline(admin.TabularInline):
    """An order's lines, read-only: their prices and quantities are history, and the order's
    totals were computed from them."""

    model = OrderProduct
    extra = 0
    max_num = 0
    can_delete = False
    fields = ("product_link", "sku", "quantity", "unit_price", "currency", "line_total")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[OrderProduct]:
        return super().get_queryset(request).select_related("product")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="product")
    def product_link(self, line: OrderProduct) -> str:
        return admin_link(line.product)

    @admin.display(description="line total")
    def line_total(self, line: OrderProduct) -> Decimal | str:
        if line.unit_price is None or line.quantity is None:
            return "—"
        return line.total_price


def _line_totals(outer: str) -> dict[str, Any]:
    """Per-order sums of the lines, as correlated subqueries (one index range scan per order).
    The changelist pages ids first (`EstimatedCountPaginator.page`), so they run for the page's
    rows only."""
    lines = OrderProduct.objects.filter(order=OuterRef(outer)).order_by().values("order")
    quantity = lines.annotate(q=Sum("quantity")).values("q")
    amount = lines.annotate(
        a=Sum(
            ExpressionWrapper(F("quantity") * F("unit_price"), output_field=DecimalField(**MONEY))
        )
    ).values("a")
    return {
        "lines_quantity": Coalesce(Subquery(quantity), Value(0), output_field=IntegerField()),
        "lines_amount": Coalesce(
            Subquery(amount), Value(Decimal(0)), output_field=DecimalField(**MONEY)
        ),
    }


class CreditedAmbassadorFilter(AutocompleteFilter):
    title = "credited ambassador"
    parameter_name = "ambassador"
    field_name = "ambassador"


class BuyerFilter(AutocompleteFilter):
    title = "buyer"
    parameter_name = "buyer"
    field_name = "buyer"


@admin.register(Order)
class OrderAdmin(LargeTableAdmin):
    inlines = (OrderProductInline,)
    # What admins look for, narrow enough for 1,400 px beside the navigation and the filters
    # (tests/browser checks it); the rest is on the order's page and in the filters.
    list_display = (
        "id_order",
        "date_order_utc",
        "buyer_link",
        "ambassador_link",
        "last_status",
        "total_amount",
        "currency",
    )
    list_select_related = ("ambassador", "buyer")
    list_filter = (
        CreditedAmbassadorFilter,
        BuyerFilter,
        ("date_order", DateRangeFilter),
        "last_status",
        "type",
        "assignment",
        CurrencyFilter,
    )
    # No date_hierarchy: its year links are a SELECT DISTINCT over the whole table on every
    # page (1.1 s of a 1.2 s first page on 500,000 orders); the range filter reaches any date.
    search_fields = ("id_order", "id_order_external", "customer_id", "buyer__email")
    search_help_text = (
        "An order id (listed first), an external or customer id, a buyer's email or the start "
        'of it, or a buyer\'s name ("Olga Smith").'
    )
    autocomplete_fields = ("ambassador", "buyer")
    actions = ("export_csv",)
    # The primary key index serves it; the endpoint's date index leads with the ambassador.
    ordering = ("-id_order",)
    readonly_fields = (
        "ambassador_page",
        "buyer_page",
        "total_amount",
        "total_paid",
        "total_ws",
        "lines_total",
        "total_products_quantity",
        "date_insert",
        "date_update",
    )
    fieldsets = (
        (
            None,
            {
                "fields": (
                    ("ambassador", "ambassador_page"),
                    ("buyer", "buyer_page"),
                    "customer_id",
                    "id_order_external",
                )
            },
        ),
        (
            "State",
            {"fields": ("last_status", "type", "assignment", "source", "order_info")},
        ),
        (
            "Amounts",
            {
                "description": "Read-only: the order's history, computed from its lines.",
                "fields": (
                    "currency",
                    "total_amount",
                    "total_paid",
                    "total_ws",
                    "lines_total",
                    "total_products_quantity",
                ),
            },
        ),
        (
            "Links",
            {
                "fields": (
                    "id_popliste",
                    "id_meeting",
                    "id_meeting_external",
                    "id_chat_segment",
                    "id_chatroom",
                )
            },
        ),
        ("Dates (UTC)", {"fields": ("date_order", "date_insert", "date_update")}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Order]:
        # The change page links both people: fetched with the row.
        queryset = super().get_queryset(request).select_related("ambassador", "buyer")
        return queryset.annotate(**_line_totals("pk"))

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Order], search_term: str
    ) -> tuple[QuerySet[Order], bool]:
        # Each branch is an index lookup (primary key, order_external_idx, order_customer_idx,
        # then the buyer foreign key index for the buyers found).
        term = search_term.strip()
        if not term:
            return queryset, False
        matches = Q(id_order_external=term) | Q(customer_id=term)
        number = parse_id(term)
        if number is not None:
            matches |= Q(pk=number)
        else:
            # The buyers first, then their orders: as one join, the planner may walk the
            # whole table backwards by id looking for a rare buyer's orders to fill the page
            # (3.4 s on a million orders, for no match).
            buyers = list(people_matching(term)[:MAX_SEARCHED_BUYERS].values_list("pk", flat=True))
            matches |= Q(buyer_id__in=buyers)
        return rank_exact_id(queryset.filter(matches), term), False

    def save_model(self, request: HttpRequest, obj: Order, form: Any, change: bool) -> None:
        if change and form.changed_data:
            # The API's incremental sync (filter[updated_since]) must see an admin's edit.
            obj.date_update = timezone.now()
        super().save_model(request, obj, form, change)

    @admin.display(description="date (UTC)", ordering="date_order")
    def date_order_utc(self, order: Order) -> str:
        return order.date_order.astimezone(UTC).strftime("%Y-%m-%d %H:%M")

    @admin.display(description="buyer", ordering="buyer")
    def buyer_link(self, order: Order) -> str:
        return admin_link(order.buyer)

    @admin.display(description="credited to", ordering="ambassador")
    def ambassador_link(self, order: Order) -> str:
        return admin_link(order.ambassador)

    @admin.display(description="their page")
    def ambassador_page(self, order: Order) -> str:
        return admin_link(order.ambassador) if order.pk else "—"

    @admin.display(description="their page")
    def buyer_page(self, order: Order) -> str:
        return admin_link(order.buyer) if order.pk else "—"

    @admin.display(description="products quantity")
    def total_products_quantity(self, order: Order) -> int | str:
        value = getattr(order, "lines_quantity", None)
        return "—" if value is None else value

    @admin.display(description="lines total")
    def lines_total(self, order: Order) -> Decimal | str:
        value = getattr(order, "lines_amount", None)
        # SQLite sums decimals as floats; show cents like the stored amounts.
        return "—" if value is None else Decimal(value).quantize(CENT)

    @admin.action(description="Export the selected orders as CSV", permissions=["view"])
    def export_csv(
        self, request: HttpRequest, queryset: QuerySet[Order]
    ) -> StreamingHttpResponse | None:
        ids = list(
            queryset.order_by("-id_order").values_list("pk", flat=True)[: MAX_EXPORTED_ORDERS + 1]
        )
        if len(ids) > MAX_EXPORTED_ORDERS:
            self.message_user(
                request,
                f"An export holds at most {MAX_EXPORTED_ORDERS:,} orders: narrow the list down "
                "with a filter (an ambassador, a date range) and export again.",
                messages.ERROR,
            )
            return None
        response = StreamingHttpResponse(
            orders_csv(Order.objects.filter(pk__in=ids)), content_type="text/csv; charset=utf-8"
        )
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        response["Content-Disposition"] = f'attachment; filename="orders-{stamp}.csv"'
        return response


@admin.register(OrderProduct)
class OrderProductAdmin(LargeTableAdmin):
    list_display = ("id_order_product", "order", "product", "quantity", "unit_price", "currency")
    list_select_related = ("order", "product")
    search_fields = ("order__id_order", "sku")
    search_help_text = "An order id or a SKU (exact)."
    raw_id_fields = ("order", "product")
    ordering = ("-id_order_product",)

    # Lines are history: the order's totals were computed from them. Shown, never edited.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[OrderProduct], search_term: str
    ) -> tuple[QuerySet[OrderProduct], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        matches = Q(sku=term)
        number = parse_id(term)
        if number is not None:
            matches |= Q(order_id=number)
        return queryset.filter(matches), False


class I18nContentInline(admin.TabularInline):
    model = I18nContent
    extra = 0
    max_num = len(I18nContent.Lang.choices)
    fields = ("lang", "content")


@admin.register(Product)
class ProductAdmin(LargeTableAdmin):
    inlines = (I18nContentInline,)
    list_display = ("id_product", "name", "sku", "type", "price", "stock")
    search_fields = ("id_product", "sku", "name")
    search_help_text = "A product id (listed first), an exact SKU, or part of the name."
    ordering = ("-id_product",)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Product], search_term: str
    ) -> tuple[QuerySet[Product], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        matches = Q(sku=term) | Q(name__icontains=term)
        number = parse_id(term)
        if number is not None:
            matches |= Q(pk=number)
        return rank_exact_id(queryset.filter(matches), term), False


@admin.register(I18nContent)
class I18nContentAdmin(LargeTableAdmin):
    list_display = ("id_i18n_content", "product", "lang", "content")
    list_select_related = ("product",)
    list_filter = ("lang",)
    search_fields = ("product__id_product", "content")
    search_help_text = "A product id."
    raw_id_fields = ("product",)
    ordering = ("-id_i18n_content",)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[I18nContent], search_term: str
    ) -> tuple[QuerySet[I18nContent], bool]:
        number = parse_id(search_term.strip())
        if number is None:
            return queryset.none() if search_term.strip() else queryset, False
        return queryset.filter(product_id=number), False
