"""Admin pieces for tables that may hold millions of rows, shared by every app's admin."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import Model, QuerySet
from django.urls import reverse
from django.utils.functional import cached_property


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


class LargeTableAdmin(admin.ModelAdmin):
    """Defaults for a table that may hold millions of rows."""

    paginator = EstimatedCountPaginator
    # The "N total" link would COUNT(*) the unfiltered table on every page.
    show_full_result_count = False
    list_per_page = 50


def admin_change_url(obj: Model) -> str:
    """The admin change page of a row."""
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=(obj.pk,))
