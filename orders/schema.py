"""OpenAPI description of the orders endpoint (drf-spectacular)."""

from drf_spectacular.utils import extend_schema

ambassador_orders_schema = extend_schema(operation_id="platform_ambassador_orders")
