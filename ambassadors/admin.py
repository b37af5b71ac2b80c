"""Admin for brands, ambassadors and API tokens, built to stay fast with millions of rows."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from ambassadors import token_secret_page
from ambassadors.models import Ambassador, ApiToken, Brand
from ambassadors.selectors import people_matching
from ambassadors.services import ambassador_anonymize, token_create, token_revoke
from orders.models import Order
from platform_api.admin_tools import (
    ExactFormsMixin,
    LargeTableAdmin,
    ProtectedDeleteMixin,
    admin_changelist_url,
    rank_exact_id,
)
from platform_api.ids import parse_id


@admin.register(Brand)
class BrandAdmin(ExactFormsMixin, ProtectedDeleteMixin, admin.ModelAdmin):
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
        "An id (listed first) or customer id, an email or the start of one, or a name "
        '("Olga Smith").'
    )
    ordering = ("-id_ambassador",)
    readonly_fields = ("credited_orders", "purchases")
    # An id box, not a select of every ambassador of the table.
    raw_id_fields = ("referrer",)
    fieldsets = (
        (None, {"fields": ("brand", "firstname", "lastname", "username", "gender", "image")}),
        ("Orders", {"fields": ("credited_orders", "purchases")}),
        ("Contact", {"fields": ("email", "email_tmp", "customer_id")}),
        ("State", {"fields": ("active", "status", "anonymized", "last_action_date")}),
        ("Community", {"fields": ("referrer", "gamification_score")}),
        ("Dates (UTC)", {"fields": ("date_insert", "date_update")}),
    )

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Ambassador], search_term: str
    ) -> tuple[QuerySet[Ambassador], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        matching = people_matching(term).values("pk")
        return rank_exact_id(queryset.filter(pk__in=matching), term), False

    @admin.display(description="credited orders")
    def credited_orders(self, ambassador: Ambassador) -> str:
        if ambassador.pk is None:
            return "—"
        # A count over the (ambassador, id) index: 100,000 orders in milliseconds.
        count = Order.objects.filter(ambassador=ambassador).count()
        url = admin_changelist_url(Order, ambassador=ambassador.pk)
        return format_html('<a href="{}" id="credited-orders">{} orders</a>', url, f"{count:,}")

    @admin.display(description="purchases")
    def purchases(self, ambassador: Ambassador) -> str:
        if ambassador.pk is None:
            return "—"
        count = Order.objects.filter(buyer=ambassador).count()
        url = admin_changelist_url(Order, buyer=ambassador.pk)
        return format_html('<a href="{}" id="purchases">{} orders</a>', url, f"{count:,}")

    def get_urls(self) -> list[URLPattern]:
        anonymize = path(
            "<path:object_id>/anonymize/",
            self.admin_site.admin_view(require_POST(self.anonymize_view)),
            name="ambassadors_ambassador_anonymize",
        )
        return [anonymize, *super().get_urls()]

    def anonymize_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Offered where a delete is refused: erase the person, keep their orders."""
        ambassador = get_object_or_404(Ambassador, pk=parse_id(object_id) or 0)
        if not self.has_change_permission(request, ambassador):
            raise PermissionDenied
        ambassador_anonymize(ambassador=ambassador)
        self.log_change(request, ambassador, "Anonymized.")
        self.message_user(request, f"{ambassador} is anonymized.", messages.SUCCESS)
        return HttpResponseRedirect(
            reverse("admin:ambassadors_ambassador_change", args=(ambassador.pk,))
        )

    def render_delete_form(self, request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
        obj = context.get("object")
        if context.get("protected") and obj is not None and not obj.anonymized:
            context["anonymize_url"] = reverse(
                "admin:ambassadors_ambassador_anonymize", args=(obj.pk,)
            )
        return super().render_delete_form(request, context)


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
class ApiTokenAdmin(ExactFormsMixin, admin.ModelAdmin):
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
        # POST-redirect-GET: a reload of the page showing the secret must not mint another
        # token. The secret crosses the redirect split between session and URL
        # (token_secret_page), never stored whole.
        secret = getattr(obj, "secret", None)
        if secret is None:
            return super().response_add(request, obj, post_url_continue)
        pad = token_secret_page.stash(request, obj.pk, secret)
        url = reverse("admin:ambassadors_apitoken_secret", args=(obj.pk,))
        return HttpResponseRedirect(f"{url}?{token_secret_page.PAD_PARAMETER}={pad}")

    def get_urls(self) -> list[URLPattern]:
        secret_page = path(
            "<path:object_id>/secret/",
            self.admin_site.admin_view(self.secret_view),
            name="ambassadors_apitoken_secret",
        )
        return [secret_page, *super().get_urls()]

    def secret_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The new token's secret, shown once; afterwards, back to the token's page."""
        token = get_object_or_404(ApiToken, pk=parse_id(object_id) or 0)
        if not self.has_view_permission(request, token):
            raise PermissionDenied
        change_url = reverse("admin:ambassadors_apitoken_change", args=(token.pk,))
        secret = token_secret_page.take(
            request, token.pk, request.GET.get(token_secret_page.PAD_PARAMETER, "")
        )
        if secret is None:
            self.message_user(
                request,
                "A token's secret is shown only once, right after its creation. If it was "
                "lost, revoke this token and create another.",
                messages.WARNING,
            )
            return HttpResponseRedirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "title": "Copy the new token now",
            "opts": self.opts,
            "token": token,
            "secret": secret,
            "change_url": change_url,
            "changelist_url": reverse("admin:ambassadors_apitoken_changelist"),
        }
        response = TemplateResponse(
            request, "admin/ambassadors/apitoken/token_secret.html", context
        )
        # Neither the browser nor a proxy keeps the page.
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description="Revoke the selected tokens", permissions=["change"])
    def revoke_tokens(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        now = timezone.now()
        revoked = 0
        for token in queryset.filter(revoked_at__isnull=True):
            token_revoke(token=token, at=now)
            revoked += 1
        self.message_user(request, f"{revoked} token(s) revoked.", messages.SUCCESS)


class ExactUserAdmin(ExactFormsMixin, UserAdmin):
    """Django's user admin, saving last login and join dates back with their microseconds."""


admin.site.unregister(User)
admin.site.register(User, ExactUserAdmin)
