"""The 2023 rates (莘政办发〔2023〕6号) as the first row of the rate table, and, on PostgreSQL, the
database's own guarantee that a recipient never has two signed agreements on the same day."""

import datetime
from decimal import Decimal

from django.db import migrations


def load_rates(apps, schema_editor):
    RateTable = apps.get_model("contracts", "RateTable")
    RateTable.objects.get_or_create(
        effective_month=datetime.date(2023, 5, 1),
        defaults={
            "self_care": Decimal("189.00"),
            "partial": Decimal("313.00"),
            "full": Decimal("626.00"),
            "basis": "莘政办发〔2023〕6号",
        },
    )


EXCLUSION_SQL = """
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE contracts_agreement ADD CONSTRAINT agreement_no_overlap_per_recipient
    EXCLUDE USING gist (
        recipient_id WITH =,
        daterange(start_date, end_date, '[]') WITH &&
    ) WHERE (status <> 'draft');
"""


def add_exclusion(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(EXCLUSION_SQL)


def drop_exclusion(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "ALTER TABLE contracts_agreement DROP CONSTRAINT IF EXISTS agreement_no_overlap_per_recipient;"
        )


class Migration(migrations.Migration):
    dependencies = [("contracts", "0002_initial")]
    operations = [
        migrations.RunPython(load_rates, migrations.RunPython.noop),
        migrations.RunPython(add_exclusion, drop_exclusion),
    ]
