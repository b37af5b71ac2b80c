-- The benchmark's dataset, set-based: no per-row round trip, no ORM.
--
-- Run by bench/generate.py, one `-- step:` at a time in ONE session (setseed() seeds that
-- session's random(), so every value below is reproducible from the seed), after
-- `manage.py migrate` created the schema. Parallel query is off so that random() is called in
-- the same order on every run. Values are anchored at a fixed instant (not now()), so two loads
-- with the same seed are identical.
--
-- Shape at scale 1 (generate.py --scale N multiplies the numbers of ambassadors per brand,
-- products and orders by N): 2 brands; 20,000 ambassadors (ids 1..10000 brand 1, 10001..20000 brand 2; gender,
-- gamification score, 40% referred by an earlier ambassador of their brand);
-- 20,000 products with 4 images each (en_GB, fr_FR, es_ES, de_DE); 500,000 orders over two years
-- (id order follows time, as in a live shop): every 5th order is credited to the whale
-- (ambassador 1: exactly 100,000), the others to a random ambassador 2..20000 (about 20 each);
-- 1 to 5 lines per order (about 1.5M); buyers are other ambassadors of the same brand.

-- step: session
SET max_parallel_workers_per_gather = 0;
SET synchronous_commit = off;
SET work_mem = '256MB';
SET maintenance_work_mem = '512MB';
-- The rows are consistent by construction: skip the per-row foreign-key triggers (superuser
-- only), which otherwise dominate the load. Reset before VACUUM.
SET session_replication_role = replica;
SELECT setseed(:seed);

-- step: empty the tables
TRUNCATE orders_orderproduct, orders_order, orders_i18ncontent, orders_product,
         ambassadors_apitoken, ambassadors_ambassador, ambassadors_brand RESTART IDENTITY CASCADE;

-- step: brands
INSERT INTO ambassadors_brand (id_brand, name, domain) VALUES
    (1, 'Maison Lumière', 'lumiere.example.com'),
    (2, 'Northwind Outfitters', 'northwind.example.com');

-- step: ambassadors
INSERT INTO ambassadors_ambassador (
    id_ambassador, brand_id, image, firstname, lastname, username, email, email_tmp, active,
    status, last_action_date, customer_id, anonymized, date_insert, date_update, gender,
    gamification_score, id_referrer)
SELECT
    a.id,
    CASE WHEN a.id <= :brand_size THEN 1 ELSE 2 END,
    CASE WHEN a.anonymized THEN '' WHEN a.r1 < 0.7
         THEN 'https://cdn.example.com/avatars/' || a.id || '.jpg' ELSE '' END,
    CASE WHEN a.anonymized THEN '' ELSE a.first END,
    CASE WHEN a.anonymized THEN '' ELSE a.last END,
    CASE WHEN a.anonymized THEN 'anonymous-' || a.id ELSE lower(a.first) || '.' || lower(a.last) || a.id END,
    CASE WHEN a.anonymized THEN '' ELSE lower(a.first) || '.' || lower(a.last) || a.id || '@example.com' END,
    CASE WHEN a.r2 < 0.05 THEN lower(a.first) || a.id || '@example.org' ELSE '' END,
    CASE WHEN a.r3 < 0.85 THEN 1 WHEN a.r3 < 0.90 THEN 0 WHEN a.r3 < 0.95 THEN -1
         WHEN a.r3 < 0.98 THEN -2 ELSE -3 END,
    CASE WHEN a.r4 < 0.80 THEN 0 ELSE 1 + floor(a.r5 * 8)::int END,
    a.last_action,
    CASE WHEN a.r2 < 0.6 THEN 'CUST-' || lpad(a.id::text, 7, '0') ELSE '' END,
    a.anonymized,
    a.joined,
    a.joined + (a.last_action - a.joined) * a.r1,
    -- The three columns below draw no random() of their own (derived from the row's), so the
    -- rest of the data set is what it was before they existed.
    CASE WHEN a.anonymized OR a.r1 > 0.9 THEN '' WHEN a.r5 < 0.55 THEN 'female' ELSE 'male' END,
    CASE WHEN a.r4 < 0.3 THEN 0 ELSE (a.id * 7919) % 5001 END,
    -- Four in ten are referred by an earlier ambassador of their brand.
    CASE WHEN a.r2 >= 0.6 AND (a.id - 1) % :brand_size > 0
         THEN ((a.id - 1) / :brand_size) * :brand_size + 1 + (a.id * 31) % ((a.id - 1) % :brand_size) END
FROM (
    SELECT id,
           (ARRAY['Alice','Bruno','Chloé','David','Emma','Farid','Giulia','Hugo','Inès','Jonas',
                  'Katia','Léo','Maya','Nils','Olga','Pablo','Quentin','Rosa','Sami','Tess'])
               [1 + floor(random() * 20)::int] AS first,
           (ARRAY['Martin','Bernard','Dubois','Garcia','Müller','Smith','Rossi','Novak','Moreau',
                  'Laurent','Schmidt','Jones','Fernández','Leroy','Weber','Brown'])
               [1 + floor(random() * 16)::int] AS last,
           random() < 0.02 AS anonymized,
           random() AS r1, random() AS r2, random() AS r3, random() AS r4, random() AS r5,
           date_trunc('second', timestamptz '2023-01-01 00:00:00+00' + random() * interval '900 days') AS joined,
           date_trunc('second', timestamptz '2025-06-30 23:59:59+00' - random() * interval '120 days') AS last_action
    FROM generate_series(1, :ambassadors) AS id
) AS a;

-- step: products
INSERT INTO orders_product (
    id_product, name, type, discount_percentage, price_catalog, reference_unit_price, sku,
    youtube_id, url, description, price, stock, stock_available, old_image)
SELECT
    p.id,
    CASE WHEN p.r1 < 0.05 THEN NULL ELSE p.adjective || ' ' || p.noun || ' ' || p.id END,
    CASE WHEN p.r2 < 0.10 THEN NULL ELSE p.kind END,
    p.discount,
    p.catalog,
    p.catalog,
    CASE WHEN p.r3 < 0.02 THEN NULL ELSE 'SKU-' || lpad(p.id::text, 6, '0') END,
    CASE WHEN p.r4 < 0.80 THEN NULL ELSE substr(md5(p.id::text), 1, 11) END,
    CASE WHEN p.r5 < 0.10 THEN NULL ELSE 'https://shop.example.com/p/' || p.id END,
    CASE WHEN p.r1 > 0.80 THEN NULL
         ELSE 'The ' || lower(p.adjective) || ' ' || lower(p.noun)
              || ', made to last. Free returns within 30 days.' END,
    round(p.catalog * (1 - p.discount / 100), 2),
    p.stock,
    CASE WHEN p.r2 < 0.5 THEN p.stock ELSE round((p.stock * p.r3)::numeric, 2) END,
    CASE WHEN p.r4 < 0.30 THEN 'https://cdn.example.com/legacy/' || p.id || '.png' ELSE NULL END
FROM (
    SELECT id,
           (ARRAY['Velvet','Radiant','Classic','Urban','Silk','Alpine','Coastal','Midnight'])
               [1 + floor(random() * 8)::int] AS adjective,
           (ARRAY['Serum','Lipstick','Jacket','Scarf','Candle','Perfume','Backpack','Mug','Cream',
                  'Boots'])[1 + floor(random() * 10)::int] AS noun,
           (ARRAY['Skincare','Makeup','Fragrance','Apparel','Home','Accessories'])
               [1 + floor(random() * 6)::int] AS kind,
           -- Catalogue prices are mostly whole (29, 49); one in four has cents (19.99).
           CASE WHEN random() < 0.75 THEN (9 + floor(random() * 190))::numeric(12, 2)
                ELSE (floor(random() * 200) + 0.99)::numeric(12, 2) END AS catalog,
           (ARRAY[0, 0, 0, 5, 10, 15, 20, 25, 30, 12.5])[1 + floor(random() * 10)::int]::numeric(5, 2)
               AS discount,
           floor(random() * 500)::int AS stock,
           random() AS r1, random() AS r2, random() AS r3, random() AS r4, random() AS r5
    FROM generate_series(1, :products) AS id
) AS p;

-- step: product images
INSERT INTO orders_i18ncontent (id_i18n_content, id_product, lang, content)
SELECT (p.id - 1) * 4 + l.n, p.id, l.lang,
       'https://cdn.example.com/products/' || p.id || '/' || l.lang || '.jpg'
FROM generate_series(1, :products) AS p(id)
CROSS JOIN (VALUES (1, 'en_GB'), (2, 'fr_FR'), (3, 'es_ES'), (4, 'de_DE')) AS l(n, lang)
ORDER BY p.id, l.n;

-- step: drop secondary indexes
-- Building an index once after the load is much cheaper than maintaining it row by row. The
-- definitions are read from the catalogue (whatever the migrations made), kept, and replayed.
CREATE TEMPORARY TABLE bench_index AS
SELECT i.indexname, i.indexdef
FROM pg_indexes AS i
WHERE i.schemaname = 'public' AND i.tablename IN ('orders_order', 'orders_orderproduct')
  AND NOT EXISTS (SELECT 1 FROM pg_constraint AS c WHERE c.conname = i.indexname);
DO $$
DECLARE name text;
BEGIN
    FOR name IN SELECT indexname FROM bench_index LOOP
        EXECUTE format('DROP INDEX %I', name);
    END LOOP;
END $$;

-- step: order headers (temporary)
-- The lines are drawn before the orders so that an order's total is the sum of its lines.
CREATE TEMPORARY TABLE bench_order_seed AS
SELECT g AS id_order,
       CASE WHEN g % 5 = 0 THEN 1 ELSE 2 + floor(random() * (:ambassadors - 1))::int END AS id_ambassador,
       1 + floor(random() * 5)::int AS n_lines,
       (ARRAY['EUR','EUR','EUR','EUR','EUR','EUR','GBP','GBP','USD','CHF'])
           [1 + floor(random() * 10)::int] AS currency,
       -- Orders arrive over two years in id order, with up to an hour of jitter.
       date_trunc('second', timestamptz '2023-07-01 00:00:00+00'
           + (g / :orders.0) * interval '730 days' + random() * interval '1 hour') AS date_order,
       random() AS r1, random() AS r2, random() AS r3, random() AS r4, random() AS r5,
       random() AS r6, random() AS r7
FROM generate_series(1, :orders) AS g;

-- step: order lines (temporary)
CREATE TEMPORARY TABLE bench_line_seed AS
SELECT row_number() OVER (ORDER BY o.id_order, l.n) AS id_order_product,
       o.id_order, l.id_product, l.quantity, o.currency
FROM bench_order_seed AS o
CROSS JOIN LATERAL (
    SELECT n, 1 + floor(random() * :products)::int AS id_product,
           CASE WHEN random() < 0.7 THEN 1 ELSE 2 + floor(random() * 3)::int END AS quantity
    FROM generate_series(1, o.n_lines) AS n
) AS l;

-- step: orders
INSERT INTO orders_order (
    id_order, id_order_external, total_amount, total_paid, total_ws, id_popliste, source,
    last_status, id_meeting, id_meeting_external, customer_id, order_info, currency, date_order,
    type, id_chat_segment, id_chatroom, date_insert, date_update, assignment, id_ambassador,
    id_buyer)
SELECT
    o.id_order,
    CASE WHEN o.r1 < 0.3 THEN NULL ELSE 'EXT-' || lpad(o.id_order::text, 9, '0') END,
    t.total,
    CASE WHEN o.r2 < 0.9 THEN t.total ELSE round(t.total * 0.5, 2) END,
    round(t.total * 0.6, 2),
    CASE WHEN o.r3 < 0.7 THEN 0 ELSE 1 + floor(o.r4 * 5000)::int END,
    (ARRAY['web','store','instagram','whatsapp','facebook',''])[1 + floor(o.r5 * 6)::int],
    CASE WHEN o.r6 < 0.40 THEN 'OK' WHEN o.r6 < 0.50 THEN 'OK_DELAY' WHEN o.r6 < 0.60 THEN 'E-BOOKING'
         WHEN o.r6 < 0.70 THEN 'PENDING' WHEN o.r6 < 0.90 THEN 'FULFILLED'
         WHEN o.r6 < 0.96 THEN 'CANCELLED' ELSE 'RETURNED' END,
    CASE WHEN o.r3 < 0.8 THEN 0 ELSE 1 + floor(o.r7 * 90000)::int END,
    CASE WHEN o.r3 < 0.9 THEN NULL ELSE 'MEET-' || floor(o.r7 * 90000)::int END,
    'CUST-' || lpad(b.id_buyer::text, 7, '0'),
    CASE WHEN o.r7 < 0.85 THEN '' WHEN o.r7 < 0.95 THEN 'Gift wrap, please.'
         ELSE 'Leave the parcel with the neighbour.' END,
    o.currency,
    o.date_order,
    CASE WHEN o.r5 < 0.60 THEN 'WEB' WHEN o.r5 < 0.90 THEN 'STORE' ELSE 'MAG' END,
    floor(o.r4 * 300)::int,
    CASE WHEN o.r2 < 0.5 THEN 0 ELSE 1 + floor(o.r1 * 40000)::int END,
    o.date_order + interval '2 minutes',
    LEAST(o.date_order + o.r6 * interval '20 days', timestamptz '2025-07-01 00:00:00+00'),
    CASE WHEN o.r4 < 0.45 THEN 'conversation_assigned' WHEN o.r4 < 0.80 THEN 'affiliation_assigned'
         ELSE 'unassigned' END,
    o.id_ambassador,
    b.id_buyer
FROM bench_order_seed AS o
JOIN (SELECT id_order, sum(p.price * l.quantity) AS total
      FROM bench_line_seed AS l JOIN orders_product AS p USING (id_product)
      GROUP BY id_order) AS t USING (id_order)
-- Another ambassador of the same brand (brand 1 is 1..10000, brand 2 is 10001..20000).
CROSS JOIN LATERAL (
    SELECT ((o.id_ambassador - 1) / :brand_size) * :brand_size
           + ((o.id_ambassador - 1) % :brand_size + 1 + floor(o.r7 * (:brand_size - 1))::int) % :brand_size + 1 AS id_buyer
) AS b
ORDER BY o.id_order;

-- step: order lines
INSERT INTO orders_orderproduct (
    id_order_product, id_order, id_product, quantity, unit_price, sku, currency)
SELECT l.id_order_product, l.id_order, l.id_product, l.quantity, p.price, coalesce(p.sku, ''),
       l.currency
FROM bench_line_seed AS l JOIN orders_product AS p USING (id_product)
ORDER BY l.id_order_product;

-- step: rebuild secondary indexes
DO $$
DECLARE definition text;
BEGIN
    FOR definition IN SELECT indexdef FROM bench_index ORDER BY indexname LOOP
        EXECUTE definition;
    END LOOP;
END $$;
DROP TABLE bench_index;
RESET session_replication_role;

-- step: sequences
SELECT setval(pg_get_serial_sequence('ambassadors_brand', 'id_brand'), (SELECT max(id_brand) FROM ambassadors_brand));
SELECT setval(pg_get_serial_sequence('ambassadors_ambassador', 'id_ambassador'), (SELECT max(id_ambassador) FROM ambassadors_ambassador));
SELECT setval(pg_get_serial_sequence('orders_product', 'id_product'), (SELECT max(id_product) FROM orders_product));
SELECT setval(pg_get_serial_sequence('orders_i18ncontent', 'id_i18n_content'), (SELECT max(id_i18n_content) FROM orders_i18ncontent));
SELECT setval(pg_get_serial_sequence('orders_order', 'id_order'), (SELECT max(id_order) FROM orders_order));
SELECT setval(pg_get_serial_sequence('orders_orderproduct', 'id_order_product'), (SELECT max(id_order_product) FROM orders_orderproduct));
DROP TABLE bench_order_seed, bench_line_seed;

-- step: order counts
-- The orders went in with triggers off (session_replication_role): recount the counters the
-- triggers keep (orders/migrations/0003_ambassador_order_count.py), as `manage.py
-- rebuild_order_counts` does.
SELECT orders_order_count_rebuild();
