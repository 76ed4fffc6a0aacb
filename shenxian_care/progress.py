"""Progress of long work (roster import, settlement, exports) that people watch while it runs.

The work itself is one transaction; its progress goes to a `JobProgress` row of its own, written next to
the work so others can see it: on PostgreSQL through a separate autocommit connection, elsewhere (SQLite,
in-process tasks) with a plain write. Nothing the work has locked is touched, so nothing ever waits.
"""

from django.db import DEFAULT_DB_ALIAS, connection, connections

from .models import JobProgress


def job_key(instance):
    return f"{instance._meta.label_lower}:{instance.pk}"


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
    EVERY = 200

    def __init__(self, instance, *, every=None):
        super().__init__()
        self.job = job_key(instance)
        self.every = every or self.EVERY
        self.done = 0
        self.total = 0

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
