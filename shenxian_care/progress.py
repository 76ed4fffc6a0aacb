"""Progress of long work (roster import, settlement, exports) that people watch while it runs.

The work itself is one transaction; its progress goes to a `JobProgress` row of its own, written next to
the work so others can see it: on PostgreSQL through a separate autocommit connection, elsewhere (SQLite,
in-process tasks) with a plain write. Nothing the work has locked is touched, so nothing ever waits.

The same row is the run's lease: while the work runs on PostgreSQL a heartbeat thread (its own connection)
touches `updated_at` every few seconds, so a run whose worker was killed is seen as dead within
JOB_LEASE_SECONDS (`run_alive`), and can be redone or asked for again without ever running twice at once.
"""

import datetime
import logging
import threading

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import DateTimeField, ExpressionWrapper
from django.db.models.functions import Now
from django.utils import timezone

from .models import JobProgress

logger = logging.getLogger(__name__)
_HEARTBEAT_SQL = (
    f'INSERT INTO "{JobProgress._meta.db_table}" (job, done, total, updated_at) VALUES (%s, 0, 0, now()) '  # noqa: S608  # nosec B608
    "ON CONFLICT (job) DO UPDATE SET updated_at = now()"
)


def job_key(instance):
    return f"{instance._meta.label_lower}:{instance.pk}"


def _fresh():
    """The oldest heartbeat that is still fresh. On PostgreSQL by the database's clock, the one every heartbeat
    is written with (`now()`), so a web server and a worker whose clocks disagree (another machine, or a process
    whose clock a test moved) still agree on whether a run is alive; elsewhere (in-process work, rows written by
    the ORM) by this process's clock."""
    lease = datetime.timedelta(seconds=settings.JOB_LEASE_SECONDS)
    if connection.vendor == "postgresql":
        return ExpressionWrapper(Now() - lease, output_field=DateTimeField())
    return timezone.now() - lease


def run_alive(instance):
    """True while a run of the work on this object beats (within JOB_LEASE_SECONDS)."""
    return JobProgress.objects.filter(job=job_key(instance), updated_at__gte=_fresh()).exists()


def run_died(instance):
    """True if the last run of the work on this object beat and then stopped (its worker was killed): work still
    marked running or pending is then dead, to be redone or asked for again. False while it beats, and where no
    run ever beat (SQLite: work runs in-process, where nothing dies apart)."""
    return JobProgress.objects.filter(job=job_key(instance), updated_at__lt=_fresh()).exists()


class _Heartbeat(threading.Thread):
    def __init__(self, job):
        super().__init__(name=f"heartbeat {job}", daemon=True)
        self.job = job
        self.stopped = threading.Event()

    def run(self):
        own = connections.create_connection(DEFAULT_DB_ALIAS)
        every = max(1, settings.JOB_LEASE_SECONDS // 4)
        try:
            while not self.stopped.wait(every):
                try:
                    with own.cursor() as cursor:
                        cursor.execute(_HEARTBEAT_SQL, [self.job])
                except Exception:  # noqa: BLE001 - a missed beat is retried; the work goes on
                    logger.warning("heartbeat of %s not written", self.job)
                    own.close()
        finally:
            own.close()


class Lease:
    """A run's heartbeat on the work's progress row, for work that keeps its progress elsewhere (a settlement
    keeps it on its own row). On PostgreSQL only: elsewhere tasks run in-process and nothing dies apart."""

    def __init__(self, instance):
        self._heartbeat = None
        if connection.vendor == "postgresql":
            job = job_key(instance)
            side = connections.create_connection(DEFAULT_DB_ALIAS)
            try:
                with side.cursor() as cursor:
                    cursor.execute(_HEARTBEAT_SQL, [job])
            finally:
                side.close()
            self._heartbeat = _Heartbeat(job)
            self._heartbeat.start()

    def close(self):
        if self._heartbeat is not None:
            self._heartbeat.stopped.set()
            self._heartbeat.join(timeout=10)
            self._heartbeat = None


def progress_of(instance):
    """(done, total) of the work on this object, (0, 0) if none has been recorded."""
    row = JobProgress.objects.filter(job=job_key(instance)).values_list("done", "total").first()
    return row or (0, 0)


class SideWriter:
    """Writes that others must see while the work's own transaction is still open: on PostgreSQL through a
    separate autocommit connection (`beside` is true: `execute` there); elsewhere (SQLite, in-process tasks) the
    caller writes with the ORM as usual. Close it when the work ends."""

    def __init__(self):
        self._side = connections.create_connection(DEFAULT_DB_ALIAS) if connection.vendor == "postgresql" else None

    @property
    def beside(self):
        return self._side is not None

    def execute(self, sql, params):
        with self._side.cursor() as cursor:
            cursor.execute(sql, params)

    def close(self):
        if self._side is not None:
            self._side.close()
            self._side = None


class SideProgress(SideWriter):
    """Progress beside the work, and (on PostgreSQL) its heartbeat from the moment it is made until `close()`:
    make it before claiming the work, so that a claimed run is never without a lease."""

    EVERY = 200

    def __init__(self, instance, *, every=None):
        super().__init__()
        self.job = job_key(instance)
        self.every = every or self.EVERY
        self.done = 0
        self.total = 0
        self._heartbeat = None
        if self.beside:
            self.execute(_HEARTBEAT_SQL, [self.job])
            self._heartbeat = _Heartbeat(self.job)
            self._heartbeat.start()

    def close(self):
        if self._heartbeat is not None:
            self._heartbeat.stopped.set()
            self._heartbeat.join(timeout=10)
            self._heartbeat = None
        super().close()

    def _write(self):
        if not self.beside:
            JobProgress.objects.update_or_create(job=self.job, defaults={"done": self.done, "total": self.total})
            return
        table = JobProgress._meta.db_table
        self.execute(
            f'INSERT INTO "{table}" (job, done, total, updated_at) VALUES (%s, %s, %s, now()) '  # noqa: S608  # nosec B608
            "ON CONFLICT (job) DO UPDATE SET done = EXCLUDED.done, total = EXCLUDED.total, updated_at = now()",
            [self.job, self.done, self.total],
        )

    def start(self, total):
        self.total = total
        self.done = 0
        self._write()

    def tick(self, n=1):
        before = self.done
        self.done += n
        if self.done // self.every != before // self.every:
            self._write()

    def finish(self):
        self.done = max(self.done, self.total)
        self._write()
