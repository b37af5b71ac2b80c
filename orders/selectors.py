"""Reads for the orders endpoint."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from django.db import connections, router
from django.db.models import Func, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from ambassadors.models import Ambassador, ApiToken
from ambassadors.selectors import audience_of, visible_ambassadors
from orders.filters import OrderFilterSet, apply_order_filters
from orders.keyset import KeysetPosition, fetch_ordering, keyset_filter, reversed_ordering
from orders.models import AmbassadorOrderCount, Order
from platform_api.compiled_sql import CompiledQueryFamily
from platform_api.filters import cleaned_filters


@dataclass(frozen=True)
class OrderSelection:
    """The orders credited to an ambassador, filtered and ordered: what one request pages through.

    `filters` holds the validated filter values (as `OrderFilterSet` cleans them), only those
    that filter something.
    """

    ambassador_id: int
    ordering: tuple[str, ...]
    filters: dict[str, Any] = field(default_factory=dict)

    def queryset(self) -> QuerySet[Order]:
        return _selected(self.ambassador_id, self.filters).order_by(*self.ordering)

    def page(self, *, offset: int, limit: int) -> QuerySet[Order]:
        return self.queryset()[offset : offset + limit]

    def ids_sql(self, alias: str) -> tuple[str, list[Any]]:
        """SQL selecting the selection's order ids in order, and its parameters: what the ORM
        compiles for `queryset().values_list("pk")`, compiled once per sort and filter shape.
        Its text ends with its ORDER BY, so a caller may append LIMIT and OFFSET."""
        return _ORDER_IDS.bind(
            alias,
            key=self.ordering,
            values={"ambassador_id": self.ambassador_id, "filters": self.filters},
        )

    def reversed(self) -> OrderSelection:
        """The same orders in the exact reverse order: what a page near the end reads, from the
        nearer end of the index."""
        return replace(self, ordering=reversed_ordering(self.ordering))

    def keyset(self, position: KeysetPosition | None) -> QuerySet[Order]:
        """The orders past a cursor's `position` (all of them for None), in reading order: the
        sort's, or reversed when reading backwards from the position."""
        return _keyset(self.ambassador_id, self.filters, self.ordering, position)

    def keyset_ids_sql(self, alias: str, position: KeysetPosition | None) -> tuple[str, list[Any]]:
        """SQL selecting the ids of `keyset(position)` in reading order, and its parameters,
        compiled once per sort, direction and filter shape; a caller may append LIMIT."""
        forward = position is None or position.forward
        return _KEYSET_IDS.bind(
            alias,
            key=(self.ordering, forward, position is None),
            values={
                "ambassador_id": self.ambassador_id,
                "filters": self.filters,
                "position": None if position is None else list(position.values),
            },
        )


def select_ambassador_orders(
    *, ambassador_id: int, filters: Mapping[str, Any], ordering: list[str]
) -> OrderSelection:
    """The orders credited to an ambassador, filtered (django-filter) and ordered.

    Raises UnprocessableQuery, keyed `filter.<name>`, when a filter value is malformed.
    """
    values = cleaned_filters(OrderFilterSet, filters)
    return OrderSelection(ambassador_id=ambassador_id, ordering=tuple(ordering), filters=values)


def visible_ambassador_order_total(
    *, token: ApiToken, ambassador_id: int, orders: OrderSelection | None
) -> int | None:
    """How many `orders` there are (0 when None), or None when the caller may not see the
    ambassador (unknown, or of another brand than a brand token's).

    One query: the ambassador's visibility and the count travel together. On PostgreSQL the
    unfiltered total is read from `AmbassadorOrderCount` (kept exact by triggers): the whale's
    costs what anyone's costs. Filtered totals are counted.
    """
    alias = router.db_for_read(Ambassador)
    total, values = _visible_total_arguments(alias, token, ambassador_id, orders)
    row = _VISIBLE_TOTAL.fetchone(alias, key=total, values=values)
    return None if row is None else int(row[0])


def visible_ambassador_order_total_sql(
    alias: str, *, token: ApiToken, ambassador_id: int, orders: OrderSelection | None
) -> tuple[str, list[Any]]:
    """The query of `visible_ambassador_order_total` and its parameters, for a statement that
    embeds it: one row of one column (the total, 0 when `orders` is None), or no row when the
    caller may not see the ambassador."""
    total, values = _visible_total_arguments(alias, token, ambassador_id, orders)
    return _VISIBLE_TOTAL.bind(alias, key=total, values=values)


# How `_build_visible_total` finds the total: none asked for (0), counted, or read from the
# counter PostgreSQL's triggers keep.
_NO_TOTAL, _COUNTED, _COUNTER = "none", "counted", "counter"


def _visible_total_arguments(
    alias: str, token: ApiToken, ambassador_id: int, orders: OrderSelection | None
) -> tuple[str, dict[str, Any]]:
    values: dict[str, Any] = {"ambassador_id": ambassador_id, "audience": audience_of(token)}
    if orders is None:
        return _NO_TOTAL, values
    values["filters"] = orders.filters
    # Only PostgreSQL keeps the counter (orders/migrations/0003_ambassador_order_count.py).
    if not orders.filters and connections[alias].vendor == "postgresql":
        return _COUNTER, values
    return _COUNTED, values


def _selected(ambassador_id: int, filters: dict[str, Any]) -> QuerySet[Order]:
    return apply_order_filters(Order.objects.filter(ambassador_id=ambassador_id), filters)


def _build_order_ids(ordering: Hashable, values: dict[str, Any]) -> QuerySet[Any]:
    assert isinstance(ordering, tuple)
    return _selected(values["ambassador_id"], values["filters"]).order_by(*ordering).values("pk")


def _keyset(
    ambassador_id: int,
    filters: dict[str, Any],
    ordering: tuple[str, ...],
    position: KeysetPosition | None,
) -> QuerySet[Order]:
    orders = _selected(ambassador_id, filters)
    if position is not None:
        orders = orders.filter(keyset_filter(ordering, position))
    return orders.order_by(*fetch_ordering(ordering, position))


def _build_keyset_ids(key: Hashable, values: dict[str, Any]) -> QuerySet[Any]:
    assert isinstance(key, tuple)
    ordering, forward, first_page = key
    position = None if first_page else KeysetPosition(tuple(values["position"]), forward)
    return _keyset(values["ambassador_id"], values["filters"], ordering, position).values("pk")


def _build_visible_total(how: Hashable, values: dict[str, Any]) -> QuerySet[Any]:
    ambassadors = visible_ambassadors(audience=values["audience"]).filter(
        pk=values["ambassador_id"]
    )
    total: Value | Subquery | Coalesce
    if how == _NO_TOTAL:
        total = Value(0, output_field=IntegerField())
    elif how == _COUNTER:
        # No row: the ambassador never had an order.
        counter = AmbassadorOrderCount.objects.filter(ambassador=OuterRef("pk"))
        total = Coalesce(
            Subquery(counter.values("order_count")), Value(0), output_field=IntegerField()
        )
    else:
        counted = _selected(values["ambassador_id"], values["filters"]).order_by()
        total = Subquery(counted.annotate(n=CountAll()).values("n"))
    return ambassadors.annotate(order_total=total).values_list("order_total").order_by("pk")[:1]


class CountAll(Func):
    """`count(*)`, which Django does not take for an aggregate: the subquery built with it has
    no GROUP BY. Django's documented `values(...).annotate(Count(...))` groups by the
    ambassador, and that grouped count walked the whale's 100,000 index entries about 35%
    slower (EXPLAIN ANALYZE on the bench database, bench/RESULTS.md)."""

    template = "count(*)"
    output_field = IntegerField()


_ORDER_IDS = CompiledQueryFamily(_build_order_ids)
_KEYSET_IDS = CompiledQueryFamily(_build_keyset_ids)
_VISIBLE_TOTAL = CompiledQueryFamily(_build_visible_total)
