"""Admin pieces for tables that may hold millions of rows, shared by every app's admin."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, time
from typing import Any, ClassVar
from urllib.parse import urlencode

from django import forms
from django.contrib import admin
from django.contrib.admin import widgets
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.views.main import ERROR_FLAG, ORDER_VAR, PAGE_VAR, ChangeList
from django.core.paginator import Page, Paginator
from django.db import connections, models
from django.db.models import Case, Model, QuerySet, Value, When
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import SimpleTemplateResponse
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.translation import gettext as _

from platform_api.ids import parse_id


def estimated_row_count(queryset: QuerySet[Any]) -> int | None:
    """PostgreSQL's planner estimate of a whole table's rows, or None when it does not apply.

    It applies only to an unfiltered, unsliced, non-distinct queryset on PostgreSQL whose table
    has been analysed (`reltuples` is -1 before the first ANALYZE since PostgreSQL 14).
    """
    query = queryset.query
    if query.where or query.distinct or query.combinator or query.is_sliced:
        return None
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    table = connection.ops.quote_name(queryset.model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [table])
        row = cursor.fetchone()
    if row is None or row[0] < 0:
        return None
    return int(row[0])


class EstimatedCountPaginator(Paginator):
    """Admin paginator that does not COUNT(*) a whole large table on every changelist page.

    An exact count of a million-row table is a full scan of its smallest index (hundreds of
    milliseconds on PostgreSQL, more when cold) and the changelist asks for it on every page.
    Unfiltered, on PostgreSQL, the planner's estimate is used once the table is large; below
    `exact_below` rows, or whenever a filter or search applies (a selective filter makes the
    count cheap, a broad one is what the user asked for), the count is exact. The estimate
    only affects the "N results" line and the number of page links.
    """

    exact_below = 10_000

    @cached_property
    def count(self) -> int:
        if isinstance(self.object_list, QuerySet):
            estimate = estimated_row_count(self.object_list)
            if estimate is not None and estimate >= self.exact_below:
                return estimate
        return super().count

    def page(self, number: Any) -> Page:
        """The page's rows, read by their ids: the ids first (an index-only walk, however deep
        the page), then only those rows with their joins and per-row annotations. One query
        with OFFSET would compute the joins and the annotations for every skipped row too
        (the last of 10,000 order pages: 3.9 s, 46 ms without them)."""
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        if not isinstance(self.object_list, QuerySet):
            return Page(self.object_list[bottom:top], number, self)
        return Page(rows_by_ids(self.object_list, bottom, top), number, self)


def rows_by_ids(queryset: QuerySet[Any], bottom: int, top: int) -> list[Any]:
    """`queryset[bottom:top]` as a list, paging the primary keys first."""
    ids = list(queryset.values_list("pk", flat=True)[bottom:top])
    rows = {row.pk: row for row in queryset.filter(pk__in=ids).order_by()}
    return [rows[pk] for pk in ids if pk in rows]


class PreciseTimeInput(widgets.AdminTimeWidget):
    """The admin's time input, with the microseconds when the value has some: the stock widget
    shows HH:MM:SS, so saving a form unchanged truncated every stored date-time."""

    supports_microseconds = True

    def format_value(self, value: Any) -> str | None:
        if isinstance(value, time | datetime) and value.microsecond:
            return value.strftime("%H:%M:%S.%f")
        formatted: str | None = super().format_value(value)
        return formatted


class PreciseSplitDateTime(widgets.AdminSplitDateTime):
    """The admin's date + time inputs, keeping microseconds (see `PreciseTimeInput`). Django
    drops a form's initial microseconds unless the widget says it supports them."""

    supports_microseconds = True

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs)
        self.widgets = (widgets.AdminDateWidget(), PreciseTimeInput())


class PreciseSplitHiddenDateTime(forms.SplitHiddenDateTimeWidget):
    """The hidden copy of the initial value a field with a callable default carries
    (`show_hidden_initial`): without microseconds, every unchanged save of such a field was
    reported, and logged, as a change."""

    supports_microseconds = True

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, time_format="%H:%M:%S.%f")


class PreciseSplitDateTimeField(forms.SplitDateTimeField):
    hidden_widget = PreciseSplitHiddenDateTime


# Every ModelAdmin and inline: a date-time goes back exactly as it came (Django's time input
# formats already parse HH:MM:SS.ffffff).
EXACT_FORMFIELD_OVERRIDES: Mapping[type[models.Field[Any, Any]], Mapping[str, Any]] = {
    models.DateTimeField: {"form_class": PreciseSplitDateTimeField, "widget": PreciseSplitDateTime},
}


class ExactFormsMixin:
    """Forms that save back exactly what they showed (date-times with their microseconds)."""

    formfield_overrides: ClassVar[Mapping[type[models.Field[Any, Any]], Mapping[str, Any]]] = (
        EXACT_FORMFIELD_OVERRIDES
    )


SEARCH_RANK = "search_rank"


def rank_exact_id(queryset: QuerySet[Any], term: str) -> QuerySet[Any]:
    """Mark the row whose id is `term` (if it is one) rank 0, the others 1: `RankedChangeList`
    then lists it first (a product search for "42" puts product 42 on top, not among the
    names containing 42)."""
    number = parse_id(term)
    if number is None:
        return queryset
    return queryset.annotate(
        **{SEARCH_RANK: Case(When(pk=number, then=Value(0)), default=Value(1))}
    )


class RankedChangeList(ChangeList):
    """A changelist that lists a search's exact id match first, unless a column is sorted."""

    def get_queryset(self, request: HttpRequest, exclude_parameters: Any = None) -> QuerySet[Any]:
        # Django orders the list before it applies the search: the rank comes after.
        queryset: QuerySet[Any] = super().get_queryset(request, exclude_parameters)
        if SEARCH_RANK in queryset.query.annotations and ORDER_VAR not in self.params:
            return queryset.order_by(SEARCH_RANK, *queryset.query.order_by)
        return queryset


def protected_references(objs: Any) -> list[str]:
    """What keeps these rows from being deleted (PROTECT foreign keys), counted per relation:
    "100,030 orders (as ambassador)". Empty when nothing protects them."""
    if isinstance(objs, QuerySet):
        model = objs.model  # the bulk action's selection: counted in SQL, never loaded
    else:
        objs = list(objs)
        if not objs:
            return []
        model = objs[0]._meta.model
    found = []
    for relation in model._meta.related_objects:
        if relation.on_delete is not models.PROTECT:
            continue
        related = relation.related_model._default_manager.filter(
            **{f"{relation.field.name}__in": objs}
        )
        count = related.count()
        if count:
            noun = relation.related_model._meta.verbose_name_plural
            found.append(f"{count:,} {noun} (as {relation.field.verbose_name})")
    return found


class ProtectedDeleteMixin:
    """Refuses to delete a referenced row at once, with counts: Django's default lists every
    protecting row (100,030 orders: a 7.8 MB page built in 14 s, to then refuse)."""

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        protected = protected_references(objs)
        if protected:
            return [], {}, set(), protected
        return super().get_deleted_objects(objs, request)  # type: ignore[misc]


class LargeTableAdmin(ExactFormsMixin, ProtectedDeleteMixin, admin.ModelAdmin):
    """Defaults for a table that may hold millions of rows."""

    paginator = EstimatedCountPaginator
    # The "N total" link would COUNT(*) the unfiltered table on every page.
    show_full_result_count = False
    # Facet counts ("Show counts") are a COUNT per filter choice over the whole table: one ran
    # 11 minutes on 500,000 orders. Off, and `?_facets=` is ignored.
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 50

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return RankedChangeList

    @property
    def media(self) -> forms.Media:
        media: forms.Media = super().media
        if any(isinstance(f, type) and issubclass(f, AutocompleteFilter) for f in self.list_filter):
            # The changelist's autocomplete filters need select2 (the change form has it).
            media += widgets.AutocompleteSelect(None, self.admin_site).media
        return media


def admin_change_url(obj: Model) -> str:
    """The admin change page of a row."""
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=(obj.pk,))


def admin_changelist_url(model: type[Model], **params: Any) -> str:
    """The admin list of a model, filtered by `params` (query string)."""
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    return f"{url}?{urlencode(params)}" if params else url


def admin_link(obj: Model | None) -> str:
    """A link to a row's change page, labelled with the row; a dash for none."""
    if obj is None:
        return "—"
    return format_html('<a href="{}">{}</a>', admin_change_url(obj), str(obj))


class AutocompleteFilter(admin.SimpleListFilter):
    """A list filter on a foreign key picked with the admin's autocomplete (select2, searching
    the related admin's `search_fields`): a list of 20,000 ambassadors would be unusable.

    Subclasses name `field_name` (a foreign key of the listed model) and `parameter_name`
    (the query parameter: `?ambassador=1` keeps working as typed by hand).
    """

    field_name = ""
    template = "admin/autocomplete_filter.html"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[Any, str]]:
        return []

    def has_output(self) -> bool:
        return True

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value is None:
            return queryset
        number = parse_id(value)
        if number is None:
            raise IncorrectLookupParameters(f"{self.parameter_name} must be an id")
        return queryset.filter(**{f"{self.field_name}_id": number})

    def choices(self, changelist: ChangeList) -> Any:
        field = changelist.model._meta.get_field(self.field_name)
        widget = widgets.AutocompleteSelect(
            field, changelist.model_admin.admin_site, attrs={"onchange": "this.form.submit()"}
        )
        chooser = forms.ModelChoiceField(
            queryset=field.related_model._default_manager.all(),  # type: ignore[union-attr]
            widget=widget,
            required=False,
        )
        name = str(self.parameter_name)
        form = forms.Form(initial={name: parse_id(self.value() or "")})
        form.fields[name] = chooser
        # The form replaces the query string: it carries the other filters, search and sort.
        kept = [
            (key, value) for key, value in changelist.params.items() if key not in {name, PAGE_VAR}
        ]
        yield {
            "field": form[name],
            "kept": kept,
            "clear_url": changelist.get_query_string(remove=[name, PAGE_VAR]),
            "selected": self.value() is not None,
        }


def refused_lookup_response(request: HttpRequest) -> HttpResponse | None:
    """What a changelist answers when the database could not use its filters (or, posting an
    action, its selected ids), as `ModelAdmin.changelist_view` answers
    `IncorrectLookupParameters`: the list again, unfiltered, with `?e=1`, or the "Database
    error" page if that was already the request. None for another page."""
    match = request.resolver_match
    if match is None or not str(match.url_name).endswith("_changelist"):
        return None
    if ERROR_FLAG in request.GET:
        context = {"title": _("Database error")}
        return SimpleTemplateResponse("admin/invalid_setup.html", context).render()
    return HttpResponseRedirect(f"{request.path}?{ERROR_FLAG}=1")
