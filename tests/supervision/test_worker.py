"""The supervision tasks through a real Celery worker on Redis (REDIS_URL), as in production.

The worker is a subprocess on its own queue (unique per run, so parallel runs never take each other's
tasks), pointed at this test database; the test commits its rows (transaction=True) so the worker sees them.
"""

import datetime
import os
import time

import pytest
from celery.result import EagerResult
from django.utils import timezone

from contracts.models import Agreement, AgreementStatus
from supervision import actions
from supervision.models import HalfYearReview, Notification, RectificationStatus, TakeoverStatus
from supervision.tasks import (
    evaluation_remind_missing_task,
    half_year_review_build_task,
    rectification_mark_overdue_task,
)
from tests.factories import CaregiverFactory, ContractFactory
from tests.worker import celery_worker, real_worker_available

from .factories import contract_with_rule, serve

REDIS_URL = os.environ.get("REDIS_URL", "")

pytestmark = [
    pytest.mark.worker,
    pytest.mark.skipif(not REDIS_URL, reason="REDIS_URL is not set: the real-worker test needs Redis (as in .ci/run)"),
]


@pytest.fixture
def worker_queue():
    if not real_worker_available():
        pytest.skip("the worker process cannot share an in-memory SQLite test database; run with DATABASE_URL")
    with celery_worker("supervision-test") as queue:
        yield queue


def _run(task, queue, **kwargs):
    result = task.apply_async(kwargs=kwargs, queue=queue)
    assert not isinstance(result, EagerResult), "the task ran in the test process, not in the worker"
    return result.get(timeout=120)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_tasks_run_through_a_real_worker(worker_queue, bureau_user, provider):
    # given: an open notice past its deadline, a town that owes an evaluation, a provider to review
    contract_with_rule(provider)
    serve(provider, "燕塔街道")
    today = timezone.localdate()
    notice = actions.rectification_issue(actor=bureau_user, provider=provider, problem="补正记录", deadline=today)
    tomorrow = today + datetime.timedelta(days=1)

    # when: the beat tasks are sent through Redis to the worker
    marked = _run(rectification_mark_overdue_task, worker_queue, today=tomorrow.isoformat())
    marked_again = _run(rectification_mark_overdue_task, worker_queue, today=tomorrow.isoformat())
    reminded = _run(evaluation_remind_missing_task, worker_queue, month="2026-10-01")
    built = _run(half_year_review_build_task, worker_queue, half="2026H1")

    # then: the worker changed this database
    assert (marked, marked_again) == (1, 0)
    notice.refresh_from_db()
    assert notice.status == RectificationStatus.OVERDUE
    assert notice.overdue_on == tomorrow
    assert reminded == 1
    assert Notification.objects.get(kind="evaluation_missing").town.name == "燕塔街道"
    assert Notification.objects.get(kind="rectification_overdue").provider == provider
    assert built == {"created": 1, "updated": 0, "decided": 0}
    assert HalfYearReview.objects.get(provider=provider, half="2026H1").figures["period"]["end"] == "2026-06-30"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_requested_takeover_runs_on_the_worker(worker_queue, bureau_user, provider, other_provider):
    # given a provider whose contract the bureau decided to terminate, and a takeover provider with a caregiver
    contract_with_rule(provider)
    serve(provider, "燕塔街道", n=3)
    ContractFactory(provider=other_provider)
    CaregiverFactory(provider=other_provider)
    actions.review_build(half="2026H1")
    review = actions.review_decide(
        actor=bureau_user, review=HalfYearReview.objects.get(provider=provider), decision="terminate", reason="x"
    )

    # when the bureau requests the takeover (queued on commit, run by the worker)
    takeover = actions.takeover_request(
        actor=bureau_user,
        review=review,
        new_provider=other_provider,
        takeover_date=timezone.localdate() + datetime.timedelta(days=3),
    )

    # then the worker completes it in this database
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        takeover.refresh_from_db()
        if takeover.status != TakeoverStatus.PENDING:
            break
        time.sleep(0.5)
    assert takeover.status == TakeoverStatus.DONE, takeover.errors
    assert takeover.lines.count() == 3
    assert Agreement.objects.filter(provider=other_provider, status=AgreementStatus.SIGNED).count() == 3
