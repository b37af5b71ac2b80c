"""The `filter[...]` parameters of `GET /ambassadors/{id}/orders` (see `platform_api.filters`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.db.models import QuerySet

from orders.models import Order
from platform_api.filters import (
    DateRangeFilter,
    IntegerListFilter,
    LaravelFilterSet,
    SinceFilter,
    StringListFilter,
    apply_filters,
    clean_filters,
)
from platform_api.ids import INT32_MAX, INT64_MAX

_CURRENCY_RE = re.compile(r"[A-Z]{3}")


class OrderFilterSet(LaravelFilterSet):
    """`filter[<name>]` of `GET /ambassadors/{id}/orders`; names as the public API spells them."""

    placed_between = DateRangeFilter(field_name="date_order")
    last_status = StringListFilter(field_name="last_status", max_length=32)
    type = StringListFilter(field_name="type", max_length=16)
    source = StringListFilter(field_name="source", max_length=64)
    currency = StringListFilter(
        field_name="currency", pattern=_CURRENCY_RE, must="be ISO 4217 codes (e.g. EUR,USD)"
    )
    assignment = StringListFilter(field_name="assignment", choices=list(Order.Assignment.values))
    id_chatroom = IntegerListFilter(field_name="id_chatroom", maximum=INT32_MAX)
    id_buyer = IntegerListFilter(field_name="buyer_id", maximum=INT64_MAX)
    updated_since = SinceFilter(field_name="date_update")

    class Meta:
        model = Order
        fields: list[str] = []


ALLOWED_FILTERS = list(OrderFilterSet.base_filters)


def clean_order_filters(data: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """`clean_filters` of `OrderFilterSet`."""
    return clean_filters(OrderFilterSet, data)


def apply_order_filters(orders: QuerySet[Order], values: dict[str, Any]) -> QuerySet[Order]:
    """`apply_filters` of `OrderFilterSet`."""
    return apply_filters(OrderFilterSet, orders, values)
