"""The frozen month below the ORM on SQLite (PostgreSQL's triggers are in billing/migrations 0003 and 0005).

SQLite alters a table by rebuilding it, which drops the table's triggers and fails on triggers of other tables
that name it: so the guards are taken down before every `migrate` and put back after it (pre_migrate and
post_migrate of the billing app), and any migration may change these tables as if they were not there."""

from contextlib import contextmanager

from django.db import transaction

FROZEN = "('confirmed', 'paid')"
CHILDREN = ["billing_settlementline", "billing_providersettlement", "billing_deductionapplication", "billing_payment"]
# Sent first in a transaction that wipes the whole database on purpose: PostgreSQL's TRUNCATE guard lets it by.
ALLOW_TRUNCATE_SQL = "SET LOCAL shenxian.truncate_frozen_months = 'on'"
# Rows that also name their month's provider total (a second way into a month).
UNDER_PROVIDER_TOTAL = {"billing_deductionapplication", "billing_payment"}


def sqlite_guards():
    """CREATE TRIGGER statements: no new row in a frozen month, no row moved into one."""
    # Constants of this module only, no input: S608 does not apply.
    in_frozen = f"EXISTS (SELECT 1 FROM billing_settlement WHERE id = NEW.settlement_id AND status IN {FROZEN})"  # noqa: S608  # nosec B608
    under_frozen = (
        "EXISTS (SELECT 1 FROM billing_providersettlement ps JOIN billing_settlement s ON s.id = ps.settlement_id "  # noqa: S608  # nosec B608
        f"WHERE ps.id = NEW.provider_settlement_id AND s.status IN {FROZEN})"
    )
    statements = []
    for table in CHILDREN:
        frozen, moved, columns = in_frozen, "NEW.settlement_id IS NOT OLD.settlement_id", "settlement_id"
        if table in UNDER_PROVIDER_TOTAL:
            frozen = f"({in_frozen} OR {under_frozen})"
            moved = f"({moved} OR NEW.provider_settlement_id IS NOT OLD.provider_settlement_id)"
            columns += ", provider_settlement_id"
        statements += [
            f"CREATE TRIGGER IF NOT EXISTS {table}_frozen_insert BEFORE INSERT ON {table} WHEN {frozen} "
            f"BEGIN SELECT RAISE(ABORT, '已确认的结算月份已冻结，不能加入新的行（{table}）'); END;",
            f"CREATE TRIGGER IF NOT EXISTS {table}_frozen_move BEFORE UPDATE OF {columns} ON {table} "
            f"WHEN {moved} AND {frozen} "
            f"BEGIN SELECT RAISE(ABORT, '已确认的结算月份已冻结，不能把其他月份的行移入（{table}）'); END;",
        ]
    return statements


def install_sqlite_guards(connection):
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        tables = set(connection.introspection.table_names(cursor))
        if not {*CHILDREN, "billing_settlement"} <= tables:
            return  # billing not migrated (yet) in this database
        for sql in sqlite_guards():
            cursor.execute(sql)


def remove_sqlite_guards(connection):
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        for table in CHILDREN:
            for kind in ("insert", "move"):
                cursor.execute(f"DROP TRIGGER IF EXISTS {table}_frozen_{kind}")


def _before_migrate(sender, using="default", **kwargs):
    from django.db import connections

    remove_sqlite_guards(connections[using])


def _after_migrate(sender, using="default", **kwargs):
    from django.db import connections

    install_sqlite_guards(connections[using])


@contextmanager
def truncating_frozen_months(connection):
    """A deliberate wipe of the whole database (the test suite, the benchmark's reset): lets TRUNCATE through the
    frozen-month guard of PostgreSQL, for this transaction only."""
    with transaction.atomic(using=connection.alias):
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(ALLOW_TRUNCATE_SQL)
        yield
