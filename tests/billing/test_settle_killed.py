"""A worker killed (kill -9) mid-settlement, with a real worker on Redis and PostgreSQL: the month is not left
"running" for hours; within the run's lease it shows as interrupted, asking again redoes it at once, the dead
run's own message sent again later changes nothing, and the month is what an uninterrupted run makes."""

import datetime
import os
import signal
import time
import uuid

import pytest
from django.db import connection, transaction
from django.urls import reverse

from billing import persistence
from billing.actions import settlement_compute, settlement_compute_request
from billing.models import RunState, Settlement
from shenxian_care import queue
from shenxian_care.models import OutboxTask
from shenxian_care.progress import run_alive
from tests.worker import as_default_queue, real_worker_available, start_worker_process, stop, wait_for

MONTH = datetime.date(2024, 3, 1)
RECIPIENTS = 12
LEASE = 4

pytestmark = [
    pytest.mark.worker,
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis (REDIS_URL), as in .ci/run"),
]


def month_lock_is_free():
    """True if this connection could take the month's lock now (nobody is computing the month)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [persistence._LOCK_NAMESPACE, 202403])
        free = cursor.fetchone()[0]
        transaction.set_rollback(True)
    return free


def the_month():
    """Everything a settlement run writes, without ids and times (a fresh run makes new rows)."""
    s = Settlement.objects.get(month=MONTH)
    lines = sorted(
        s.lines.values_list(
            "kind", "period_month", "recipient_id", "town_id", "provider_id", "contract_id", "caregiver_id",
            "level", "rate", "days", "days_self_care", "days_partial", "days_full", "caregiver_days", "amount",
        ),
        key=repr,
    )  # fmt: skip
    totals = sorted(s.provider_totals.values_list("provider_id", "contract_id", "gross", "net", "days"), key=repr)
    payments = sorted(s.payments.values_list("provider_id", "payee_name", "amount"), key=repr)
    header = (s.status, s.run_state, s.gross, s.deductions_applied, s.net, s.line_count, s.progress_total)
    return header, lines, totals, payments


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_settlement_is_seen_dead_redone_at_once_and_the_month_is_as_uninterrupted(
    billed, bureau_user, client_as, settings, tmp_path
):
    if not real_worker_available():
        pytest.skip("a worker process cannot share an in-memory SQLite test database; run with DATABASE_URL")
    settings.JOB_LEASE_SECONDS = LEASE
    for i in range(RECIPIENTS):
        billed(level=("self_care", "partial", "full")[i % 3])
    name = f"settle-killed-{uuid.uuid4().hex[:10]}"
    marker = tmp_path / "stalled"
    env = {"JOB_LEASE_SECONDS": str(LEASE)}
    first = start_worker_process(
        name, include=["tests.billing.stall_settlement"], STALL_MARKER=str(marker), STALL_AFTER="5", **env
    )
    second = None
    try:
        with as_default_queue(name):
            # given: the month's computation stopped half-way on its worker, which still beats
            settlement_compute_request(actor=bureau_user, month=MONTH)
            wait_for(marker.exists, 120, "the settlement to get half-way on the first worker")
            settlement = Settlement.objects.get(month=MONTH)
            assert (settlement.run_state, settlement.progress_done, settlement.progress_total) == (
                RunState.RUNNING, 5, RECIPIENTS,
            )  # fmt: skip
            assert run_alive(settlement) and not month_lock_is_free()  # nobody else may compute it meanwhile
            web = client_as(bureau_user)
            progress_url = reverse("billing:settlement_progress", args=[settlement.pk])
            assert web.get(progress_url).json()["stalled"] is False

            # when: the worker is killed mid-computation
            os.kill(first.pid, signal.SIGKILL)
            first.wait(timeout=10)
            killed = time.monotonic()

            # then: nothing of the half-run is kept, the month lock is free, and within the lease the page says so
            assert settlement.lines.count() == 0 and month_lock_is_free()
            wait_for(lambda: not run_alive(settlement), LEASE * 3, "the dead run's lease to run out")
            shown = web.get(progress_url).json()
            assert (shown["run_state"], shown["stalled"], shown["run_state_display"]) == ("running", True, "已中断")

            # and the bureau asking again starts it anew (not "still running, will run again"), done at once
            second = start_worker_process(name, **env)
            asked = web.post(reverse("billing:settlement_recompute", args=[settlement.pk]), follow=True)
            assert [str(m) for m in asked.context["messages"]] == ["已开始重新计算。"]

            def done():
                settlement.refresh_from_db()
                return settlement.run_state == RunState.DONE

            wait_for(done, 120, "the month to be computed again")
            assert time.monotonic() - killed < 120
            assert not settlement.rerun_requested

            # the dead run's own message, sent again by the outbox (it was never finished), changes nothing
            [dead] = OutboxTask.objects.filter(done_at__isnull=True)
            settings.OUTBOX_RESEND_AFTER = 0
            assert queue.relay_pending() == 1
            wait_for(lambda: OutboxTask.objects.filter(pk=dead.pk, done_at__isnull=False).exists(), 120, "resend")
            assert not OutboxTask.objects.filter(done_at__isnull=True).exists()
        recovered = the_month()

        # the month is exactly what an uninterrupted run makes
        settlement_compute(actor=bureau_user, month=MONTH)
        uninterrupted = the_month()
        assert recovered == uninterrupted
        assert len(recovered[1]) == RECIPIENTS and recovered[0][1] == RunState.DONE
        assert Settlement.objects.count() == 1
    finally:
        for process in (first, second):
            if process is not None:
                stop(process)
