"""Faults: a worker killed mid-task (kill -9) has its task redelivered and done once, not twice; the
database going away mid-import leaves the previous state intact."""

import datetime
import io
import os
import signal
import uuid

import pytest
from django.db import OperationalError, connection
from openpyxl import Workbook

from recipients import actions as recipient_actions
from recipients.imports import COLUMNS
from recipients.models import LevelApproval, MonthlyRoster, Recipient, RosterEntry, RosterStatus
from shenxian_care.progress import progress_of
from tests.factories import make_id_number
from tests.worker import as_default_queue, real_worker_available, start_worker_process, stop, wait_for

MONTH = datetime.date(2026, 10, 1)
# Production waits the full visibility timeout (longer than any task) before redelivering; the test shortens
# it, and the sweep for abandoned tasks, to seconds.
FAST_REDELIVERY = {
    "CELERY_VISIBILITY_TIMEOUT": "5",
    "CELERY_UNACKED_RESTORE_INTERVAL": "1",
    "CELERY_UNACKED_RESTORE_THROTTLE": "1",
}


def roster_bytes(n):
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("名单")
    ws.append(COLUMNS)
    for i in range(n):
        birth = datetime.date(1930 + i % 40, 1 + i % 12, 1 + i % 28)
        ws.append([f"测试{i}", make_id_number(birth), "燕塔街道", f"第{i % 20}村", "自理", "2024-01-01",
                   None, None, None, "13800000000", "燕塔街道1号"])  # fmt: skip
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis (REDIS_URL), as in .ci/run")
def test_a_worker_killed_mid_import_is_replaced_and_the_import_happens_once(bureau_user):
    if not real_worker_available():
        pytest.skip("a worker process cannot share an in-memory SQLite test database; run with DATABASE_URL")
    rows = 2000
    roster = recipient_actions.roster_preview(
        actor=bureau_user, month=MONTH, file_name="大名单.xlsx", content=roster_bytes(rows)
    )
    queue = f"faults-{uuid.uuid4().hex[:10]}"
    # A short visibility timeout so that Redis hands the unacknowledged task to the next worker within seconds.
    first = start_worker_process(queue, **FAST_REDELIVERY)
    second = None
    try:
        with as_default_queue(queue):
            recipient_actions.roster_apply_request(actor=bureau_user, roster=roster, confirmed=["villages"])

            def progressing():
                return progress_of(roster)[0] > 0

            wait_for(progressing, 90, "the import to start on the first worker")
            os.kill(first.pid, signal.SIGKILL)  # the worker dies mid-transaction
            first.wait(timeout=10)
            assert Recipient.objects.count() == 0  # its half-done work was rolled back with its connection

            second = start_worker_process(queue, **FAST_REDELIVERY)

            def applied():
                roster.refresh_from_db()
                return roster.status == RosterStatus.APPLIED

            wait_for(applied, 180, "the redelivered import to finish on the second worker")
        assert Recipient.objects.count() == rows
        assert LevelApproval.objects.count() == rows
        assert RosterEntry.objects.count() == rows
        assert MonthlyRoster.objects.filter(status=RosterStatus.APPLIED).count() == 1
    finally:
        for process in (first, second):
            if process is not None:
                stop(process)


@pytest.mark.django_db(transaction=True)
def test_database_going_away_mid_import_leaves_the_registry_as_it_was(bureau_user, monkeypatch):
    content = roster_bytes(30)
    roster = recipient_actions.roster_preview(actor=bureau_user, month=MONTH, file_name="名单.xlsx", content=content)
    before = (Recipient.objects.count(), LevelApproval.objects.count())
    calls = {"n": 0}
    original = Recipient.objects.create

    def dying_create(**kwargs):
        calls["n"] += 1
        if calls["n"] == 20:
            raise OperationalError("server closed the connection unexpectedly")
        return original(**kwargs)

    monkeypatch.setattr(Recipient.objects, "create", dying_create)
    with pytest.raises(OperationalError):
        recipient_actions.roster_apply(actor=bureau_user, roster=roster)
    monkeypatch.undo()
    connection.close()  # as after a lost connection: the next query opens a new one
    assert (Recipient.objects.count(), LevelApproval.objects.count()) == before
    roster.refresh_from_db()
    assert roster.status == RosterStatus.PREVIEW  # can be applied again once the database is back
    recipient_actions.roster_apply(actor=bureau_user, roster=roster)
    assert Recipient.objects.count() == 30
