"""Reads of the cross-cutting pieces: export jobs (each person sees only their own)."""

import datetime

from django.conf import settings
from django.utils import timezone

from .models import ExportJob, ExportStatus
from .progress import progress_of, run_alive
from .scoping import get_for_actor_or_404


def _kept():
    """Jobs within the retention the result page promises (the nightly cleanup deletes the rest)."""
    cutoff = timezone.now() - datetime.timedelta(days=settings.EXPORT_RETENTION_DAYS)
    return ExportJob.objects.filter(created_at__gte=cutoff)


def export_job_list(*, actor):
    return _kept().for_actor(actor).order_by("-created_at", "-pk")


def export_job_get_for_actor(*, actor, pk):
    """The job if `actor` asked for it (and still has the scope they had then) and it is not past its retention
    (the page said it would be deleted then, so it is gone even before the nightly cleanup); 404 otherwise."""
    return get_for_actor_or_404(_kept(), actor, pk=pk)


def export_job_progress(job):
    """What its result page polls: status, done / total, and whether it is still going."""
    done, total = progress_of(job)
    # Running, but its worker stopped beating (killed): asking again builds it anew.
    stalled = job.status == ExportStatus.RUNNING and not run_alive(job)
    return {
        "status": job.status,
        "status_display": "已中断" if stalled else job.get_status_display(),
        "done": done,
        "total": total,
        "running": job.running and not stalled,
        "stalled": stalled,
        "error": job.error,
    }
