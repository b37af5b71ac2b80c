"""Brands (the tenants), their ambassadors, and the API tokens that may call the service."""

from __future__ import annotations

from datetime import datetime

from django.db import models
from django.db.models import Q
from django.utils import timezone


class Brand(models.Model):
    """A tenant: every ambassador, order and brand token belongs to one."""

    id_brand = models.AutoField(primary_key=True)
    name = models.CharField(max_length=255)
    domain = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        ordering = ["id_brand"]

    def __str__(self) -> str:
        return f"{self.name} (#{self.id_brand})"


class Ambassador(models.Model):
    """A person of a brand's community: sellers credited with orders, and the buyers of them."""

    class Active(models.IntegerChoices):
        UNSUBSCRIBED_BY_BRAND = -3, "unsubscribed by brand"
        UNSUBSCRIBED = -2, "unsubscribed"
        BLOCKED = -1, "blocked"
        NOT_ACTIVATED = 0, "not activated"
        ACTIVE = 1, "active"

    class Role(models.IntegerChoices):
        AMBASSADOR = 0, "ambassador"
        EMPLOYEE = 1, "employee"
        ADMINISTRATOR = 2, "administrator"
        SELLER = 3, "seller"
        SHOP_MANAGER = 4, "shop manager"
        MANAGER = 5, "manager"
        EXPERT = 6, "expert"
        CLIENT = 7, "client"
        TEMPORARY = 8, "temporary"

    id_ambassador = models.BigAutoField(primary_key=True)
    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="ambassadors")
    image = models.CharField(max_length=500, blank=True, default="")
    # The database keeps the defaults too (db_default), so that adding these columns to a large
    # table is a catalog change (no rewrite) and rows written by older code still get them.
    gender = models.CharField(max_length=32, blank=True, default="", db_default="")
    firstname = models.CharField(max_length=255, blank=True, default="")
    lastname = models.CharField(max_length=255, blank=True, default="")
    username = models.CharField(max_length=255, blank=True, default="")
    email = models.CharField(max_length=255, blank=True, default="")
    email_tmp = models.CharField(max_length=255, blank=True, default="")
    active = models.SmallIntegerField(choices=Active.choices, default=Active.ACTIVE)
    status = models.SmallIntegerField(choices=Role.choices, default=Role.AMBASSADOR)
    last_action_date = models.DateTimeField(default=timezone.now)
    customer_id = models.CharField(max_length=255, blank=True, default="")
    gamification_score = models.IntegerField(default=0, db_default=0)
    # The ambassador who referred this one; the column is named as the API names it.
    referrer = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="referrals",
        db_column="id_referrer",
    )
    anonymized = models.BooleanField(default=False)
    date_insert = models.DateTimeField(default=timezone.now)
    date_update = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id_ambassador"]
        indexes = [
            models.Index(fields=["email"], name="ambassador_email_idx"),
            # The list's access paths: a brand's ambassadors by id, or by last action.
            models.Index(fields=["brand", "id_ambassador"], name="ambassador_brand_id_idx"),
            models.Index(
                fields=["brand", "last_action_date", "id_ambassador"],
                name="ambassador_brand_action_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(active__gte=-3, active__lte=1), name="ambassador_active_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__gte=0, status__lte=8), name="ambassador_status_valid"
            ),
        ]

    def __str__(self) -> str:
        name = f"{self.firstname} {self.lastname}".strip() or self.username or "—"
        return f"{name} (#{self.id_ambassador})"


class ApiToken(models.Model):
    """A bearer token. Only its SHA-256 digest and a short public prefix are stored."""

    class Kind(models.TextChoices):
        BRAND = "brand", "brand (all of a brand's data)"
        AMBASSADOR = "ambassador", "ambassador (own data only)"
        GUEST = "guest", "guest (most restricted)"

    name = models.CharField(max_length=255, blank=True, default="")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    brand = models.ForeignKey(
        Brand, on_delete=models.CASCADE, null=True, blank=True, related_name="api_tokens"
    )
    ambassador = models.ForeignKey(
        Ambassador, on_delete=models.CASCADE, null=True, blank=True, related_name="api_tokens"
    )
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    digest = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["brand", "ambassador", "guest"]), name="api_token_kind_valid"
            ),
            models.CheckConstraint(
                condition=~Q(kind="brand") | Q(brand__isnull=False),
                name="api_token_brand_has_brand",
            ),
            models.CheckConstraint(
                condition=~Q(kind="ambassador") | Q(ambassador__isnull=False),
                name="api_token_ambassador_has_ambassador",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} token {self.prefix}…" + (f" ({self.name})" if self.name else "")

    def is_usable(self, now: datetime | None = None) -> bool:
        """Neither revoked nor expired at `now`."""
        now = now or timezone.now()
        if self.revoked_at is not None and self.revoked_at <= now:
            return False
        return self.expires_at is None or self.expires_at > now
