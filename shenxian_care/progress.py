"""Progress of long work (roster import, settlement, exports) that people watch while it runs.

The work itself is one transaction; progress is written next to it so others can see it: on PostgreSQL
through a separate autocommit connection (which never waits on the working transaction's locks), elsewhere
(SQLite, in-process tasks) with a plain update.
"""

from django.db import DEFAULT_DB_ALIAS, connection, connections


class SideProgress:
    EVERY = 200

    def __init__(self, model, pk, *, done_field="progress_done", total_field="progress_total", every=None):
        self.table = model._meta.db_table
        self.model = model
        self.pk = pk
        self.done_field = done_field
        self.total_field = total_field
        self.every = every or self.EVERY
        self.done = 0
        self.total = 0
        self._side = connections.create_connection(DEFAULT_DB_ALIAS) if connection.vendor == "postgresql" else None

    def write(self, **values):
        if self._side is None:
            self.model._default_manager.filter(pk=self.pk).update(**values)
            return
        columns = ", ".join(f'"{self.model._meta.get_field(name).column}" = %s' for name in values)
        with self._side.cursor() as cursor:
            cursor.execute(
                f'UPDATE "{self.table}" SET {columns} WHERE id IN '  # noqa: S608 - names are the model's own
                f'(SELECT id FROM "{self.table}" WHERE id = %s FOR UPDATE SKIP LOCKED)',
                [*values.values(), self.pk],
            )

    def start(self, total):
        self.total = total
        self.done = 0
        self.write(**{self.done_field: 0, self.total_field: total})

    def tick(self, n=1):
        before = self.done
        self.done += n
        if self.done // self.every != before // self.every:
            self.write(**{self.done_field: self.done})

    def close(self):
        if self._side is not None:
            self._side.close()
            self._side = None
