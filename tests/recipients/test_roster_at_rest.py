"""The monthly roster at rest: no full ID number (nor guardian's ID, phone or address) in the database after an
import, the file gone once it is no longer needed, uploads never applied deleted after the retention period."""

import datetime
import io
import zipfile

import pytest
from django.db import connection
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from recipients.actions import roster_purge_expired
from recipients.models import LevelApproval, MonthlyRoster, Recipient, RosterStatus
from shenxian_care.models import JobProgress
from shenxian_care.progress import job_key
from tests.conftest import full_id_numbers_in
from tests.factories import make_id_number
from tests.recipients.test_roster_import import row, workbook
from tests.recipients.test_views import upload


def _text_of(value):
    if isinstance(value, memoryview):
        value = value.tobytes()
    if isinstance(value, bytes):
        parts = [value.decode("latin-1")]
        if value.startswith(b"PK"):  # an .xlsx is a zip: look inside, where the cells are
            with zipfile.ZipFile(io.BytesIO(value)) as archive:
                parts += [archive.read(name).decode("utf-8", "replace") for name in archive.namelist()]
        return "\n".join(parts)
    return str(value)


def database_dump():
    """Every row of every table, as text, read with raw SQL (below the ORM: what a dump or a stolen backup holds)."""
    lines = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608  # nosec B608
            lines += [" | ".join(_text_of(v) for v in record) for record in cursor.fetchall()]
    return "\n".join(lines)


@pytest.mark.django_db(transaction=True)
def test_no_full_id_number_in_a_database_dump_after_roster_imports(client_as, bureau_user):
    # given uploads through the portal: one applied, one discarded, one left in preview, one that failed
    # (transaction=True: the check and the import run as background tasks once the upload is committed)
    client = client_as(bureau_user)
    guardian_id = make_id_number(birth=datetime.date(1975, 5, 5))
    applied_ids = [make_id_number(), make_id_number()]
    upload(
        client,
        workbook(
            [
                row("甲", applied_ids[0], phone="13912345678", address="东关村甲巷7号"),
                row("乙", applied_ids[1], guardian="乙监护", guardian_id=guardian_id),
            ]
        ),
    )
    applied = MonthlyRoster.objects.get()
    client.post(reverse("recipients:roster_preview", args=[applied.pk]), {"decision": "apply", "confirm": "villages"})
    upload(client, workbook([row("丙", make_id_number(), phone="13700001111", address="西关村丙巷9号")]), "2026-11")
    discarded = MonthlyRoster.objects.latest("pk")
    client.post(reverse("recipients:roster_preview", args=[discarded.pk]), {"decision": "discard"})
    pending_id = make_id_number()
    upload(client, workbook([row("丁", pending_id, guardian="丁监护", guardian_id=make_id_number())]), "2026-12")
    pending = MonthlyRoster.objects.latest("pk")
    failed_id = make_id_number()
    upload(client, workbook([row("戊", failed_id), row("己", "123")]), "2026-12")
    failed = MonthlyRoster.objects.latest("pk")
    assert [r.status for r in MonthlyRoster.objects.order_by("pk")] == ["applied", "discarded", "preview", "failed"]
    assert Recipient.objects.count() == 2

    # when the whole database is dumped
    dump = database_dump()

    # then it holds no full ID number (recipients', guardians', in the rows or inside the uploaded workbooks)
    assert full_id_numbers_in(dump) == []
    assert guardian_id not in dump and pending_id not in dump and failed_id not in dump
    # nor the phones and addresses of people who never entered the registry
    assert "13700001111" not in dump and "西关村丙巷9号" not in dump
    # the uploaded files are gone once checked, and only the pending upload keeps its (encrypted) rows
    assert all(r.content is None for r in MonthlyRoster.objects.all())
    assert MonthlyRoster.objects.get(pk=applied.pk).rows == []
    assert MonthlyRoster.objects.get(pk=discarded.pk).rows == []
    assert [r["id_number"] for r in MonthlyRoster.objects.get(pk=pending.pk).rows] == [pending_id]
    assert MonthlyRoster.objects.get(pk=failed.pk).errors  # the bureau still sees why it failed
    # and the pending upload can still be applied from its encrypted rows
    # (one person against last month's two: the bureau confirms the shorter list)
    client.post(reverse("recipients:roster_preview", args=[pending.pk]), {"decision": "apply", "confirm": "shrink"})
    assert MonthlyRoster.objects.get(pk=pending.pk).status == RosterStatus.APPLIED
    assert Recipient.objects.with_id_number(pending_id).exists()


@pytest.mark.django_db
def test_a_file_waiting_for_its_check_is_stored_encrypted(bureau_user, django_capture_on_commit_callbacks):
    from recipients.actions import roster_upload

    content = workbook([row("甲", make_id_number())])
    # given an upload whose check has not run yet (its task waits for the commit)
    roster = roster_upload(actor=bureau_user, month=datetime.date(2026, 10, 1), file_name="名单.xlsx", content=content)
    # then the stored bytes are not the workbook, and reading them gives the workbook back
    with connection.cursor() as cursor:
        table = connection.ops.quote_name(MonthlyRoster._meta.db_table)
        cursor.execute(f"SELECT content FROM {table} WHERE id = %s", [roster.pk])  # noqa: S608  # nosec B608
        stored = bytes(cursor.fetchone()[0])
    assert not stored.startswith(b"PK") and content not in stored
    assert bytes(MonthlyRoster.objects.get(pk=roster.pk).content) == content


@pytest.mark.django_db
@override_settings(ROSTER_RETENTION_DAYS=30)
def test_uploads_never_applied_are_deleted_after_the_retention_period(bureau_user):
    from tests.recipients.test_roster_import import preview_and_apply

    # given an applied roster, and uploads that failed, were discarded, or were left in preview or checking
    _roster, applied = preview_and_apply(bureau_user, workbook([row("甲", make_id_number())]))
    kept = {}
    for status in (RosterStatus.FAILED, RosterStatus.DISCARDED, RosterStatus.PREVIEW, RosterStatus.CHECKING):
        kept[status] = MonthlyRoster.objects.create(
            month=datetime.date(2026, 11, 1),
            status=status,
            file_name="x.xlsx",
            file_sha256="0",
            imported_by=bureau_user,
        )
    JobProgress.objects.create(job=job_key(kept[RosterStatus.FAILED]), done=1, total=1)
    old = timezone.now() - datetime.timedelta(days=31)
    MonthlyRoster.objects.update(created_at=old)
    recent = MonthlyRoster.objects.create(
        month=datetime.date(2026, 12, 1),
        status=RosterStatus.FAILED,
        file_name="y.xlsx",
        file_sha256="1",
        imported_by=bureau_user,
    )

    # when the daily purge runs
    from recipients.tasks import roster_purge_expired_task

    deleted = roster_purge_expired_task.apply().get()

    # then the old uploads never applied are gone, with their progress; the applied roster and a recent failure stay
    assert deleted == 4
    assert set(MonthlyRoster.objects.values_list("pk", flat=True)) == {applied.pk, recent.pk}
    assert not JobProgress.objects.filter(job=job_key(kept[RosterStatus.FAILED])).exists()
    assert LevelApproval.objects.filter(roster=applied).exists()
    # and running it again changes nothing
    assert roster_purge_expired() == 0


def test_the_purge_runs_daily_from_beat(settings):
    entry = next(
        e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "recipients.tasks.roster_purge_expired_task"
    )
    assert entry["schedule"].hour == {3}
