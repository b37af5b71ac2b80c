"""Admin for orders, their lines and the products sold, built to stay fast with a million orders.

Searches are exact matches that an index answers, related rows are raw-id inputs (no dropdown of
100k ambassadors), changelists do not COUNT(*) the whole table (see `EstimatedCountPaginator`),
and totals are computed by the database with the page, not row by row.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import admin
from django.contrib.admin.widgets import ForeignKeyRawIdWidget
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
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

from ambassadors.models import Ambassador
from orders.models import MONEY, I18nContent, Order, OrderProduct, Product
from platform_api.admin_tools import LargeTableAdmin, admin_change_url
from platform_api.ids import parse_id

CENT = Decimal("0.01")
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


class ProductRawIdWidget(ForeignKeyRawIdWidget):
    """A raw-id input that does not load the product: the line already shows it (`product_link`,
    from the inline's select_related), so a five-line order costs one query, not six."""

    def label_and_url_for_value(self, value: Any) -> tuple[str, str]:
        try:
            return "", reverse("admin:orders_product_change", args=(value,))
        except NoReverseMatch:
            return "", ""


class OrderProductInline(admin.TabularInline):
    model = OrderProduct
    extra = 0
    fields = ("product", "product_link", "sku", "quantity", "unit_price", "currency", "line_total")
    readonly_fields = ("product_link", "line_total")
    raw_id_fields = ("product",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[OrderProduct]:
        return super().get_queryset(request).select_related("product")

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "product":
            kwargs["widget"] = ProductRawIdWidget(db_field.remote_field, self.admin_site)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description="product")
    def product_link(self, line: OrderProduct) -> str:
        if line.pk is None:
            return "—"
        return format_html('<a href="{}">{}</a>', admin_change_url(line.product), str(line.product))

    @admin.display(description="line total")
    def line_total(self, line: OrderProduct) -> Decimal | str:
        if line.pk is None or line.unit_price is None or line.quantity is None:
            return "—"
        return line.total_price


def _line_totals(outer: str) -> dict[str, Any]:
    """Per-order sums of the lines, as correlated subqueries (one index range scan per order)."""
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


@admin.register(Order)
class OrderAdmin(LargeTableAdmin):
    inlines = (OrderProductInline,)
    list_display = (
        "id_order",
        "id_order_external",
        "date_order",
        "ambassador",
        "buyer",
        "last_status",
        "type",
        "assignment",
        "total_amount",
        "currency",
        "total_products_quantity",
    )
    list_select_related = ("ambassador", "buyer")
    list_filter = ("last_status", "type", "assignment", CurrencyFilter, "date_order")
    search_fields = ("id_order", "id_order_external", "customer_id", "buyer__email")
    search_help_text = "An order id, an external id, a customer id or a buyer's email (exact)."
    raw_id_fields = ("ambassador", "buyer")
    # The primary key index serves it; the endpoint's date index leads with the ambassador.
    ordering = ("-id_order",)
    readonly_fields = ("total_products_quantity", "lines_total")
    fieldsets = (
        (None, {"fields": ("ambassador", "buyer", "customer_id", "id_order_external")}),
        (
            "State",
            {"fields": ("last_status", "type", "assignment", "source", "order_info")},
        ),
        (
            "Amounts",
            {
                "fields": (
                    "currency",
                    "total_amount",
                    "total_paid",
                    "total_ws",
                    "lines_total",
                    "total_products_quantity",
                )
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
        ("Dates", {"fields": ("date_order", "date_insert", "date_update")}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Order]:
        return super().get_queryset(request).annotate(**_line_totals("pk"))

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Order], search_term: str
    ) -> tuple[QuerySet[Order], bool]:
        # Exact matches only: each branch is an index lookup (primary key, order_external_idx,
        # order_customer_idx, ambassador_email_idx then the buyer foreign key index).
        term = search_term.strip()
        if not term:
            return queryset, False
        if "@" in term:
            # The buyers first (email index), then their orders (buyer index). As one join, the
            # planner may walk the whole table backwards by id looking for a rare buyer's
            # orders to fill the page: measured 3.4 s on a million orders, for no match.
            buyers = list(
                Ambassador.objects.filter(email__in={term, term.lower()}).values_list(
                    "pk", flat=True
                )
            )
            return queryset.filter(buyer_id__in=buyers), False
        matches = Q(id_order_external=term) | Q(customer_id=term)
        number = parse_id(term)
        if number is not None:
            matches |= Q(pk=number)
        return queryset.filter(matches), False

    @admin.display(description="products quantity")
    def total_products_quantity(self, order: Order) -> int | str:
        value = getattr(order, "lines_quantity", None)
        return "—" if value is None else value

    @admin.display(description="lines total")
    def lines_total(self, order: Order) -> Decimal | str:
        value = getattr(order, "lines_amount", None)
        # SQLite sums decimals as floats; show cents like the stored amounts.
        return "—" if value is None else Decimal(value).quantize(CENT)


@admin.register(OrderProduct)
class OrderProductAdmin(LargeTableAdmin):
    list_display = ("id_order_product", "order", "product", "quantity", "unit_price", "currency")
    list_select_related = ("order", "product")
    search_fields = ("order__id_order", "sku")
    search_help_text = "An order id or a SKU (exact)."
    raw_id_fields = ("order", "product")
    ordering = ("-id_order_product",)

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
    search_help_text = "A product id, an exact SKU, or part of the name."
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
        return queryset.filter(matches), False


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
