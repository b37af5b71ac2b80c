# The orders route's unfiltered total, kept by PostgreSQL triggers (docs/scaling.md, "The
# whale's total"); other databases get the table only and keep counting.
#
# FOR OPERATORS: on PostgreSQL this migration holds `LOCK TABLE orders_order IN SHARE ROW
# EXCLUSIVE MODE` from its first statement to its commit: reads go on, writes to the orders
# wait. The triggers start counting and the backfill counts every order under that one lock, so
# no write can fall between them. The backfill is one index-only pass grouping orders by
# ambassador: 0.1-0.3 s for 500,000 orders, 0.8-1.4 s for 2.5 million on the benchmark's
# 2-core machine (bench/RESULTS.md), so expect writes to wait a few seconds per ten million. Run it when the write
# traffic can wait that long (a deploy window), not during a bulk import.

import django.db.models.deletion
from django.db import migrations, models

TABLE = "orders_ambassador_order_count"

CREATE = f"""
ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_id_ambassador_fk
    FOREIGN KEY (id_ambassador) REFERENCES ambassadors_ambassador (id_ambassador)
    ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED;

-- Adds deltas[i] to ambassador ids[i]'s counter (ids distinct). Counters are locked in id order,
-- so two statements moving the same ambassadors' counts wait for each other, never deadlock.
CREATE FUNCTION orders_order_count_add(ids bigint[], deltas bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    updated bigint;
BEGIN
    IF ids IS NULL THEN
        RETURN;
    END IF;
    IF 0 < ALL (deltas) THEN
        -- Only additions (every INSERT): one upsert, in id order.
        INSERT INTO {TABLE} AS c (id_ambassador, order_count)
        SELECT d.id, d.delta FROM unnest(ids, deltas) AS d(id, delta) ORDER BY d.id
        ON CONFLICT (id_ambassador) DO UPDATE SET order_count = c.order_count + excluded.order_count;
        RETURN;
    END IF;
    INSERT INTO {TABLE} (id_ambassador, order_count)
    SELECT d.id, 0 FROM unnest(ids, deltas) AS d(id, delta) WHERE d.delta > 0 ORDER BY d.id
    ON CONFLICT (id_ambassador) DO NOTHING;
    PERFORM 1 FROM {TABLE} WHERE id_ambassador = ANY (ids) ORDER BY id_ambassador FOR UPDATE;
    UPDATE {TABLE} AS c SET order_count = c.order_count + d.delta
    FROM unnest(ids, deltas) AS d(id, delta) WHERE c.id_ambassador = d.id;
    GET DIAGNOSTICS updated = ROW_COUNT;
    IF updated <> cardinality(ids) THEN
        RAISE EXCEPTION 'orders were removed from ambassadors that {TABLE} does not count'
            USING HINT = 'Orders were loaded with triggers off: run manage.py rebuild_order_counts.';
    END IF;
END $$;

CREATE FUNCTION orders_order_count_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM orders_order_count_add(array_agg(d.id_ambassador), array_agg(d.n))
    FROM (SELECT id_ambassador, count(*) AS n FROM new_orders GROUP BY id_ambassador) AS d;
    RETURN NULL;
END $$;

CREATE FUNCTION orders_order_count_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM orders_order_count_add(array_agg(d.id_ambassador), array_agg(d.n))
    FROM (SELECT id_ambassador, -count(*) AS n FROM old_orders GROUP BY id_ambassador) AS d;
    RETURN NULL;
END $$;

-- An UPDATE moves counts only when it re-attributes orders: the net change per ambassador.
CREATE FUNCTION orders_order_count_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM orders_order_count_add(array_agg(d.id_ambassador), array_agg(d.n))
    FROM (
        SELECT moved.id_ambassador, sum(moved.n)::bigint AS n
        FROM (SELECT id_ambassador, count(*) AS n FROM new_orders GROUP BY id_ambassador
              UNION ALL
              SELECT id_ambassador, -count(*) FROM old_orders GROUP BY id_ambassador) AS moved
        GROUP BY moved.id_ambassador
        HAVING sum(moved.n) <> 0
    ) AS d;
    RETURN NULL;
END $$;

CREATE FUNCTION orders_order_count_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM {TABLE};
    RETURN NULL;
END $$;

-- Recounts every ambassador's orders, holding writers of the orders off until the calling
-- transaction ends; returns how many counters it corrected (0: they were exact).
CREATE FUNCTION orders_order_count_rebuild() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    corrected bigint;
    cleared bigint;
BEGIN
    LOCK TABLE orders_order IN SHARE ROW EXCLUSIVE MODE;
    INSERT INTO {TABLE} AS c (id_ambassador, order_count)
    SELECT id_ambassador, count(*) FROM orders_order GROUP BY id_ambassador ORDER BY id_ambassador
    ON CONFLICT (id_ambassador) DO UPDATE SET order_count = excluded.order_count
    WHERE c.order_count <> excluded.order_count;
    GET DIAGNOSTICS corrected = ROW_COUNT;
    DELETE FROM {TABLE} AS c WHERE c.order_count <> 0
        AND NOT EXISTS (SELECT 1 FROM orders_order AS o WHERE o.id_ambassador = c.id_ambassador);
    GET DIAGNOSTICS cleared = ROW_COUNT;
    RETURN corrected + cleared;
END $$;

-- Statement-level, with transition tables: a bulk statement makes one counter change per
-- ambassador, not one per row. (PostgreSQL refuses transition tables on `UPDATE OF column`
-- triggers: the UPDATE trigger sees every UPDATE and finds the re-attributions itself.)
CREATE TRIGGER orders_order_count_insert AFTER INSERT ON orders_order
    REFERENCING NEW TABLE AS new_orders
    FOR EACH STATEMENT EXECUTE FUNCTION orders_order_count_inserted();
CREATE TRIGGER orders_order_count_delete AFTER DELETE ON orders_order
    REFERENCING OLD TABLE AS old_orders
    FOR EACH STATEMENT EXECUTE FUNCTION orders_order_count_deleted();
CREATE TRIGGER orders_order_count_update AFTER UPDATE ON orders_order
    REFERENCING OLD TABLE AS old_orders NEW TABLE AS new_orders
    FOR EACH STATEMENT EXECUTE FUNCTION orders_order_count_updated();
CREATE TRIGGER orders_order_count_truncate AFTER TRUNCATE ON orders_order
    FOR EACH STATEMENT EXECUTE FUNCTION orders_order_count_truncated();

SELECT orders_order_count_rebuild();
"""

DROP = f"""
DROP TRIGGER orders_order_count_insert ON orders_order;
DROP TRIGGER orders_order_count_delete ON orders_order;
DROP TRIGGER orders_order_count_update ON orders_order;
DROP TRIGGER orders_order_count_truncate ON orders_order;
DROP FUNCTION orders_order_count_rebuild();
DROP FUNCTION orders_order_count_truncated();
DROP FUNCTION orders_order_count_updated();
DROP FUNCTION orders_order_count_deleted();
DROP FUNCTION orders_order_count_inserted();
DROP FUNCTION orders_order_count_add(bigint[], bigint[]);
ALTER TABLE {TABLE} DROP CONSTRAINT {TABLE}_id_ambassador_fk;
"""


def _statements(sql):
    """`sql` one statement at a time (server-side binding refuses several in one execute):
    each ends with a `;` at the end of a line outside a `$$` function body."""
    statements, lines, in_body = [], [], False
    for line in sql.splitlines():
        lines.append(line)
        if line.count("$$") % 2:
            in_body = not in_body
        if not in_body and line.rstrip().endswith(";"):
            statements.append("\n".join(lines).strip())
            lines = []
    return statements


def _on_postgresql(sql):
    statements = _statements(sql)

    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):

    # One transaction: the lock, the table, the triggers and the backfill commit together.
    atomic = True

    dependencies = [
        ('ambassadors', '0002_ambassador_gender_score_referrer'),
        ('orders', '0002_sort_key_indexes'),
    ]

    operations = [
        # First, before any statement takes the transaction's snapshot (REPEATABLE READ would
        # freeze it there): the backfill then sees every order committed before the lock.
        migrations.RunPython(
            _on_postgresql("LOCK TABLE orders_order IN SHARE ROW EXCLUSIVE MODE"),
            migrations.RunPython.noop,
            elidable=False,
        ),
        migrations.CreateModel(
            name='AmbassadorOrderCount',
            fields=[
                ('ambassador', models.OneToOneField(db_column='id_ambassador', db_constraint=False, on_delete=django.db.models.deletion.DO_NOTHING, primary_key=True, related_name='+', serialize=False, to='ambassadors.ambassador')),
                ('order_count', models.BigIntegerField()),
            ],
            options={
                'db_table': 'orders_ambassador_order_count',
                'constraints': [models.CheckConstraint(condition=models.Q(('order_count__gte', 0)), name='ambassador_order_count_gte_0')],
            },
        ),
        migrations.RunPython(_on_postgresql(CREATE), _on_postgresql(DROP), elidable=False),
    ]
