"""Celery beat's scheduler, with a heartbeat (CELERY_BEAT_SCHEDULER): /healthz shows how long ago beat was alive."""

from celery.beat import PersistentScheduler

from . import heartbeat


class HeartbeatScheduler(PersistentScheduler):
    def tick(self, *args, **kwargs):
        heartbeat.record(heartbeat.BEAT)
        return min(super().tick(*args, **kwargs), heartbeat.BEAT_TICK_SECONDS)
