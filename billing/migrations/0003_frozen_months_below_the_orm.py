"""Frozen money stays frozen below the ORM: on PostgreSQL, triggers refuse any UPDATE or DELETE of a confirmed
(or paid) month's rows — lines, provider totals, deductions applied, payments — whether it comes from
QuerySet.update(), raw SQL or a console. The month itself may only move on from confirmed to paid."""

from django.db import migrations

CHILD_GUARD = """
CREATE OR REPLACE FUNCTION billing_frozen_child_guard() RETURNS trigger AS $$
DECLARE
    frozen boolean;
BEGIN
    SELECT status IN ('confirmed', 'paid') INTO frozen FROM billing_settlement WHERE id = OLD.settlement_id;
    IF frozen THEN
        RAISE EXCEPTION '已确认的结算月份已冻结，不能修改或删除（%%）', TG_TABLE_NAME;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""

MONTH_GUARD = """
CREATE OR REPLACE FUNCTION billing_frozen_month_guard() RETURNS trigger AS $$
BEGIN
    IF OLD.status NOT IN ('confirmed', 'paid') THEN
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        RETURN NEW;
    END IF;
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION '已确认的结算月份已冻结，不能删除';
    END IF;
    IF NEW.month IS DISTINCT FROM OLD.month
       OR NEW.gross IS DISTINCT FROM OLD.gross
       OR NEW.net IS DISTINCT FROM OLD.net
       OR NEW.deductions_applied IS DISTINCT FROM OLD.deductions_applied
       OR NEW.carried_forward IS DISTINCT FROM OLD.carried_forward
       OR NEW.rate_self_care IS DISTINCT FROM OLD.rate_self_care
       OR NEW.rate_partial IS DISTINCT FROM OLD.rate_partial
       OR NEW.rate_full IS DISTINCT FROM OLD.rate_full
       OR NEW.confirmed_at IS DISTINCT FROM OLD.confirmed_at
       OR NEW.confirmed_by_id IS DISTINCT FROM OLD.confirmed_by_id
       OR NOT (NEW.status = OLD.status OR (OLD.status = 'confirmed' AND NEW.status = 'paid')) THEN
        RAISE EXCEPTION '已确认的结算月份已冻结：只能登记支付';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""

CHILDREN = ["billing_settlementline", "billing_providersettlement", "billing_deductionapplication", "billing_payment"]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(CHILD_GUARD)
    schema_editor.execute(MONTH_GUARD)
    for table in CHILDREN:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_frozen BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION billing_frozen_child_guard();"
        )
    schema_editor.execute(
        "CREATE TRIGGER billing_settlement_frozen BEFORE UPDATE OR DELETE ON billing_settlement "
        "FOR EACH ROW EXECUTE FUNCTION billing_frozen_month_guard();"
    )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in [*CHILDREN, "billing_settlement"]:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_frozen ON {table};")
    schema_editor.execute("DROP FUNCTION IF EXISTS billing_frozen_child_guard();")
    schema_editor.execute("DROP FUNCTION IF EXISTS billing_frozen_month_guard();")


class Migration(migrations.Migration):
    dependencies = [("billing", "0002_lean_line_indexes")]
    operations = [migrations.RunPython(forwards, backwards)]
