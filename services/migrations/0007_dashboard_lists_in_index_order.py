# The dashboard's lists read off indexes: the newest exceptions from (status, visit_date) widened with the list's
# order (built before the old one goes, so no read is ever without one), the visits open now from a partial index of
# the visits not yet checked out, the caregivers with exceptions most first.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("services", "0006_visit_list_order_index"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="visit",
            index=models.Index(fields=["status", "visit_date", "started_at", "id"], name="visit_status_day_start"),
        ),
        migrations.AddIndex(
            model_name="visit",
            index=models.Index(
                condition=models.Q(("ended_at__isnull", True)), fields=["started_at"], name="visit_open_start"
            ),
        ),
        migrations.AddIndex(
            model_name="visitflag",
            index=models.Index(fields=["day", "kind", "-exception_count", "id"], name="visitflag_day_kind_exceptions"),
        ),
        migrations.RemoveIndex(
            model_name="visit",
            name="visit_status_day",
        ),
    ]
