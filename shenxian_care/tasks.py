from celery import shared_task
from celery.signals import worker_ready

from .actions import export_cleanup, export_run
from .audit import purge_expired
from .queue import relay_pending


@shared_task(acks_late=True)
def outbox_relay_task():
    """Send background tasks that waited while Redis was down. Idempotent: a sent task is never resent."""
    return relay_pending()


@worker_ready.connect
def _relay_when_a_worker_starts(sender=None, **kwargs):
    outbox_relay_task.delay()


@shared_task(acks_late=True)
def audit_purge_expired_task():
    """Monthly: drop audit records past the retention period. Idempotent."""
    return purge_expired()


@shared_task(acks_late=True)
def export_run_task(job_id):
    """Build an export the portal asked for. Idempotent: a finished or failed job is left alone."""
    return export_run(job_id=job_id)


@shared_task(acks_late=True)
def export_cleanup_task():
    """Daily: delete exports (files and jobs) past EXPORT_RETENTION_DAYS. Idempotent."""
    return export_cleanup()
