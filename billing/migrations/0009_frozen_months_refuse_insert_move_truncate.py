"""Frozen months stay frozen below the ORM, completely: besides UPDATE and DELETE (0003), the database refuses
a new line, provider total, deduction applied or payment in a confirmed (or paid) month, moving a row into such
a month from another (its settlement, or its provider total), and TRUNCATE of these tables while any month is
frozen. PostgreSQL here; SQLite (no TRUNCATE there) gets the same guards from billing/frozen.py after every
migrate.

What stays possible on a frozen month is untouched here: the row triggers of 0003 decide which UPDATEs of a
row that stays in its month go through (recording a payment: its paid date and voucher).

A deliberate wipe of the whole database (the test suite between tests, the benchmark's reset) may TRUNCATE
after `SET LOCAL shenxian.truncate_frozen_months = 'on'` in its transaction: a switch as deliberate as
ALTER TABLE ... DISABLE TRIGGER, which the table's owner can always do, and nothing a mistake or the ORM sends.
"""

from django.db import migrations

CHILDREN = ["billing_settlementline", "billing_providersettlement", "billing_deductionapplication", "billing_payment"]
# Rows that also name their month's provider total (a second way into a month).
UNDER_PROVIDER_TOTAL = {"billing_deductionapplication", "billing_payment"}

PG_INSERT_GUARD = """
CREATE OR REPLACE FUNCTION billing_frozen_insert_guard() RETURNS trigger AS $$
BEGIN
    -- One check per statement (a month's computation inserts thousands of lines), over the rows it inserted.
    IF EXISTS (
        SELECT 1 FROM new_rows n JOIN billing_settlement s ON s.id = n.settlement_id WHERE s.status IN ('confirmed', 'paid')
    ) THEN
        RAISE EXCEPTION '已确认的结算月份已冻结，不能加入新的行（%%）', TG_TABLE_NAME;
    END IF;
    -- Only tables whose rows name a provider total pass an argument (a nested IF: the query is planned only
    -- where that column exists).
    IF TG_NARGS > 0 THEN
        IF EXISTS (
            SELECT 1 FROM new_rows n
            JOIN billing_providersettlement ps ON ps.id = n.provider_settlement_id
            JOIN billing_settlement s ON s.id = ps.settlement_id
            WHERE s.status IN ('confirmed', 'paid')
        ) THEN
            RAISE EXCEPTION '已确认的结算月份已冻结，不能加入新的行（%%）', TG_TABLE_NAME;
        END IF;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
"""

PG_MOVE_GUARD = """
CREATE OR REPLACE FUNCTION billing_frozen_move_guard() RETURNS trigger AS $$
BEGIN
    -- Called only for a row whose month (or provider total) changes: see the triggers' WHEN.
    IF EXISTS (SELECT 1 FROM billing_settlement WHERE id = NEW.settlement_id AND status IN ('confirmed', 'paid'))
       OR (TG_NARGS > 0 AND EXISTS (
            SELECT 1 FROM billing_providersettlement ps JOIN billing_settlement s ON s.id = ps.settlement_id
            WHERE ps.id = (to_jsonb(NEW) ->> 'provider_settlement_id')::bigint AND s.status IN ('confirmed', 'paid')
       )) THEN
        RAISE EXCEPTION '已确认的结算月份已冻结，不能把其他月份的行移入（%%）', TG_TABLE_NAME;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""

PG_TRUNCATE_GUARD = """
CREATE OR REPLACE FUNCTION billing_frozen_truncate_guard() RETURNS trigger AS $$
BEGIN
    IF coalesce(current_setting('shenxian.truncate_frozen_months', true), '') = 'on' THEN
        RETURN NULL;
    END IF;
    IF EXISTS (SELECT 1 FROM billing_settlement WHERE status IN ('confirmed', 'paid')) THEN
        RAISE EXCEPTION '有已确认的结算月份，已冻结，不能清空（%%）', TG_TABLE_NAME;
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
"""


def _pg_forwards(schema_editor):
    for sql in (PG_INSERT_GUARD, PG_MOVE_GUARD, PG_TRUNCATE_GUARD):
        schema_editor.execute(sql)
    for table in CHILDREN:
        flag = "'provider_settlement'" if table in UNDER_PROVIDER_TOTAL else ""
        moved = "NEW.settlement_id IS DISTINCT FROM OLD.settlement_id"
        columns = "settlement_id"
        if table in UNDER_PROVIDER_TOTAL:
            moved += " OR NEW.provider_settlement_id IS DISTINCT FROM OLD.provider_settlement_id"
            columns += ", provider_settlement_id"
        schema_editor.execute(
            f"CREATE TRIGGER {table}_frozen_insert AFTER INSERT ON {table} REFERENCING NEW TABLE AS new_rows "
            f"FOR EACH STATEMENT EXECUTE FUNCTION billing_frozen_insert_guard({flag});"
        )
        schema_editor.execute(
            f"CREATE TRIGGER {table}_frozen_move BEFORE UPDATE OF {columns} ON {table} "
            f"FOR EACH ROW WHEN ({moved}) EXECUTE FUNCTION billing_frozen_move_guard({flag});"
        )
    for table in [*CHILDREN, "billing_settlement"]:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_frozen_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION billing_frozen_truncate_guard();"
        )


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        _pg_forwards(schema_editor)
    # SQLite: the same guards (no TRUNCATE there) are billing.frozen's, put back after every migrate.


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in CHILDREN:
        for kind in ("insert", "move"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_frozen_{kind} ON {table};")
    for table in [*CHILDREN, "billing_settlement"]:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_frozen_truncate ON {table};")
    for name in ("insert", "move", "truncate"):
        schema_editor.execute(f"DROP FUNCTION IF EXISTS billing_frozen_{name}_guard();")


class Migration(migrations.Migration):
    dependencies = [("billing", "0008_evidence_deductions")]
    operations = [migrations.RunPython(forwards, backwards)]
