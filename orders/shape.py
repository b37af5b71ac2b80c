"""The JSON shape of one order, exactly as the published Platform API documents it.

This is the one place that says which keys an order has, in which order, from which column, and
as which JSON type. The Python renderer (`rendering.py`), the PostgreSQL renderer
(`sql_rendering.py`) and the schema (`schema.py`) all walk these lists (`platform_api.shape`).
"""

from __future__ import annotations

from platform_api.shape import Column, Computed, Kind

C, K = Column, Kind

BUYER: list[Column | Computed] = [
    C("id_ambassador", K.INT),
    C("image", K.TEXT),
    C("firstname", K.TEXT),
    C("lastname", K.TEXT),
    C("username", K.TEXT),
    C("email", K.TEXT),
    C("email_tmp", K.TEXT),
    C("active", K.INT),
    C("status", K.INT),
    Computed("online"),  # ambassadors.shape.is_online
    C("last_action_date", K.DATETIME),
    C("customer_id", K.TEXT),
    C("anonymized", K.BOOL),
]

IMAGE: list[Column | Computed] = [
    C("id_i18n_content", K.INT),
    C("lang", K.TEXT),
    C("content", K.TEXT),
]

# The order line, from OrderProduct.
ORDER_DETAILS: list[Column | Computed] = [
    C("id_order", K.INT, column="order_id"),
    C("id_product", K.INT, column="product_id"),
    C("quantity", K.INT),
    C("unit_price", K.FLOAT),
    C("sku", K.TEXT),
    C("currency", K.TEXT),
    Computed("total_price"),  # unit_price * quantity, WHOLE_OR_FLOAT
]

PRODUCT: list[Column | Computed] = [
    C("id_product", K.INT),
    C("name", K.TEXT, nullable=True),
    C("type", K.TEXT, nullable=True),
    C("discount_percentage", K.FLOAT),
    C("price_catalog", K.WHOLE_OR_FLOAT),
    C("reference_unit_price", K.WHOLE_OR_FLOAT),
    C("sku", K.TEXT, nullable=True),
    C("youtube_id", K.TEXT, nullable=True),
    C("url", K.TEXT, nullable=True),
    C("description", K.TEXT, nullable=True),
    Computed("images"),  # the product's I18nContent rows, by id
    C("price", K.FLOAT),
    C("stock", K.INT),
    C("stock_available", K.FLOAT),
    C("old_image", K.TEXT, nullable=True),
    Computed("order_details"),  # the line: ORDER_DETAILS
]

ORDER: list[Column | Computed] = [
    C("id_order", K.INT),
    C("id_order_external", K.TEXT, nullable=True),
    C("total_amount", K.FLOAT),
    C("total_paid", K.FLOAT),
    C("total_ws", K.FLOAT),
    C("id_popliste", K.INT),
    C("source", K.TEXT),
    C("last_status", K.TEXT),
    C("id_meeting", K.INT),
    C("id_meeting_external", K.TEXT, nullable=True),
    C("customer_id", K.TEXT),
    C("order_info", K.TEXT),
    C("currency", K.TEXT),
    C("date_order", K.DATETIME),
    C("type", K.TEXT),
    C("id_chat_segment", K.INT),
    C("id_chatroom", K.INT),
    C("date_insert", K.DATETIME),
    C("date_update", K.DATETIME),
    C("assignment", K.TEXT),
    Computed("buyer"),  # BUYER, from the order's buyer
    Computed("products"),  # PRODUCT, one per order line, in line order
    Computed("total_products_quantity"),  # sum of the lines' quantities
]
