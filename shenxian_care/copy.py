"""Writing rows with PostgreSQL's COPY: the settlement's lines (billing.persistence) and a phone's batch of visits with
their audit records (services.actions.visits). One statement whatever the number of rows, and none of the ORM's
per-value SQL building.

A COPY goes around the cursor wrapper Django logs queries with and turns driver errors into its own: `copy_from` does
both, so a unique violation is Django's IntegrityError (a caller's retry sees it) and a query count counts the COPY as
the statement it is."""

import datetime
import decimal
import io
import json
import time
import uuid

from django.db import connection
from django.db.models import Field, JSONField

NULL = r"\N"


def _escaped(text):
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


def _iso(value):  # a date, or a datetime with its offset when aware: ISO 8601
    return value.isoformat()


# the text of a value by its exact type (a subclass goes through copy_text's tests)
_TEXT_OF = {
    type(None): lambda value: NULL,
    bool: lambda value: "t" if value else "f",
    int: str,
    decimal.Decimal: str,
    uuid.UUID: str,
    datetime.datetime: _iso,
    datetime.date: _iso,
    str: _escaped,
}


def copy_text(value):
    """`value` as a field of COPY's text format (tab-separated, backslash escapes)."""
    text_of = _TEXT_OF.get(type(value))
    if text_of is not None:
        return text_of(value)
    if value is None:
        return NULL
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, int | decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, datetime.date):  # and datetime: ISO 8601, with its offset when aware
        return value.isoformat()
    return _escaped(str(value))


def copy_from(table, columns, data, *, size=1 << 20, logged=True):
    """COPY `data` (a text-format file or string) into `table`'s `columns`, inside the current transaction.
    `logged`: recorded in the connection's query log (what query counts read) like any statement."""
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    if isinstance(data, str):
        data = io.StringIO(data)
    start = time.monotonic()
    with connection.cursor() as cursor, connection.wrap_database_errors:
        cursor.cursor.copy_expert(sql, data, size=size)
    if logged and connection.queries_logged:
        connection.queries_log.append({"sql": sql, "time": f"{time.monotonic() - start:.3f}"})


def allocate_ids(*requests):
    """Primary keys for rows about to be copied, from each table's own sequence, in one query: `requests` are
    (model, how many); returns one ascending list per request."""
    requests = [(model, count) for model, count in requests]
    most = max((count for _, count in requests), default=0)
    if most == 0:
        return [[] for _ in requests]
    picks = ", ".join(
        f"CASE WHEN n <= %s THEN nextval(pg_get_serial_sequence('{model._meta.db_table}', "
        f"'{model._meta.pk.column}')) END"
        for model, _ in requests
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {picks} FROM generate_series(1, %s) AS n ORDER BY n",  # noqa: S608  # nosec B608 - the models' own names
            [count for _, count in requests] + [most],
        )
        rows = cursor.fetchall()
    return [sorted(row[i] for row in rows if row[i] is not None) for i in range(len(requests))]


class _RowPlan:
    """How one model's new rows are written as COPY text, worked out once per model: its columns (the key first) and,
    per field, what bulk_create does to the value (the field's pre_save, which for most fields just reads the
    attribute, then get_prep_value; a JSON field dumped with its encoder)."""

    def __init__(self, model):
        pk = model._meta.pk
        fields = [f for f in model._meta.concrete_fields if f is not pk]
        self.table = model._meta.db_table
        self.columns = [pk.column] + [f.column for f in fields]
        self.pk_attname = pk.attname
        self.steps = [
            (
                field.attname,
                # Field.pre_save reads the attribute: read it here, without the call
                None if type(field).pre_save is Field.pre_save else field.pre_save,
                field.get_prep_value,
                field.encoder if isinstance(field, JSONField) else _NOT_JSON,
            )
            for field in fields
        ]

    def line(self, instance, key):
        values = [copy_text(key)]
        append = values.append
        for attname, pre_save, prep, encoder in self.steps:
            value = getattr(instance, attname) if pre_save is None else pre_save(instance, True)
            if encoder is _NOT_JSON:
                append(copy_text(prep(value)))
            else:
                append(NULL if value is None else copy_text(json.dumps(prep(value), cls=encoder)))
        return "\t".join(values)


_NOT_JSON = object()
_row_plans = {}


def copy_instances(instances, ids):
    """Insert new `instances` (of one model, not saved) with the primary keys `ids` by one COPY, as bulk_create
    would: each field's pre_save (auto_now and the like) runs, and the instances come out saved."""
    if not instances:
        return
    model = type(instances[0])
    plan = _row_plans.get(model)
    if plan is None:
        plan = _row_plans[model] = _RowPlan(model)
    lines = []
    for instance, key in zip(instances, ids, strict=True):
        setattr(instance, plan.pk_attname, key)
        lines.append(plan.line(instance, key))
    copy_from(plan.table, plan.columns, "\n".join(lines) + "\n")
    for instance in instances:
        instance._state.adding = False
        instance._state.db = connection.alias
