"""Background work of the services app. Task names are fixed in CELERY_BEAT_SCHEDULE."""

import datetime

from celery import shared_task
from django.db import OperationalError

from . import actions, monitoring


@shared_task(name="services.tasks.visit_flag_overdue_task", bind=True, max_retries=3, default_retry_delay=300)
def visit_flag_overdue_task(self, day: str | None = None):
    """Daily (00:20): flag recipients overdue for a visit and caregivers with exceptions; shown on the dashboard."""
    try:
        return actions.visit_flag_overdue(day=datetime.date.fromisoformat(day) if day else None)
    except OperationalError as exc:  # a database hiccup at night: try again later, the day's flags are replaced whole
        raise self.retry(exc=exc) from exc


@shared_task(name="services.tasks.dashboard_refresh_task", ignore_result=True)
def dashboard_refresh_task():
    """Every 30 seconds: the month figures of the dashboards open now, computed again before their viewers poll."""
    return monitoring.refresh_month_figures()


@shared_task(name="services.tasks.dashboard_view_task", ignore_result=True)
def dashboard_view_task(user_id: int, town: int = 0, provider: int = 0, month: str = ""):
    """A dashboard view that was not kept and is dear to compute (a city's or province's), or whose cost is not known,
    queued by its first request: computed here so that no request computes it (`services.monitoring._month_figures`;
    the request of a view of unknown cost waits for it a moment)."""
    return monitoring.compute_view(user_id=user_id, town=town, provider=provider, month=month)
