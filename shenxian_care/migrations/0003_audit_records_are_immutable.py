"""On PostgreSQL the database itself keeps the audit trail whole: no UPDATE of an audit record ever, and no
DELETE of one younger than six months (等保 2.0: audit records kept at least 6 months). TRUNCATE, used only
by the test suite between tests, is not a row operation and is unaffected."""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION shenxian_audit_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        RAISE EXCEPTION '审计记录不能修改（%%）', TG_TABLE_NAME;
    END IF;
    IF (to_jsonb(OLD) ->> TG_ARGV[0])::timestamptz > now() - interval '6 months' THEN
        RAISE EXCEPTION '审计记录至少保存6个月，不能删除（%%）', TG_TABLE_NAME;
    END IF;
    RETURN OLD;
END;
$$ LANGUAGE plpgsql;
"""

TABLES = [("auditlog_logentry", "timestamp"), ("shenxian_care_securityevent", "at")]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION)
    for table, column in TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION shenxian_audit_guard('{column}');"
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, _column in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_immutable ON {table};")
    schema_editor.execute("DROP FUNCTION IF EXISTS shenxian_audit_guard();")


class Migration(migrations.Migration):
    dependencies = [
        ("shenxian_care", "0002_securityevent_usersession"),
        ("auditlog", "0017_add_actor_email"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
