"""Admin for brands, ambassadors and API tokens, built to stay fast with millions of rows."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from ambassadors.models import Ambassador, ApiToken, Brand
from ambassadors.services import token_create, token_revoke
from platform_api.admin_tools import LargeTableAdmin
from platform_api.ids import parse_id


@admin.register(Brand)
class BrandAdmin(admin.ModelAdmin):
    list_display = ("id_brand", "name", "domain")
    search_fields = ("name", "domain")
    ordering = ("id_brand",)


@admin.register(Ambassador)
class AmbassadorAdmin(LargeTableAdmin):
    list_display = (
        "id_ambassador",
        "firstname",
        "lastname",
        "username",
        "email",
        "brand",
        "active",
        "status",
        "anonymized",
        "last_action_date",
    )
    list_display_links = ("id_ambassador", "firstname", "lastname")
    list_select_related = ("brand",)
    list_filter = ("active", "status", "anonymized", "brand")
    search_fields = ("id_ambassador", "email", "customer_id", "username", "firstname", "lastname")
    search_help_text = (
        "An id, an exact email or customer id, or part of a username, first or last name."
    )
    ordering = ("-id_ambassador",)
    # An id box, not a select of every ambassador of the table.
    raw_id_fields = ("referrer",)
    fieldsets = (
        (None, {"fields": ("brand", "firstname", "lastname", "username", "gender", "image")}),
        ("Contact", {"fields": ("email", "email_tmp", "customer_id")}),
        ("State", {"fields": ("active", "status", "anonymized", "last_action_date")}),
        ("Community", {"fields": ("referrer", "gamification_score")}),
        ("Dates", {"fields": ("date_insert", "date_update")}),
    )

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Ambassador], search_term: str
    ) -> tuple[QuerySet[Ambassador], bool]:
        # Ids, emails and customer ids match exactly so that an index answers; free text falls
        # back to substring matches on the names.
        term = search_term.strip()
        if not term:
            return queryset, False
        number = parse_id(term)
        if number is not None:
            return queryset.filter(Q(pk=number) | Q(customer_id=term)), False
        if "@" in term:
            return queryset.filter(Q(email=term) | Q(email=term.lower())), False
        return (
            queryset.filter(
                Q(customer_id=term)
                | Q(username__icontains=term)
                | Q(firstname__icontains=term)
                | Q(lastname__icontains=term)
            ),
            False,
        )


class ApiTokenAddForm(forms.ModelForm):
    """Creating a token: who it is for and for how long; the service makes the secret."""

    expires_in_days = forms.IntegerField(
        required=False, min_value=1, help_text="Leave empty for a token that does not expire."
    )

    class Meta:
        model = ApiToken
        fields = ("kind", "name", "brand", "ambassador")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind, brand, ambassador = data.get("kind"), data.get("brand"), data.get("ambassador")
        if kind == ApiToken.Kind.BRAND and brand is None:
            self.add_error("brand", "A brand token needs a brand.")
        if kind == ApiToken.Kind.AMBASSADOR:
            if ambassador is None:
                self.add_error("ambassador", "An ambassador token needs an ambassador.")
            elif brand is not None and ambassador.brand_id != brand.pk:
                self.add_error("ambassador", "This ambassador belongs to another brand.")
        if kind != ApiToken.Kind.AMBASSADOR and ambassador is not None:
            self.add_error("ambassador", "Only ambassador tokens name an ambassador.")
        return data


class TokenStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("usable", "usable"), ("expired", "expired"), ("revoked", "revoked")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        now = timezone.now()
        if self.value() == "revoked":
            return queryset.filter(revoked_at__lte=now)
        if self.value() == "expired":
            return queryset.filter(expires_at__lte=now)
        if self.value() == "usable":
            return queryset.filter(
                Q(revoked_at__isnull=True) | Q(revoked_at__gt=now),
                Q(expires_at__isnull=True) | Q(expires_at__gt=now),
            )
        return queryset


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens: listed by their public prefix; created through `token_create`, whose secret is
    shown on the page answering the creation and nowhere else; revoked with an action.

    The digest is never displayed: it is not secret, but it has no use for a person.
    """

    add_form = ApiTokenAddForm
    list_display = (
        "prefix",
        "name",
        "kind",
        "brand",
        "ambassador",
        "created_at",
        "expires_at",
        "revoked_at",
        "last_used_at",
    )
    list_select_related = ("brand", "ambassador")
    list_filter = ("kind", TokenStateFilter, "brand")
    search_fields = ("prefix", "name")
    raw_id_fields = ("ambassador",)
    actions = ("revoke_tokens",)
    change_fields = ("name", "expires_at")
    change_readonly_fields = (
        "prefix",
        "kind",
        "brand",
        "ambassador",
        "created_at",
        "revoked_at",
        "last_used_at",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[ApiToken]:
        # The change page shows the brand and the ambassador read-only: fetch them with it.
        return super().get_queryset(request).select_related("brand", "ambassador")

    def get_fields(self, request: HttpRequest, obj: ApiToken | None = None) -> Any:
        if obj is None:
            return ("kind", "name", "brand", "ambassador", "expires_in_days")
        return self.change_readonly_fields + self.change_fields

    def get_readonly_fields(self, request: HttpRequest, obj: ApiToken | None = None) -> Any:
        return () if obj is None else self.change_readonly_fields

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is None:
            kwargs["form"] = self.add_form
        return super().get_form(request, obj, change=change, **kwargs)

    def save_model(self, request: HttpRequest, obj: ApiToken, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        data = form.cleaned_data
        token, secret = token_create(
            kind=data["kind"],
            brand=data.get("brand"),
            ambassador=data.get("ambassador"),
            name=data.get("name") or "",
            expires_in_days=data.get("expires_in_days"),
        )
        # The admin goes on with the form's instance (log entry, response): make it the row.
        for field in ApiToken._meta.concrete_fields:
            setattr(obj, field.attname, getattr(token, field.attname))
        obj._state.adding = False
        obj._state.db = token._state.db
        obj.secret = secret  # type: ignore[attr-defined]  # this response only

    def response_add(
        self, request: HttpRequest, obj: ApiToken, post_url_continue: str | None = None
    ) -> HttpResponse:
        # The secret goes into this response's body only: a redirect would have to carry it
        # through the message storage (a cookie or the session table).
        secret = getattr(obj, "secret", None)
        if secret is None:
            return super().response_add(request, obj, post_url_continue)
        context = {
            **self.admin_site.each_context(request),
            "title": "Copy the new token now",
            "opts": self.opts,
            "token": obj,
            "secret": secret,
            "change_url": reverse("admin:ambassadors_apitoken_change", args=(obj.pk,)),
            "changelist_url": reverse("admin:ambassadors_apitoken_changelist"),
        }
        return TemplateResponse(request, "admin/ambassadors/apitoken/token_secret.html", context)

    @admin.action(description="Revoke the selected tokens", permissions=["change"])
    def revoke_tokens(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        now = timezone.now()
        revoked = 0
        for token in queryset.filter(revoked_at__isnull=True):
            token_revoke(token=token, at=now)
            revoked += 1
        self.message_user(request, f"{revoked} token(s) revoked.", messages.SUCCESS)
