"""PostgreSQL's floor: the page's JSON built inside the database, for pgbench.

One statement per page, as the endpoint sends: the total (with the ambassador's brand check)
and the page, on the (id_ambassador, date_order DESC, id_order DESC) index, read from the nearer
end (backward for a page in the second half). As in the service, an unfiltered total is the
trigger-kept counter (orders_ambassador_order_count), a filtered one is counted. The page is a
deferred join: the page's ids are found on the index first (OFFSET walks index entries only),
and the wide rows, buyer, lines, products and images are joined for those ids alone. The JSON
has the service's `data` keys, order, types and values (run.py checks it against the service);
the Laravel envelope (links, URLs) is left to the application, and there is no token lookup.
"""

from __future__ import annotations

from dataclasses import dataclass


def _when(column: str) -> str:
    # The colons are quoted text of the format: pgbench would take a bare `:MI` for a variable.
    return f"""to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24":"MI":"SS"Z"')"""


def _whole_or_float(expression: str) -> str:
    return (
        f"CASE WHEN {expression} = trunc({expression}) THEN to_json(trunc({expression})::bigint) "
        f"ELSE to_json({expression}) END"
    )


def _float(expression: str) -> str:
    # numeric renders with its scale (42.00), which JSON readers take as the float 42.0.
    return expression


IMAGES = """(SELECT coalesce(json_agg(json_build_object(
        'id_i18n_content', i.id_i18n_content, 'lang', i.lang, 'content', i.content)
        ORDER BY i.id_i18n_content), '[]')
     FROM orders_i18ncontent AS i WHERE i.id_product = p.id_product)"""

PRODUCT = f"""json_build_object(
        'id_product', p.id_product, 'name', p.name, 'type', p.type,
        'discount_percentage', {_float("p.discount_percentage")},
        'price_catalog', {_whole_or_float("p.price_catalog")},
        'reference_unit_price', {_whole_or_float("p.reference_unit_price")},
        'sku', p.sku, 'youtube_id', p.youtube_id, 'url', p.url, 'description', p.description,
        'images', {IMAGES},
        'price', {_float("p.price")}, 'stock', p.stock,
        'stock_available', {_float("p.stock_available")}, 'old_image', p.old_image,
        'order_details', json_build_object(
            'id_order', l.id_order, 'id_product', l.id_product, 'quantity', l.quantity,
            'unit_price', {_float("l.unit_price")}, 'sku', l.sku, 'currency', l.currency,
            'total_price', {_whole_or_float("(l.unit_price * l.quantity)")}))"""

BUYER = f"""json_build_object(
        'id_ambassador', b.id_ambassador, 'image', b.image, 'firstname', b.firstname,
        'lastname', b.lastname, 'username', b.username, 'email', b.email,
        'email_tmp', b.email_tmp, 'active', b.active, 'status', b.status,
        'online', b.last_action_date > now() - interval '300 seconds',
        'last_action_date', {_when("b.last_action_date")},
        'customer_id', b.customer_id, 'anonymized', b.anonymized)"""

ORDER = f"""json_build_object(
        'id_order', o.id_order, 'id_order_external', o.id_order_external,
        'total_amount', {_float("o.total_amount")}, 'total_paid', {_float("o.total_paid")},
        'total_ws', {_float("o.total_ws")}, 'id_popliste', o.id_popliste, 'source', o.source,
        'last_status', o.last_status, 'id_meeting', o.id_meeting,
        'id_meeting_external', o.id_meeting_external, 'customer_id', o.customer_id,
        'order_info', o.order_info, 'currency', o.currency,
        'date_order', {_when("o.date_order")}, 'type', o.type,
        'id_chat_segment', o.id_chat_segment, 'id_chatroom', o.id_chatroom,
        'date_insert', {_when("o.date_insert")}, 'date_update', {_when("o.date_update")},
        'assignment', o.assignment, 'buyer', {BUYER},
        'products', lines.products, 'total_products_quantity', lines.quantity)"""


@dataclass(frozen=True)
class FloorQuery:
    """The count and page statements of one scenario; `ambassador` is SQL (a literal or a
    pgbench variable such as `:aid`)."""

    ambassador: str
    brand_id: int
    limit: int
    offset: int
    placed_from: str | None = None  # inclusive, ISO 8601
    placed_before: str | None = None  # exclusive (a date-only end covers its day)

    @property
    def where(self) -> str:
        clauses = [f"o.id_ambassador = {self.ambassador}"]
        if self.placed_from:
            clauses.append(f"o.date_order >= '{self.placed_from}'::timestamptz")
        if self.placed_before:
            clauses.append(f"o.date_order < '{self.placed_before}'::timestamptz")
        return " AND ".join(clauses)

    @property
    def total(self) -> str:
        if self.placed_from or self.placed_before:
            return f"(SELECT count(*) FROM orders_order AS o WHERE {self.where})"
        return (
            "coalesce((SELECT c.order_count FROM orders_ambassador_order_count AS c"
            f" WHERE c.id_ambassador = {self.ambassador}), 0)"
        )

    @property
    def page(self) -> str:
        """The page's ids and sort keys. A page in the second half is read from the nearer end,
        as the service reads it (orders/sql_rendering.py): the index backward, skipping
        `total - offset - limit`; the outer LIMIT drops what a short last page does not hold.
        Page 1 has no second half to read."""
        forward = f"""SELECT o.id_order, o.date_order FROM orders_order AS o
    WHERE {self.where} AND (SELECT total FROM visible) > {self.offset}"""
        if not self.offset:
            return f"""{forward}
    ORDER BY o.date_order DESC, o.id_order DESC
    LIMIT {self.limit} OFFSET {self.offset}"""
        return f"""({forward} AND {self.offset} <= (SELECT total FROM visible) / 2
    ORDER BY o.date_order DESC, o.id_order DESC
    LIMIT {self.limit} OFFSET {self.offset})
    UNION ALL
    (SELECT * FROM ({forward} AND {self.offset} > (SELECT total FROM visible) / 2
    ORDER BY o.date_order ASC, o.id_order ASC LIMIT {self.limit}
    OFFSET greatest((SELECT total FROM visible) - {self.offset} - {self.limit}, 0)
    ) AS nearer LIMIT greatest((SELECT total FROM visible) - {self.offset}, 0))"""

    @property
    def sql(self) -> str:
        """One statement, as the service sends it: a row (the total, the page's JSON), or no row
        when the brand may not see the ambassador. A page past the end reads no index entry: the
        total is a one-time filter of the page's scan. (The LIMIT stays a constant: bounded by
        the total instead, the planner no longer knew the page was small and merge-joined it
        with all 500,000 orders, 2 s per statement.)"""
        return f"""WITH visible(total) AS MATERIALIZED (
    SELECT {self.total}
    FROM ambassadors_ambassador AS a
    WHERE a.id_ambassador = {self.ambassador} AND a.brand_id = {self.brand_id}
), page AS MATERIALIZED (
    {self.page}
)
SELECT visible.total, rendered.data FROM visible CROSS JOIN (
SELECT coalesce(json_agg({ORDER} ORDER BY page.date_order DESC, page.id_order DESC), '[]') AS data
FROM page
JOIN orders_order AS o ON o.id_order = page.id_order
JOIN ambassadors_ambassador AS b ON b.id_ambassador = o.id_buyer
CROSS JOIN LATERAL (
    SELECT coalesce(json_agg({PRODUCT} ORDER BY l.id_order_product), '[]') AS products,
           coalesce(sum(l.quantity), 0) AS quantity
    FROM orders_orderproduct AS l JOIN orders_product AS p ON p.id_product = l.id_product
    WHERE l.id_order = o.id_order
) AS lines
) AS rendered"""

    def pgbench_script(self, setup: str = "") -> str:
        """pgbench takes a multi-line statement up to its `;`."""
        return f"{setup}{self.sql};\n"


AMBASSADOR = f"""json_build_object(
        'id_ambassador', a.id_ambassador, 'id_brand', a.brand_id,
        'date_insert', {_when("a.date_insert")}, 'customer_id', a.customer_id,
        'image', a.image, 'gender', a.gender, 'firstname', a.firstname,
        'lastname', a.lastname, 'username', a.username,
        'full_name', trim(a.firstname || ' ' || a.lastname),
        'gamification_score', a.gamification_score, 'active', a.active, 'status', a.status,
        'online', a.last_action_date > now() - interval '300 seconds')"""


@dataclass(frozen=True)
class FloorAmbassadorsQuery:
    """The count and page of a brand's ambassadors (`GET /ambassadors`), by id, in one
    statement on the (brand_id, id_ambassador) index; `brand` and `offset` are SQL (literals or
    pgbench variables such as `:brand`)."""

    brand: str
    limit: int
    offset: str

    @property
    def sql(self) -> str:
        """A row (the total, the page's JSON): the same deferred join as the orders' floor."""
        return f"""WITH visible(total) AS MATERIALIZED (
    SELECT count(*) FROM ambassadors_ambassador AS a WHERE a.brand_id = {self.brand}
), page AS MATERIALIZED (
    SELECT a.id_ambassador FROM ambassadors_ambassador AS a
    WHERE a.brand_id = {self.brand} AND (SELECT total FROM visible) > {self.offset}
    ORDER BY a.id_ambassador
    LIMIT {self.limit} OFFSET {self.offset}
)
SELECT visible.total, rendered.data FROM visible CROSS JOIN (
SELECT coalesce(json_agg({AMBASSADOR} ORDER BY page.id_ambassador), '[]') AS data
FROM page JOIN ambassadors_ambassador AS a ON a.id_ambassador = page.id_ambassador
) AS rendered"""

    def pgbench_script(self, setup: str = "") -> str:
        """pgbench takes a multi-line statement up to its `;`."""
        return f"{setup}{self.sql};\n"
