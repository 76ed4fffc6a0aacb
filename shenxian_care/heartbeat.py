"""Heartbeats of the background processes, kept in Redis beside the queue, read by /healthz.

Beat writes its own at every tick of its scheduler (at least every BEAT_TICK_SECONDS); a worker writes one each
time it runs the minute's outbox relay that beat sends, so an old worker heartbeat with a fresh beat one means
no worker is taking work. Writing never raises: a heartbeat must not be what stops a process.
"""

import logging
import time

from django.conf import settings

logger = logging.getLogger(__name__)
BEAT = "beat"
WORKER = "worker"
BEAT_TICK_SECONDS = 15
_KEY = "shenxian:heartbeat:{}"


def redis_client():
    """A client that answers or fails within a second: a health check or a heartbeat never hangs a process."""
    import redis

    return redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)


def record(name, *, client=None):
    if not settings.REDIS_URL:
        return False
    try:
        (client or redis_client()).set(_KEY.format(name), f"{time.time():.3f}", ex=24 * 60 * 60)
    except Exception:  # noqa: BLE001 - Redis down: /healthz says so from its own check
        logger.warning("could not record the %s heartbeat: Redis unavailable", name)
        return False
    return True


def age_seconds(name, *, client):
    """Seconds since the heartbeat, or None if there is none (never written, or older than a day)."""
    value = client.get(_KEY.format(name))
    return None if value is None else max(0.0, round(time.time() - float(value), 1))
