"""The textbook DRF version of the endpoint, kept only as the benchmark's yardstick.

What a DRF tutorial would write: nested ModelSerializers, `select_related`/`prefetch_related`,
a generic ListAPIView, DRF's stock JSONRenderer, COUNT(*) then the page through the ORM (the
buyer joined before OFFSET). It answers the same bytes as the service — same keys, order, types
and values, written as PHP's `json_encode` writes them (`platform_api.php_json`: the stock
renderer's output with PHP's escapes, as the service's orjson output gets them) — which
`run.py` checks before measuring. It reuses the service's authentication,
permission, query parsing, filters and Laravel envelope, so that only the data path differs.

Mounted at /api/v2/baseline/ambassadors/{id}/orders by `bench.urls` only.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from rest_framework import generics, serializers
from rest_framework.renderers import JSONRenderer

from ambassadors.models import Ambassador, ApiToken
from orders.models import I18nContent, Order, OrderProduct, Product
from orders.query import read_orders_query
from orders.selectors import select_ambassador_orders
from platform_api.ids import parse_id
from platform_api.pagination import LaravelPagination
from platform_api.permissions import CanReadAmbassador, caller_token
from platform_api.php_json import php_json_escape
from platform_api.php_query import parse_str, raw_query_string

UTC_SECONDS = "%Y-%m-%dT%H:%M:%SZ"


class WholeOrFloatField(serializers.Field):
    """`integer(float)` in the published page: 42 when whole, 19.99 otherwise."""

    def to_representation(self, value: Decimal) -> int | float:
        return int(value) if value == value.to_integral_value() else float(value)


class FloatDecimalField(serializers.Field):
    """`number(float)`: a JSON number, never DRF's default decimal string."""

    def to_representation(self, value: Decimal) -> float:
        return float(value)


class BuyerSerializer(serializers.ModelSerializer[Ambassador]):
    online = serializers.SerializerMethodField()
    last_action_date = serializers.DateTimeField(format=UTC_SECONDS)

    class Meta:
        model = Ambassador
        fields = [
            "id_ambassador",
            "image",
            "firstname",
            "lastname",
            "username",
            "email",
            "email_tmp",
            "active",
            "status",
            "online",
            "last_action_date",
            "customer_id",
            "anonymized",
        ]

    def get_online(self, buyer: Ambassador) -> bool:
        return bool(buyer.last_action_date > self.context["now"] - timedelta(minutes=5))


class ImageSerializer(serializers.ModelSerializer[I18nContent]):
    class Meta:
        model = I18nContent
        fields = ["id_i18n_content", "lang", "content"]


class OrderDetailsSerializer(serializers.ModelSerializer[OrderProduct]):
    id_order = serializers.IntegerField(source="order_id")
    id_product = serializers.IntegerField(source="product_id")
    unit_price = FloatDecimalField()
    total_price = WholeOrFloatField()

    class Meta:
        model = OrderProduct
        fields = [
            "id_order",
            "id_product",
            "quantity",
            "unit_price",
            "sku",
            "currency",
            "total_price",
        ]


class ProductSerializer(serializers.ModelSerializer[Product]):
    images = ImageSerializer(many=True)
    discount_percentage = FloatDecimalField()
    price_catalog = WholeOrFloatField()
    reference_unit_price = WholeOrFloatField()
    price = FloatDecimalField()
    stock_available = FloatDecimalField()

    class Meta:
        model = Product
        fields = [
            "id_product",
            "name",
            "type",
            "discount_percentage",
            "price_catalog",
            "reference_unit_price",
            "sku",
            "youtube_id",
            "url",
            "description",
            "images",
            "price",
            "stock",
            "stock_available",
            "old_image",
        ]


class OrderLineProductSerializer(serializers.BaseSerializer[OrderProduct]):
    """A line as the API shows it: the product, with the line itself as `order_details`."""

    def to_representation(self, line: OrderProduct) -> dict[str, Any]:
        data = ProductSerializer(line.product, context=self.context).data
        data["order_details"] = OrderDetailsSerializer(line, context=self.context).data
        return dict(data)


class OrderSerializer(serializers.ModelSerializer[Order]):
    total_amount = FloatDecimalField()
    total_paid = FloatDecimalField()
    total_ws = FloatDecimalField()
    date_order = serializers.DateTimeField(format=UTC_SECONDS)
    date_insert = serializers.DateTimeField(format=UTC_SECONDS)
    date_update = serializers.DateTimeField(format=UTC_SECONDS)
    buyer = BuyerSerializer()
    products = OrderLineProductSerializer(source="lines", many=True)
    total_products_quantity = serializers.SerializerMethodField()

    class Meta:
        model = Order
        fields = [
            "id_order",
            "id_order_external",
            "total_amount",
            "total_paid",
            "total_ws",
            "id_popliste",
            "source",
            "last_status",
            "id_meeting",
            "id_meeting_external",
            "customer_id",
            "order_info",
            "currency",
            "date_order",
            "type",
            "id_chat_segment",
            "id_chatroom",
            "date_insert",
            "date_update",
            "assignment",
            "buyer",
            "products",
            "total_products_quantity",
        ]

    def get_total_products_quantity(self, order: Order) -> int:
        return sum(line.quantity for line in order.lines.all())


class BaselinePagination(LaravelPagination):
    """Laravel's envelope, counting with the ORM's COUNT(*) like any DRF paginator."""

    def paginate_queryset(
        self,
        queryset: QuerySet[Any],
        request: Any,
        view: Any = None,
        per_page: int | None = None,
        total: int | None = None,
    ) -> Any:
        query = read_orders_query(parse_str(raw_query_string(request)))
        return list(super().paginate_queryset(queryset, request, view, per_page=query.per_page))


class PhpBytesJSONRenderer(JSONRenderer):
    """DRF's stock JSON, then PHP's escapes (`\\/`, `\\uXXXX`): the bytes the service answers,
    so that the runner's byte check compares like with like."""

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        return php_json_escape(super().render(data, accepted_media_type, renderer_context))


class BaselineAmbassadorOrders(generics.ListAPIView[Order]):
    """GET the ambassador's orders, newest first, the textbook way."""

    serializer_class = OrderSerializer
    pagination_class = BaselinePagination
    permission_classes = [CanReadAmbassador]
    renderer_classes = [PhpBytesJSONRenderer]

    @property
    def path_id(self) -> int | None:
        # What CanReadAmbassador reads (the service's PlatformView parses it the same way).
        return parse_id(str(self.kwargs["ambassador_id"]))

    def get_queryset(self) -> QuerySet[Order]:
        token = caller_token(self.request)
        assert token is not None
        ambassadors = Ambassador.objects.all()
        if token.kind == ApiToken.Kind.BRAND:
            ambassadors = ambassadors.filter(brand_id=token.brand_id)
        ambassador = get_object_or_404(ambassadors, pk=self.kwargs["ambassador_id"])
        query = read_orders_query(parse_str(raw_query_string(self.request)))
        return (
            select_ambassador_orders(
                ambassador_id=ambassador.pk, filters=query.filters, ordering=query.ordering
            )
            .queryset()
            .select_related("buyer")
            .prefetch_related(
                Prefetch(
                    "lines",
                    queryset=OrderProduct.objects.select_related("product").prefetch_related(
                        "product__images"
                    ),
                )
            )
        )

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "now": timezone.now()}
