"""Typed results: the API's objects as dataclasses, each keeping the API's own JSON text.

Money is `Decimal` (exact), date-times are aware `datetime`s in UTC; `raw` is the object exactly
as the API wrote it and `data` the same object parsed (numbers as `Decimal`).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from typing import Any


def _instant(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value.replace("Z", "+00:00"))


def _int(value: Any) -> int:
    return int(value)


def _known(cls: type, values: dict[str, Any]) -> dict[str, Any]:
    """The values `cls` has a field for: a key the API adds later does not break old clients."""
    names = {field.name for field in fields(cls)}
    return {name: value for name, value in values.items() if name in names}


@dataclass(frozen=True)
class Image:
    """One of a product's images, for one language."""

    id_i18n_content: int
    lang: str
    content: str


@dataclass(frozen=True)
class OrderLine:
    """An order line (`order_details`): quantity and price of one product in the order."""

    id_order: int
    id_product: int
    quantity: int
    unit_price: Decimal
    sku: str
    currency: str
    total_price: Decimal


@dataclass(frozen=True)
class Product:
    """A product as an order shows it, with its line."""

    id_product: int
    name: str | None
    type: str | None
    discount_percentage: Decimal
    price_catalog: Decimal
    reference_unit_price: Decimal
    sku: str | None
    youtube_id: str | None
    url: str | None
    description: str | None
    images: list[Image]
    price: Decimal
    stock: int
    stock_available: Decimal
    old_image: str | None
    order_details: OrderLine


@dataclass(frozen=True)
class Buyer:
    """The ambassador who bought an order."""

    id_ambassador: int
    image: str
    firstname: str
    lastname: str
    username: str
    email: str
    email_tmp: str
    active: int
    status: int
    online: bool
    last_action_date: datetime | None
    customer_id: str
    anonymized: bool


@dataclass(frozen=True)
class Order:
    """An order credited to an ambassador, with its buyer and its products (one per line)."""

    id_order: int
    id_order_external: str | None
    total_amount: Decimal
    total_paid: Decimal
    total_ws: Decimal
    id_popliste: int
    source: str
    last_status: str
    id_meeting: int
    id_meeting_external: str | None
    customer_id: str
    order_info: str
    currency: str
    date_order: datetime | None
    type: str
    id_chat_segment: int
    id_chatroom: int
    date_insert: datetime | None
    date_update: datetime | None
    assignment: str
    buyer: Buyer
    products: list[Product]
    total_products_quantity: int
    raw: str
    data: dict[str, Any]

    @classmethod
    def from_api(cls, data: dict[str, Any], raw: str) -> Order:
        """An order from its parsed JSON (numbers as Decimal) and its text."""
        values = {**data, "raw": raw, "data": data}
        for name in ("date_order", "date_insert", "date_update"):
            values[name] = _instant(data[name])
        for name in ("id_order", "id_popliste", "id_meeting", "id_chat_segment", "id_chatroom"):
            values[name] = _int(data[name])
        values["total_products_quantity"] = _int(data["total_products_quantity"])
        values["buyer"] = _buyer(data["buyer"])
        values["products"] = [_product(item) for item in data["products"]]
        return cls(**_known(cls, values))


@dataclass(frozen=True)
class Ambassador:
    """An ambassador of the brand (`GET /api/v2/platform/ambassadors/{id}`)."""

    id_ambassador: int
    id_brand: int
    date_insert: datetime | None
    customer_id: str
    image: str
    gender: str
    firstname: str
    lastname: str
    username: str
    full_name: str
    gamification_score: int
    active: int
    status: int
    online: bool
    raw: str
    data: dict[str, Any]

    @classmethod
    def from_api(cls, data: dict[str, Any], raw: str) -> Ambassador:
        """An ambassador from its parsed JSON and its text."""
        values = {**data, "raw": raw, "data": data}
        values["date_insert"] = _instant(data["date_insert"])
        for name in ("id_ambassador", "id_brand", "gamification_score", "active", "status"):
            values[name] = _int(data[name])
        return cls(**_known(cls, values))


def _buyer(data: dict[str, Any]) -> Buyer:
    values = dict(data)
    values["last_action_date"] = _instant(data["last_action_date"])
    for name in ("id_ambassador", "active", "status"):
        values[name] = _int(data[name])
    return Buyer(**_known(Buyer, values))


def _product(data: dict[str, Any]) -> Product:
    values = dict(data)
    values["images"] = [Image(**_known(Image, image)) for image in data["images"]]
    line = dict(data["order_details"])
    for name in ("id_order", "id_product", "quantity"):
        line[name] = _int(line[name])
    values["order_details"] = OrderLine(**_known(OrderLine, line))
    for name in ("id_product", "stock"):
        values[name] = _int(data[name])
    return Product(**_known(Product, values))
