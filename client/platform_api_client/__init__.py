"""A client for the Platform API: a brand's ambassadors and their orders, by cursor pages.

from platform_api_client import PlatformApiClient

client = PlatformApiClient("https://api.example.com", token)
for order in client.orders(42, last_status=["OK", "FULFILLED"], updated_since="2025-01-01"):
    print(order.id_order, order.total_amount)
"""

__version__ = "0.1.0"

from platform_api_client.client import OrderPage, PlatformApiClient
from platform_api_client.errors import (
    Forbidden,
    InvalidQuery,
    NotFound,
    PlatformApiError,
    Unauthorized,
    Unavailable,
    UnexpectedResponse,
)
from platform_api_client.http import RetryPolicy
from platform_api_client.models import Ambassador, Buyer, Image, Order, OrderLine, Product

__all__ = [
    "Ambassador",
    "Buyer",
    "Forbidden",
    "Image",
    "InvalidQuery",
    "NotFound",
    "Order",
    "OrderLine",
    "OrderPage",
    "PlatformApiClient",
    "PlatformApiError",
    "Product",
    "RetryPolicy",
    "Unauthorized",
    "Unavailable",
    "UnexpectedResponse",
]
