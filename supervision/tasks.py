"""Celery tasks: thin wrappers that call one action each (names fixed in CELERY_BEAT_SCHEDULE)."""

import datetime

from celery import shared_task
from django.utils import timezone

from . import actions
from .dates import half_ended_before, previous_month


@shared_task(name="supervision.tasks.rectification_mark_overdue_task")
def rectification_mark_overdue_task(today=None):
    day = datetime.date.fromisoformat(today) if today else timezone.localdate()
    return actions.rectification_mark_overdue(today=day)


@shared_task(name="supervision.tasks.evaluation_remind_missing_task")
def evaluation_remind_missing_task(month=None):
    """Runs on days 1–5: remind towns of last month's evaluations (or of `month`, 'YYYY-MM-01')."""
    day = datetime.date.fromisoformat(month) if month else previous_month(timezone.localdate())
    return actions.evaluation_remind_missing(month=day)


@shared_task(name="supervision.tasks.half_year_review_build_task")
def half_year_review_build_task(half=None):
    """Runs on 1 January and 1 July: build the reviews of the half year that has just ended."""
    return actions.review_build(half=half or half_ended_before(timezone.localdate()))


@shared_task(name="supervision.tasks.takeover_run_task")
def takeover_run_task(takeover_id):
    """Queued by `takeover_request` after commit: the handover itself, one transaction."""
    return actions.takeover_run(takeover_id=takeover_id).status
