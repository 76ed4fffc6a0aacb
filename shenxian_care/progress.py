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


class SideProgress:
    EVERY = 200

    def __init__(self, instance, *, every=None):
        self.job = job_key(instance)
        self.every = every or self.EVERY
        self.done = 0
        self.total = 0
        self._side = connections.create_connection(DEFAULT_DB_ALIAS) if connection.vendor == "postgresql" else None

    def _write(self):
        if self._side is None:
            JobProgress.objects.update_or_create(job=self.job, defaults={"done": self.done, "total": self.total})
            return
        table = JobProgress._meta.db_table
        with self._side.cursor() as cursor:
            cursor.execute(
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

    def close(self):
        if self._side is not None:
            self._side.close()
            self._side = None
