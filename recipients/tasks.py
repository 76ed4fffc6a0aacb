from celery import shared_task
from django.contrib.auth import get_user_model

from shenxian_care.exceptions import ApplicationError

from . import actions
from .models import MonthlyRoster, RosterStatus


@shared_task(acks_late=True)
def roster_check_task(roster_id):
    """Check an uploaded roster. Idempotent: a roster no longer being checked is left alone. An unexpected
    error marks it failed (and is raised, for the worker's log)."""
    try:
        roster = actions.roster_check(roster_id=roster_id)
    except Exception as exc:
        actions.roster_mark_failed(roster_id=roster_id, status=RosterStatus.CHECKING, error=exc)
        raise
    return roster.status if roster else None


@shared_task(acks_late=True)
def roster_apply_task(roster_id, actor_id):
    """Apply a confirmed roster. Idempotent: an applied roster is not applied again (its status moved on).
    A rule broken sends it back to preview with the message; an unexpected error marks it failed."""
    roster = MonthlyRoster.objects.get(pk=roster_id)
    if roster.status != RosterStatus.APPLYING:
        return roster.status
    actor = get_user_model().objects.get(pk=actor_id)
    try:
        return actions.roster_apply(actor=actor, roster=roster).status
    except ApplicationError as exc:
        MonthlyRoster.objects.filter(pk=roster_id, status=RosterStatus.APPLYING).update(
            status=RosterStatus.PREVIEW, error_message=exc.message[:300]
        )
        return RosterStatus.PREVIEW
    except Exception as exc:
        actions.roster_mark_failed(roster_id=roster_id, status=RosterStatus.APPLYING, error=exc)
        raise


@shared_task(acks_late=True)
def roster_purge_expired_task():
    """Daily: delete roster uploads never applied, past ROSTER_RETENTION_DAYS. Idempotent."""
    return actions.roster_purge_expired()
