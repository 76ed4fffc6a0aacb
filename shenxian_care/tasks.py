from celery import shared_task, states
from celery.signals import task_postrun, worker_ready

from . import heartbeat
from .actions import export_cleanup, export_run
from .audit import purge_expired
from .queue import mark_done, relay_pending


@shared_task(acks_late=True)
def outbox_relay_task():
    """Every minute from beat: send background tasks that waited while Redis was down, and those sent long ago
    and never finished (lost with Redis's memory); and say that a worker is alive. Idempotent."""
    heartbeat.record(heartbeat.WORKER)
    return relay_pending()


@worker_ready.connect
def _relay_when_a_worker_starts(sender=None, **kwargs):
    outbox_relay_task.delay()


@task_postrun.connect
def _outbox_entry_done(sender=None, state=None, **kwargs):
    # Finished for good (not a retry): the outbox no longer needs to send it again.
    if sender is not None and state in states.READY_STATES:
        mark_done(sender.request)


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
