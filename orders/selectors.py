"""Reads for the orders endpoint."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import router
from django.db.models import Count, IntegerField, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from ambassadors.models import Ambassador, ApiToken
from orders.filters import OrderFilterSet
from orders.models import Order
from platform_api.compiled_sql import CompiledQuery
from platform_api.errors import UnprocessableQuery


def ambassador_orders(
    *, ambassador_id: int, filters: Mapping[str, Any], ordering: list[str]
) -> QuerySet[Order]:
    """The orders credited to an ambassador, filtered (django-filter) and ordered.

    Raises UnprocessableQuery, keyed `filter.<name>`, when a filter value is malformed.
    """
    orders = Order.objects.filter(ambassador_id=ambassador_id)
    if not filters:
        # Building a FilterSet builds a form class: measurable per request, and most calls
        # filter nothing.
        return orders.order_by(*ordering)
    filterset = OrderFilterSet(data=filters, queryset=orders)
    if not filterset.is_valid():
        raise UnprocessableQuery(
            {f"filter.{name}": list(messages) for name, messages in filterset.errors.items()}
        )
    return filterset.qs.order_by(*ordering)


def visible_ambassador_order_total(
    *,
    token: ApiToken,
    ambassador_id: int,
    orders: QuerySet[Order] | None,
    filtered: bool = True,
) -> int | None:
    """How many of `orders` there are, or None when the caller may not see the ambassador
    (unknown, or of another brand than a brand token's).

    One query: the ambassador's visibility and the count travel together. `filtered=False`
    says `orders` are all the ambassador's orders: the same query then comes precompiled.
    """
    if orders is not None and not filtered:
        return _unfiltered_total(token=token, ambassador_id=ambassador_id)
    total: Value | Coalesce
    if orders is None:
        total = Value(0, output_field=IntegerField())
    else:
        counted = orders.order_by().values("ambassador_id").annotate(n=Count("pk")).values("n")
        total = Coalesce(Subquery(counted), Value(0), output_field=IntegerField())
    ambassadors = _visible_ambassadors(token, ambassador_id, token.brand_id or 0)
    return ambassadors.annotate(order_total=total).values_list("order_total", flat=True).first()


def _unfiltered_total(*, token: ApiToken, ambassador_id: int) -> int | None:
    alias = router.db_for_read(Ambassador)
    if token.kind == ApiToken.Kind.BRAND:
        row = _UNFILTERED_TOTAL_FOR_BRAND.fetchone(
            alias, ambassador_id=ambassador_id, brand_id=token.brand_id
        )
    else:
        row = _UNFILTERED_TOTAL.fetchone(alias, ambassador_id=ambassador_id)
    return None if row is None else int(row[0])


def _visible_ambassadors(
    token: ApiToken, ambassador_id: int, brand_id: int
) -> QuerySet[Ambassador]:
    ambassadors = Ambassador.objects.filter(pk=ambassador_id)
    if token.kind == ApiToken.Kind.BRAND:
        # A brand token always has a brand (a database constraint).
        ambassadors = ambassadors.filter(brand_id=brand_id)
    return ambassadors


def _unfiltered_total_query(*, brand: bool) -> CompiledQuery:
    token = ApiToken(kind=ApiToken.Kind.BRAND if brand else ApiToken.Kind.AMBASSADOR)

    def build(ambassador_id: int, brand_id: int = 0) -> QuerySet[Any]:
        counted = (
            Order.objects.filter(ambassador_id=ambassador_id)
            .values("ambassador_id")
            .annotate(n=Count("pk"))
            .values("n")
        )
        total = Coalesce(Subquery(counted), Value(0), output_field=IntegerField())
        ambassadors = _visible_ambassadors(token, ambassador_id, brand_id)
        return ambassadors.annotate(order_total=total).values_list("order_total").order_by("pk")[:1]

    if brand:
        return CompiledQuery(build, ambassador_id=int, brand_id=int)
    return CompiledQuery(build, ambassador_id=int)


_UNFILTERED_TOTAL_FOR_BRAND = _unfiltered_total_query(brand=True)
_UNFILTERED_TOTAL = _unfiltered_total_query(brand=False)
