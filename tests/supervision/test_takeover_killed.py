"""A worker killed (kill -9) mid-takeover, with a real worker on Redis and PostgreSQL: the takeover is not stuck
"being handled" for the 4-hour visibility timeout; once its run stops beating the bureau may ask again, it is done
once (never two runs at once), the dead run's own message sent again later changes nothing, and every agreement
is what an uninterrupted takeover makes."""

import datetime
import os
import signal
import time
import uuid

import pytest
from django.db import transaction
from django.utils import timezone

from contracts.models import Agreement, ContractStatus, PurchaseContract
from shenxian_care import queue
from shenxian_care.exceptions import ApplicationError
from shenxian_care.models import OutboxTask
from shenxian_care.progress import run_alive
from supervision import actions
from supervision.models import HalfYearReview, Takeover, TakeoverStatus
from tests.factories import CaregiverFactory, ContractFactory, town
from tests.worker import as_default_queue, real_worker_available, start_worker_process, stop, wait_for

from .factories import contract_with_rule, serve

LEASE = 4

pytestmark = [
    pytest.mark.worker,
    pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis (REDIS_URL), as in .ci/run"),
]


def the_handover(review):
    """Every agreement (old and new) and the takeover's lines and report, without row ids and times."""
    agreements = sorted(
        Agreement.objects.values_list(
            "number", "provider_id", "recipient_id", "town_id", "village_id", "caregiver_id", "level_at_signing",
            "start_date", "end_date", "status", "signed_on", "replaces__number", "termination_reason",
        ),
        key=repr,
    )  # fmt: skip
    takeover = Takeover.objects.filter(review=review).first()
    lines = sorted(
        takeover.lines.values_list("recipient_id", "town_id", "old_agreement__number", "new_agreement__number",
                                   "caregiver_id"),
        key=repr,
    )  # fmt: skip
    contracts = sorted(PurchaseContract.objects.values_list("number", "status", "terminated_on"), key=repr)
    return takeover.status, takeover.report, takeover.errors, agreements, lines, contracts


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_takeover_is_seen_dead_asked_again_and_done_once_as_uninterrupted(
    bureau_user, provider, other_provider, settings, tmp_path
):
    if not real_worker_available():
        pytest.skip("a worker process cannot share an in-memory SQLite test database; run with DATABASE_URL")
    settings.JOB_LEASE_SECONDS = LEASE
    # given: a provider whose contract is to end, with six recipients in two towns, and a provider to take over
    contract_with_rule(provider)
    moving = serve(provider, "燕塔街道", n=4) + serve(provider, "朝城镇", n=2, level="partial")
    ContractFactory(provider=other_provider)
    CaregiverFactory(provider=other_provider, name="王接管")
    CaregiverFactory(provider=other_provider, name="赵朝城", home_town=town("朝城镇"))
    actions.review_build(half="2026H1")
    review = actions.review_decide(
        actor=bureau_user, review=HalfYearReview.objects.get(provider=provider), decision="terminate", reason="一票否决"
    )
    day = timezone.localdate() + datetime.timedelta(days=10)

    def ask():
        return actions.takeover_request(
            actor=bureau_user, review=review, new_provider=other_provider, takeover_date=day
        )

    # what an uninterrupted takeover makes (done here, then undone)
    with transaction.atomic():
        actions.takeover_execute(actor=bureau_user, review=review, new_provider=other_provider, takeover_date=day)
        uninterrupted = the_handover(review)
        transaction.set_rollback(True)
    assert uninterrupted[0] == TakeoverStatus.DONE and len(uninterrupted[4]) == len(moving)
    before = sorted(Agreement.objects.values_list("number", "status", "end_date"))

    name = f"takeover-killed-{uuid.uuid4().hex[:10]}"
    marker = tmp_path / "stalled"
    env = {"JOB_LEASE_SECONDS": str(LEASE)}
    first = start_worker_process(
        name, include=["tests.supervision.stall_takeover"], STALL_MARKER=str(marker), STALL_AFTER="3", **env
    )
    second = None
    try:
        with as_default_queue(name):
            # and: the takeover half done on its worker (three agreements moved), which still beats
            takeover = ask()
            wait_for(marker.exists, 120, "the takeover to get half-way on the first worker")
            assert run_alive(takeover)
            asked = time.monotonic()
            with pytest.raises(ApplicationError, match="正在办理"):  # never two runs at once
                ask()
            assert time.monotonic() - asked < 2  # said at once, not after the whole handover

            # when: the worker is killed mid-handover
            os.kill(first.pid, signal.SIGKILL)
            first.wait(timeout=10)
            killed = time.monotonic()

            # then: nothing of the half-done handover is kept; within the lease the bureau may ask again
            takeover.refresh_from_db()
            assert takeover.status == TakeoverStatus.PENDING
            assert sorted(Agreement.objects.values_list("number", "status", "end_date")) == before
            wait_for(lambda: not run_alive(takeover), LEASE * 3, "the dead run's lease to run out")
            second = start_worker_process(name, **env)
            again = ask()
            assert again.pk == takeover.pk

            def finished():
                takeover.refresh_from_db()
                return takeover.status != TakeoverStatus.PENDING

            wait_for(finished, 120, "the takeover asked again to be done")
            assert time.monotonic() - killed < 120
            assert takeover.status == TakeoverStatus.DONE, takeover.errors

            # the dead run's own message, sent again by the outbox (it was never finished), changes nothing
            [dead] = OutboxTask.objects.filter(done_at__isnull=True)
            settings.OUTBOX_RESEND_AFTER = 0
            assert queue.relay_pending() == 1
            wait_for(lambda: OutboxTask.objects.filter(pk=dead.pk, done_at__isnull=False).exists(), 120, "resend")
            assert not OutboxTask.objects.filter(done_at__isnull=True).exists()

        # every agreement is what the uninterrupted takeover made: once, none twice
        assert the_handover(review) == uninterrupted
        assert Takeover.objects.count() == 1
        assert Agreement.objects.filter(provider=other_provider).count() == len(moving)
        assert PurchaseContract.objects.get(provider=provider).status == ContractStatus.TERMINATED
    finally:
        for process in (first, second):
            if process is not None:
                stop(process)
