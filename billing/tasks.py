"""Celery tasks of billing: thin, call one action."""

import datetime

from celery import shared_task
from django.contrib.auth import get_user_model
from django.utils import timezone

from shenxian_care.exceptions import ApplicationError

from .actions import settlement_compute
from .calculation import previous_month


@shared_task(name="billing.tasks.settlement_draft_previous_month_task")
def settlement_draft_previous_month_task(today: str | None = None):
    """On the 1st (beat): draft the month that just ended. A month already confirmed, or not yet
    settleable (an earlier draft open), is reported and left alone; the bureau sees it on the page."""
    day = datetime.date.fromisoformat(today) if today else timezone.localdate()
    month = previous_month(day)
    try:
        settlement = settlement_compute(actor=None, month=month)
    except ApplicationError as exc:
        return {"month": f"{month:%Y-%m}", "error": exc.message}
    return {"month": f"{month:%Y-%m}", "settlement": settlement.pk, "net": str(settlement.net)}


@shared_task(name="billing.tasks.settlement_compute_task")
def settlement_compute_task(month: str, actor_id: int | None = None):
    """Compute a month's draft in the background (started from the portal or the admin)."""
    actor = get_user_model().objects.get(pk=actor_id) if actor_id else None
    try:
        settlement = settlement_compute(actor=actor, month=datetime.date.fromisoformat(month))
    except ApplicationError as exc:
        return {"month": month, "error": exc.message}
    return {"month": month, "settlement": settlement.pk, "net": str(settlement.net)}
