"""Reads for the orders endpoint."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import Count, IntegerField, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from ambassadors.models import Ambassador, ApiToken
from orders.filters import OrderFilterSet
from orders.models import Order
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
    *, token: ApiToken, ambassador_id: int, orders: QuerySet[Order] | None
) -> int | None:
    """How many of `orders` there are, or None when the caller may not see the ambassador
    (unknown, or of another brand than a brand token's).

    One query: the ambassador's visibility and the count travel together.
    """
    ambassadors = Ambassador.objects.filter(pk=ambassador_id)
    if token.kind == ApiToken.Kind.BRAND:
        # A brand token always has a brand (a database constraint); the stubs cannot know it.
        ambassadors = ambassadors.filter(brand_id=token.brand_id)  # type: ignore[misc]
    total: Value | Coalesce
    if orders is None:
        total = Value(0, output_field=IntegerField())
    else:
        counted = orders.order_by().values("ambassador_id").annotate(n=Count("pk")).values("n")
        total = Coalesce(Subquery(counted), Value(0), output_field=IntegerField())
    return ambassadors.annotate(order_total=total).values_list("order_total", flat=True).first()
