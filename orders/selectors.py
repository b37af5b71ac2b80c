"""Reads for the orders endpoint."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import router
from django.db.models import Func, IntegerField, QuerySet, Subquery, Value

from ambassadors.models import Ambassador, ApiToken
from ambassadors.selectors import audience_of, visible_ambassadors
from orders.filters import OrderFilterSet, apply_order_filters
from orders.models import Order
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

    One query: the ambassador's visibility and the count travel together.
    """
    counted, values = _visible_total_arguments(token, ambassador_id, orders)
    row = _VISIBLE_TOTAL.fetchone(router.db_for_read(Ambassador), key=counted, values=values)
    return None if row is None else int(row[0])


def visible_ambassador_order_total_sql(
    alias: str, *, token: ApiToken, ambassador_id: int, orders: OrderSelection
) -> tuple[str, list[Any]]:
    """The query of `visible_ambassador_order_total` and its parameters, for a statement that
    embeds it: one row of one column (the total), or no row when the caller may not see the
    ambassador."""
    counted, values = _visible_total_arguments(token, ambassador_id, orders)
    return _VISIBLE_TOTAL.bind(alias, key=counted, values=values)


def _visible_total_arguments(
    token: ApiToken, ambassador_id: int, orders: OrderSelection | None
) -> tuple[bool, dict[str, Any]]:
    values: dict[str, Any] = {"ambassador_id": ambassador_id, "audience": audience_of(token)}
    if orders is not None:
        values["filters"] = orders.filters
    return orders is not None, values


def _selected(ambassador_id: int, filters: dict[str, Any]) -> QuerySet[Order]:
    return apply_order_filters(Order.objects.filter(ambassador_id=ambassador_id), filters)


def _build_order_ids(ordering: Hashable, values: dict[str, Any]) -> QuerySet[Any]:
    assert isinstance(ordering, tuple)
    return _selected(values["ambassador_id"], values["filters"]).order_by(*ordering).values("pk")


def _build_visible_total(counted: Hashable, values: dict[str, Any]) -> QuerySet[Any]:
    ambassadors = visible_ambassadors(audience=values["audience"]).filter(
        pk=values["ambassador_id"]
    )
    total: Value | Subquery
    if not counted:
        total = Value(0, output_field=IntegerField())
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
_VISIBLE_TOTAL = CompiledQueryFamily(_build_visible_total)
