"""Plumbing for the settlement action: input streams, the line writer, the month lock, progress.

Kept apart from `actions.py` so the action reads as the rule; nothing here decides money.
"""

import contextlib
import datetime
import json
import tempfile

from django.db import DatabaseError, IntegrityError, connection
from django.utils import timezone

from contracts.models import Agreement
from recipients.models import LevelApproval, Recipient, in_support_q
from shenxian_care.copy import copy_from
from shenxian_care.exceptions import ApplicationError
from shenxian_care.progress import Lease, SideWriter

from .calculation import fen_text, from_fen
from .models import LineKind, RunState, Settlement, SettlementLine

STREAM_CHUNK = 5000
_LOCK_NAMESPACE = 72150  # pg advisory lock class for billing months


def recipients_in_window(first: datetime.date, end: datetime.date):
    """Recipients in support some day of [first, end)."""
    return Recipient.objects.in_support_between(first, end - datetime.timedelta(days=1))


def input_streams(first: datetime.date, end: datetime.date):
    """Three streams ordered by recipient id (server-side cursors on PostgreSQL): recipients in support
    some day of [first, end), their signed agreements meeting the month, their level approvals up to it."""
    recipients = (
        recipients_in_window(first, end)
        .order_by("pk")
        .values_list("pk", "town_id", "entry_date", "exit_date")
        .iterator(chunk_size=STREAM_CHUNK)
    )
    last = end - datetime.timedelta(days=1)
    agreements = (
        Agreement.objects.in_force_between(first, last)
        .order_by("recipient_id", "start_date", "pk")
        .values_list("recipient_id", "provider_id", "town_id", "caregiver_id", "start_date", "signed_on", "end_date")
        .iterator(chunk_size=STREAM_CHUNK)
    )
    approvals = (
        LevelApproval.objects.filter(effective_date__lt=end)
        .filter(in_support_q(first, last, "recipient__"))
        .order_by("recipient_id", "effective_date", "approved_at", "pk")
        .values_list("recipient_id", "effective_date", "level")
        .iterator(chunk_size=STREAM_CHUNK)
    )
    return recipients, agreements, approvals


def close_streams(streams):
    """Close server-side cursors while the transaction is still alive (a generator collected later
    would try to CLOSE a cursor that a rollback already dropped, and break the outer transaction)."""
    for stream in streams:
        # If the transaction is already failing, its rollback drops the cursor anyway.
        with contextlib.suppress(DatabaseError):
            stream.close()


def lock_month(month: datetime.date):
    """Serialise work on one month across processes: a transaction-scoped PostgreSQL advisory lock.

    Not a row lock, so progress can still be written to the settlement row from a side connection.
    Elsewhere (SQLite in tests) the database's own single-writer lock serialises.
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [_LOCK_NAMESPACE, month.year * 100 + month.month])
        if not cursor.fetchone()[0]:
            raise ApplicationError(f"{month:%Y年%m月}结算正在计算或确认中，请稍后再试。")


def delete_lines(settlement_id):
    """Draft lines are referenced by nothing (only frozen lines are corrected), so one DELETE does."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM billing_settlementline WHERE settlement_id = %s", [settlement_id])


_COLUMNS = (
    "settlement_id",
    "kind",
    "period_month",
    "recipient_id",
    "town_id",
    "provider_id",
    "contract_id",
    "caregiver_id",
    "level",
    "rate",
    "days",
    "days_self_care",
    "days_partial",
    "days_full",
    "caregiver_days",
    "amount",
    "corrects_id",
)


def _null(value):
    return r"\N" if value is None else value


def _reference_checks():
    """(column, SQL counting the lines of one settlement whose `column` names no row) for every reference of a
    line, read from the model so that a new reference is checked too."""
    table = SettlementLine._meta.db_table
    checks = []
    for field in SettlementLine._meta.concrete_fields:
        if not field.is_relation:
            continue
        target = field.related_model._meta
        column, target_table, target_key = field.column, target.db_table, target.pk.column
        # names from the models' own metadata, the settlement id a parameter
        query = (
            f'SELECT COUNT(*) FROM "{table}" l WHERE l.settlement_id = %s AND l."{column}" IS NOT NULL '  # noqa: S608  # nosec B608
            f'AND NOT EXISTS (SELECT 1 FROM "{target_table}" t WHERE t."{target_key}" = l."{column}")'
        )
        checks.append((column, query))
    return checks


REFERENCE_CHECKS = _reference_checks()


def check_references(settlement_id):
    """The database keeps no foreign keys on the line table (see `SettlementLine`): check, in one statement and
    set-based, that every reference of the lines just written names a row, before the run commits. A line naming
    nothing fails the run (nothing of it is kept) with the columns and how many lines."""
    sql = "SELECT " + ", ".join(f"({query})" for _column, query in REFERENCE_CHECKS)
    with connection.cursor() as cursor:
        cursor.execute(sql, [settlement_id] * len(REFERENCE_CHECKS))
        counts = cursor.fetchone()
    missing = {column: count for (column, _query), count in zip(REFERENCE_CHECKS, counts, strict=True) if count}
    if missing:
        named = "，".join(f"{column} {count} 行" for column, count in missing.items())
        raise IntegrityError(f"结算明细引用了不存在的记录（{named}），本次计算未保存。")


class LineWriter:
    """Writes lines as they are computed. On PostgreSQL they go to a temporary file and then into the
    table with one COPY (memory stays flat, one statement whatever the size); elsewhere bulk_create."""

    BATCH = 2000

    def __init__(self, settlement):
        self.settlement = settlement
        self.count = 0
        self.adjustments = 0
        self.statements = 0
        self._copy = connection.vendor == "postgresql"
        self._file = tempfile.TemporaryFile(mode="w+", encoding="utf-8") if self._copy else None  # noqa: SIM115
        self._batch = []  # model instances (bulk_create) or COPY rows, written every BATCH lines
        self._prefixes = {}  # (kind, period month) -> the row's first three columns, the same for every line

    def add(self, line, *, kind=LineKind.REGULAR, period_month=None, corrects_id=None, rate_fen):
        self.count += 1
        if kind == LineKind.ADJUSTMENT:
            self.adjustments += 1
        period_month = period_month or self.settlement.month
        d = line.days_by_level
        if self._copy:
            prefix = self._prefixes.get((kind, period_month))
            if prefix is None:
                prefix = f"{self.settlement.pk}\t{kind}\t{period_month.isoformat()}\t"
                self._prefixes[(kind, period_month)] = prefix
            caregivers = line.caregiver_days
            if len(caregivers) == 1:
                ((key, days),) = caregivers.items()
                caregivers_json = f'{{"{key}": {days}}}'
            else:
                caregivers_json = json.dumps(caregivers, sort_keys=True)
            self._batch.append(
                f"{prefix}{line.recipient_id}\t{line.town_id}\t"
                f"{line.provider_id}\t{_null(line.contract_id)}\t{_null(line.caregiver_id)}\t{line.level}\t"
                f"{fen_text(rate_fen)}\t{line.days}\t{d['self_care']}\t{d['partial']}\t{d['full']}\t"
                f"{caregivers_json}\t{fen_text(line.amount_fen)}\t{_null(corrects_id)}\n"
            )
            if len(self._batch) >= self.BATCH:
                self._write_rows()
            return
        self._batch.append(
            SettlementLine(
                settlement=self.settlement,
                kind=kind,
                period_month=period_month,
                recipient_id=line.recipient_id,
                town_id=line.town_id,
                provider_id=line.provider_id,
                contract_id=line.contract_id,
                caregiver_id=line.caregiver_id,
                level=line.level,
                rate=from_fen(rate_fen),
                days=line.days,
                days_self_care=d["self_care"],
                days_partial=d["partial"],
                days_full=d["full"],
                caregiver_days=line.caregiver_days,
                amount=from_fen(line.amount_fen),
                corrects_id=corrects_id,
            )
        )
        if len(self._batch) >= self.BATCH:
            self._flush_batch()

    def _write_rows(self):
        self._file.write("".join(self._batch))
        self._batch = []

    def _flush_batch(self):
        if self._batch:
            SettlementLine.objects.bulk_create(self._batch, batch_size=self.BATCH)
            self.statements += 1
            self._batch = []

    def discard(self):
        self._batch = []
        if self._file is not None and not self._file.closed:
            self._file.close()

    def close(self):
        """Write what is left, then check the references of every line written (one statement more)."""
        if not self._copy:
            self._flush_batch()
        else:
            try:
                if self.count:
                    self._write_rows()
                    self._file.seek(0)
                    # counted by the writer (`statements`), as the ORM batches are
                    copy_from("billing_settlementline", _COLUMNS, self._file, logged=False)
                    self.statements += 1
            finally:
                self._file.close()
        if self.count:
            check_references(self.settlement.pk)


class Progress(SideWriter):
    """The run's state and progress on the settlement row while it runs, written beside the computation's own
    transaction (shenxian_care.progress.SideWriter) so that others see them although the computation is one
    transaction. Kept on the settlement row, not in JobProgress, because the run state (running since when,
    failed why) belongs to the month's settlement."""

    EVERY = 5000

    def __init__(self, settlement):
        super().__init__()
        self.settlement_id = settlement.pk
        self.done = 0
        self.total = 0
        # The run beats from now until close(): one whose worker is killed shows as interrupted within the lease.
        self._lease = Lease(settlement)

    def close(self):
        self._lease.close()
        super().close()

    def _write(self, **values):
        if not self.beside:
            Settlement.objects.filter(pk=self.settlement_id).update(**values)
            return
        columns = ", ".join(f"{name} = %s" for name in values)
        # SKIP LOCKED: progress is best effort and must never wait on the computing transaction
        # (which holds the row if it already wrote it, e.g. when run inside an outer transaction).
        self.execute(
            f"UPDATE billing_settlement SET {columns} WHERE id IN "  # noqa: S608  # nosec B608 - names are ours
            "(SELECT id FROM billing_settlement WHERE id = %s FOR UPDATE SKIP LOCKED)",
            [*values.values(), self.settlement_id],
        )

    def start(self, total):
        self.total = total
        self._write(
            run_state=RunState.RUNNING,
            rerun_requested=False,
            progress_done=0,
            progress_total=total,
            run_started_at=timezone.now(),
            run_finished_at=None,
            run_error="",
        )

    def tick(self):
        self.done += 1
        if self.done % self.EVERY == 0:
            self._write(progress_done=self.done)
