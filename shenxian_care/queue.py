"""Handing work to Celery without ever making the portal depend on Redis being up (a transactional outbox).

`enqueue("billing.tasks.settlement_compute_task", "2026-10-01", 3)` records the task with the caller's
transaction and sends it once that commits. If the broker cannot be reached the task stays in the outbox;
`relay_pending()` sends it later (at the next enqueue, every minute from beat, and when a worker starts).

An entry is done when a worker has finished the task (the worker marks it, from the message's `outbox_id`
header), not when Redis took it: an entry sent more than OUTBOX_RESEND_AFTER seconds ago and still not done
(lost with a Redis that restarted without its data, or with a worker killed mid-way) is sent again. Tasks must
therefore be idempotent, and those that take a job row refuse to run it twice at once.

Sending never waits on Redis for long: no result backend round trip (nobody reads these tasks' results: the
job rows say how the work went) and short socket timeouts (settings: CELERY_BROKER_TRANSPORT_OPTIONS).
"""

import logging

from celery import current_app
from celery.utils.imports import symbol_by_name
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .models import OutboxTask

logger = logging.getLogger(__name__)
DELAY_NOTICE_SECONDS = 60
HEADER = "outbox_id"


def enqueue(task_name, *args, **kwargs):
    entry = OutboxTask.objects.create(task_name=task_name, args=list(args), kwargs=kwargs)
    transaction.on_commit(lambda: _send(entry.pk))
    return entry


def _due(now):
    overdue = now - timezone.timedelta(seconds=settings.OUTBOX_RESEND_AFTER)
    return Q(done_at__isnull=True) & (Q(sent_at__isnull=True) | Q(sent_at__lt=overdue))


def _send(pk):
    with transaction.atomic():
        now = timezone.now()
        entry = OutboxTask.objects.select_for_update(skip_locked=True).filter(_due(now), pk=pk).first()
        if entry is None:
            return True
        entry.attempts += 1
        if current_app.conf.task_always_eager:
            # In-process mode (`make run`, tests): run it now; a failure is the task's, not the broker's.
            try:
                task = current_app.tasks.get(entry.task_name) or symbol_by_name(entry.task_name)
                task.apply(args=entry.args, kwargs=entry.kwargs, throw=True)
            except Exception as exc:
                entry.last_error = f"{type(exc).__name__}: {exc}"[:300]
                logger.exception("background task %s failed", entry.task_name)
            entry.sent_at = entry.done_at = timezone.now()
            entry.save(update_fields=["attempts", "last_error", "sent_at", "done_at"])
            return True
        try:
            current_app.send_task(
                entry.task_name,
                args=entry.args,
                kwargs=entry.kwargs,
                retry=False,
                ignore_result=True,
                headers={HEADER: entry.pk},
            )
        except Exception as exc:  # noqa: BLE001 - any broker failure means "try later", never a 500
            entry.last_error = f"{type(exc).__name__}: {exc}"[:300]
            entry.save(update_fields=["attempts", "last_error"])
            logger.warning("background task %s kept in the outbox: broker unavailable", entry.task_name)
            return False
        if entry.sent_at is not None:
            logger.warning("background task %s sent again: not finished since it was sent", entry.task_name)
        entry.sent_at = timezone.now()
        entry.last_error = ""
        entry.save(update_fields=["attempts", "last_error", "sent_at"])
        return True


def relay_pending(limit=500):
    """Send what is waiting or overdue, oldest first; stop at the first failure (the broker is still down)."""
    sent = 0
    for pk in OutboxTask.objects.filter(_due(timezone.now())).values_list("pk", flat=True)[:limit]:
        if not _send(pk):
            break
        sent += 1
    return sent


KEEP_PENDING = "outbox_keep_pending"


def another_run_has_it():
    """Say, from inside a task, that another run is doing its work right now (its lease beats, or it holds the
    work's lock): this task then ends without marking its outbox entry done. If that other run finishes, it marks
    the entry done when it is the same entry (a resend); if it dies, the entry is still pending and the outbox sends
    it again after OUTBOX_RESEND_AFTER, so the work is picked up without anyone asking again."""
    from celery import current_task

    request = getattr(current_task, "request", None)
    if request is not None:
        setattr(request, KEEP_PENDING, True)


def mark_done(task_request):
    """Called in the worker when a task has finished (succeeded or failed for good): its entry is done, unless the
    task found its work in another run's hands (`another_run_has_it`)."""
    if getattr(task_request, KEEP_PENDING, False):
        return
    outbox_id = getattr(task_request, HEADER, None) or (getattr(task_request, "headers", None) or {}).get(HEADER)
    if outbox_id:
        OutboxTask.objects.filter(pk=outbox_id, done_at__isnull=True).update(done_at=timezone.now())


def background_delayed():
    """True when a task has waited for the broker longer than a minute: the portal shows a notice."""
    cutoff = timezone.now() - timezone.timedelta(seconds=DELAY_NOTICE_SECONDS)
    return OutboxTask.objects.filter(sent_at__isnull=True, created_at__lt=cutoff).exists()
