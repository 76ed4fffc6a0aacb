"""Reads of the cross-cutting pieces: export jobs (each person sees only their own)."""

from .models import ExportJob
from .progress import progress_of
from .scoping import get_for_actor_or_404


def export_job_list(*, actor):
    return ExportJob.objects.for_actor(actor).order_by("-created_at", "-pk")


def export_job_get_for_actor(*, actor, pk):
    """The job if `actor` asked for it (and still has the scope they had then); 404 otherwise."""
    return get_for_actor_or_404(ExportJob.objects.all(), actor, pk=pk)


def export_job_progress(job):
    """What its result page polls: status, done / total, and whether it is still going."""
    done, total = progress_of(job)
    return {
        "status": job.status,
        "status_display": job.get_status_display(),
        "done": done,
        "total": total,
        "running": job.running,
        "error": job.error,
    }
