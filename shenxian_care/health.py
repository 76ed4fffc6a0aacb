"""What /healthz reports: whether the portal and its background work are alive. No personal data, no names.

Each check gives figures and `ok`; the whole is healthy only when every check is. With no REDIS_URL (`make run`:
tasks run in-process) there is no Redis, beat or worker to check, and those are reported as not configured.
"""

from django.conf import settings
from django.db import connection
from django.utils import timezone

from . import heartbeat
from .models import OutboxTask


def _database():
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any failure is the answer
        return {"ok": False, "error": type(exc).__name__}, False
    return {"ok": True}, True


def _queue(now, database_ok):
    """Background work not finished yet: how much, and how long the oldest has waited (seconds)."""
    if not database_ok:
        return {"ok": False, "error": "database unavailable"}
    waiting = OutboxTask.objects.filter(done_at__isnull=True)
    oldest = waiting.order_by("created_at").values_list("created_at", flat=True).first()
    age = None if oldest is None else round((now - oldest).total_seconds(), 1)
    return {
        "ok": age is None or age <= settings.HEALTH_QUEUE_MAX_AGE,
        "outbox_depth": waiting.count(),
        "unsent": waiting.filter(sent_at__isnull=True).count(),
        "oldest_job_age_seconds": age,
    }


def _background():
    if not settings.REDIS_URL:
        off = {"ok": True, "configured": False}
        return {"redis": off, "beat": off, "worker": off}
    client = heartbeat.redis_client()
    try:
        client.ping()
        beat_age = heartbeat.age_seconds(heartbeat.BEAT, client=client)
        worker_age = heartbeat.age_seconds(heartbeat.WORKER, client=client)
    except Exception as exc:  # noqa: BLE001
        unknown = {"ok": False, "error": "redis unavailable"}
        return {"redis": {"ok": False, "error": type(exc).__name__}, "beat": unknown, "worker": unknown}
    finally:
        client.close()
    limit = settings.HEALTH_HEARTBEAT_MAX_AGE
    return {
        "redis": {"ok": True},
        "beat": {"ok": beat_age is not None and beat_age <= limit, "heartbeat_age_seconds": beat_age},
        # A worker beats each time it runs the relay beat sends every minute (and when it starts).
        "worker": {"ok": worker_age is not None and worker_age <= limit, "heartbeat_age_seconds": worker_age},
    }


def health_report():
    now = timezone.now()
    database, database_ok = _database()
    checks = {"database": database, **_background(), "queue": _queue(now, database_ok)}
    return {"ok": all(check["ok"] for check in checks.values()), "time": now.isoformat(), "checks": checks}
