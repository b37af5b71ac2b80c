"""Orders credited to ambassadors, their lines, and the products (with per-language images) sold.

Field names follow the published Platform API so that admin, SQL and JSON speak one language.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models import Q
from django.utils import timezone

from ambassadors.models import Ambassador

MONEY: dict[str, Any] = {"max_digits": 12, "decimal_places": 2}


class Product(models.Model):
    """An item of the catalogue, as an order line shows it."""

    id_product = models.BigAutoField(primary_key=True)
    name = models.CharField(max_length=255, null=True, blank=True)
    type = models.CharField(max_length=64, null=True, blank=True)
    discount_percentage = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal(0))
    price_catalog = models.DecimalField(**MONEY, default=Decimal(0))
    reference_unit_price = models.DecimalField(**MONEY, default=Decimal(0))
    sku = models.CharField(max_length=64, null=True, blank=True)
    youtube_id = models.CharField(max_length=32, null=True, blank=True)
    url = models.CharField(max_length=2000, null=True, blank=True)
    description = models.TextField(null=True, blank=True)
    price = models.DecimalField(**MONEY, default=Decimal(0))
    stock = models.IntegerField(default=0)
    stock_available = models.DecimalField(**MONEY, default=Decimal(0))
    old_image = models.CharField(max_length=2000, null=True, blank=True)

    class Meta:
        ordering = ["id_product"]
        indexes = [models.Index(fields=["sku"], name="product_sku_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(discount_percentage__gte=0, discount_percentage__lte=100),
                name="product_discount_percentage_range",
            ),
            models.CheckConstraint(
                condition=Q(price_catalog__gte=0), name="product_price_catalog_gte_0"
            ),
            models.CheckConstraint(
                condition=Q(reference_unit_price__gte=0), name="product_reference_unit_price_gte_0"
            ),
            models.CheckConstraint(condition=Q(price__gte=0), name="product_price_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.name or self.sku or '—'} (#{self.id_product})"


class I18nContent(models.Model):
    """A product's image for one language."""

    class Lang(models.TextChoices):
        EN_GB = "en_GB", "English (UK)"
        FR_FR = "fr_FR", "French"
        ES_ES = "es_ES", "Spanish"
        DE_DE = "de_DE", "German"

    id_i18n_content = models.BigAutoField(primary_key=True)
    product = models.ForeignKey(
        Product,
        on_delete=models.CASCADE,
        related_name="images",
        db_column="id_product",
        db_index=False,  # the unique (product, lang) index leads with it
    )
    lang = models.CharField(max_length=5, choices=Lang.choices)
    content = models.CharField(max_length=2000)

    class Meta:
        ordering = ["product", "id_i18n_content"]
        verbose_name = "product image"
        constraints = [
            models.UniqueConstraint(fields=["product", "lang"], name="i18n_content_one_per_lang"),
            models.CheckConstraint(
                condition=Q(lang__in=["en_GB", "fr_FR", "es_ES", "de_DE"]),
                name="i18n_content_lang_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.lang} image of product #{self.product_id}"


class Order(models.Model):
    """An order, credited to one ambassador (the route's `{id}`) and bought by another."""

    class Assignment(models.TextChoices):
        CONVERSATION_ASSIGNED = "conversation_assigned", "conversation assigned"
        AFFILIATION_ASSIGNED = "affiliation_assigned", "affiliation assigned"
        UNASSIGNED = "unassigned", "unassigned"

    class Status(models.TextChoices):
        OK = "OK", "OK"
        OK_DELAY = "OK_DELAY", "OK (delayed)"
        E_BOOKING = "E-BOOKING", "e-booking"
        PENDING = "PENDING", "pending"
        FULFILLED = "FULFILLED", "fulfilled"
        CANCELLED = "CANCELLED", "cancelled"
        RETURNED = "RETURNED", "returned"

    class Type(models.TextChoices):
        WEB = "WEB", "web"
        STORE = "STORE", "store"
        MAG = "MAG", "magazine"

    id_order = models.BigAutoField(primary_key=True)
    id_order_external = models.CharField(max_length=255, null=True, blank=True)
    total_amount = models.DecimalField(**MONEY, default=Decimal(0))
    total_paid = models.DecimalField(**MONEY, default=Decimal(0))
    total_ws = models.DecimalField(**MONEY, default=Decimal(0))
    id_popliste = models.IntegerField(default=0)
    source = models.CharField(max_length=64, blank=True, default="")
    last_status = models.CharField(max_length=32, choices=Status.choices, default=Status.PENDING)
    id_meeting = models.IntegerField(default=0)
    id_meeting_external = models.CharField(max_length=255, null=True, blank=True)
    customer_id = models.CharField(max_length=255, blank=True, default="")
    order_info = models.TextField(blank=True, default="")
    currency = models.CharField(max_length=3, default="EUR")
    date_order = models.DateTimeField(default=timezone.now)
    type = models.CharField(max_length=16, choices=Type.choices, default=Type.WEB)
    id_chat_segment = models.IntegerField(default=0)
    id_chatroom = models.IntegerField(default=0)
    date_insert = models.DateTimeField(default=timezone.now)
    date_update = models.DateTimeField(default=timezone.now)
    assignment = models.CharField(
        max_length=32, choices=Assignment.choices, default=Assignment.UNASSIGNED
    )
    # The ambassador credited with the order: the `{id}` of the route. Indexed below,
    # together with the endpoint's sort keys.
    ambassador = models.ForeignKey(
        Ambassador,
        on_delete=models.PROTECT,
        related_name="credited_orders",
        db_column="id_ambassador",
        db_index=False,
    )
    buyer = models.ForeignKey(
        Ambassador, on_delete=models.PROTECT, related_name="purchases", db_column="id_buyer"
    )

    class Meta:
        ordering = ["-date_order", "-id_order"]
        indexes = [
            # The endpoint's access path: one ambassador's orders, newest first, id breaks ties.
            models.Index(
                "ambassador",
                models.F("date_order").desc(),
                models.F("id_order").desc(),
                name="order_amb_date_order_idx",
            ),
            # Incremental sync (`filter[updated_since]`, `sort=date_update`).
            models.Index(
                "ambassador",
                models.F("date_update").desc(),
                models.F("id_order").desc(),
                name="order_amb_date_update_idx",
            ),
            models.Index("ambassador", models.F("id_order").desc(), name="order_amb_id_order_idx"),
            # Cursor pages by amount: the keyset starts its range scan at the cursor in these.
            models.Index(
                "ambassador",
                models.F("total_amount").desc(),
                models.F("id_order").desc(),
                name="order_amb_total_amount_idx",
            ),
            models.Index(
                "ambassador",
                models.F("total_paid").desc(),
                models.F("id_order").desc(),
                name="order_amb_total_paid_idx",
            ),
            models.Index(fields=["id_order_external"], name="order_external_idx"),
            models.Index(fields=["customer_id"], name="order_customer_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(total_amount__gte=0), name="order_total_amount_gte_0"
            ),
            models.CheckConstraint(condition=Q(total_paid__gte=0), name="order_total_paid_gte_0"),
            models.CheckConstraint(condition=Q(total_ws__gte=0), name="order_total_ws_gte_0"),
            models.CheckConstraint(
                condition=Q(
                    assignment__in=["conversation_assigned", "affiliation_assigned", "unassigned"]
                ),
                name="order_assignment_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"Order #{self.id_order}"


class OrderProduct(models.Model):
    """An order line: one product, its quantity and the unit price it was sold at."""

    id_order_product = models.BigAutoField(primary_key=True)
    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="lines", db_column="id_order", db_index=False
    )
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="order_lines", db_column="id_product"
    )
    quantity = models.IntegerField()
    unit_price = models.DecimalField(**MONEY)
    sku = models.CharField(max_length=64, blank=True, default="")
    currency = models.CharField(max_length=3, default="EUR")

    class Meta:
        ordering = ["order", "id_order_product"]
        verbose_name = "order line"
        indexes = [
            # Lines of a page of orders, in line order, in one index range scan per order.
            models.Index(fields=["order", "id_order_product"], name="order_line_order_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="order_line_quantity_gt_0"),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0), name="order_line_unit_price_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x product #{self.product_id} in order #{self.order_id}"

    @property
    def total_price(self) -> Decimal:
        return self.unit_price * self.quantity


class AmbassadorOrderCount(models.Model):
    """How many orders are credited to an ambassador: the orders route's unfiltered total.

    Written only by PostgreSQL: triggers on the orders table keep it exact in the same
    transaction as the orders it counts, whoever writes them (ORM, admin, bulk import, raw SQL),
    and `manage.py rebuild_order_counts` recounts it after a load that skipped triggers
    (docs/scaling.md, "The whale's total"). A missing row means no order. Other databases
    leave it empty and count instead.
    """

    # The foreign key (ON DELETE CASCADE, for an ambassador deleted without orders) is
    # PostgreSQL's own, added by the migration: Django would delete the row itself, a query
    # more per deletion, and other writers would not.
    ambassador = models.OneToOneField(
        Ambassador,
        on_delete=models.DO_NOTHING,
        primary_key=True,
        db_column="id_ambassador",
        db_constraint=False,
        related_name="+",
    )
    order_count = models.BigIntegerField()

    class Meta:
        db_table = "orders_ambassador_order_count"
        constraints = [
            models.CheckConstraint(
                condition=Q(order_count__gte=0), name="ambassador_order_count_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_count} orders credited to ambassador #{self.ambassador_id}"
