"""`manage.py settle`, the beat task, and the month lock."""

import datetime
import threading
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from billing.models import RunState, Settlement, SettlementStatus
from billing.tasks import settlement_draft_previous_month_task
from shenxian_care.exceptions import ApplicationError

from .conftest import confirm_month, waive_no_visit_proposals

pytestmark = pytest.mark.django_db


def test_settle_command_drafts_then_confirms(billed, bureau_user, capsys):
    billed()

    call_command("settle", "--month", "2024-03")
    settlement = Settlement.objects.get(month=datetime.date(2024, 3, 1))
    assert (settlement.status, settlement.net) == (SettlementStatus.DRAFT, Decimal("189.00"))
    with pytest.raises(CommandError, match="扣款建议待决定"):
        call_command("settle", "--month", "2024-03", "--confirm", "--by", bureau_user.username)
    waive_no_visit_proposals(bureau_user, settlement)

    call_command("settle", "--month", "2024-03", "--confirm", "--by", bureau_user.username)
    settlement.refresh_from_db()
    assert (settlement.status, settlement.confirmed_by) == (SettlementStatus.CONFIRMED, bureau_user)
    assert "实付 189.00" in capsys.readouterr().out

    with pytest.raises(CommandError, match="已确认"):
        call_command("settle", "--month", "2024-03")
    with pytest.raises(CommandError, match="YYYY-MM"):
        call_command("settle", "--month", "March")


def test_beat_task_drafts_the_previous_month(billed):
    billed()

    result = settlement_draft_previous_month_task.delay(today="2024-04-01").get()

    settlement = Settlement.objects.get(month=datetime.date(2024, 3, 1))
    assert result == {"month": "2024-03", "settlement": settlement.pk, "net": "189.00"}
    assert (settlement.status, settlement.run_state) == (SettlementStatus.DRAFT, RunState.DONE)


def test_beat_task_reports_a_month_it_may_not_recompute(billed, bureau_user):
    from billing.actions import settlement_compute

    billed()
    march = settlement_compute(actor=bureau_user, month=datetime.date(2024, 3, 1))
    confirm_month(actor=bureau_user, settlement=march)

    result = settlement_draft_previous_month_task.delay(today="2024-04-01").get()

    assert "已确认" in result["error"]


def test_a_failure_leaves_no_half_written_month(billed, monkeypatch):
    from billing import actions, engine

    billed()
    billed()
    calls = {"n": 0}
    original = engine._ProviderMonth.add_regular

    def crash_on_second(self, line, *args):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk full")
        return original(self, line, *args)

    monkeypatch.setattr(engine._ProviderMonth, "add_regular", crash_on_second)
    with pytest.raises(RuntimeError):
        actions.settlement_compute(actor=None, month=datetime.date(2024, 3, 1))

    settlement = Settlement.objects.get(month=datetime.date(2024, 3, 1))
    assert settlement.lines.count() == 0
    assert settlement.provider_totals.count() == 0
    assert (settlement.run_state, settlement.gross) == (RunState.FAILED, Decimal("0.00"))
    assert "disk full" in settlement.run_error


@pytest.mark.skipif(connection.vendor != "postgresql", reason="advisory locks are PostgreSQL's")
@pytest.mark.django_db(transaction=True)
def test_two_settlements_of_the_same_month_never_run_at_once(billed):
    from django.db import connections, transaction

    from billing import persistence
    from billing.actions import settlement_compute

    billed()
    holding, release = threading.Event(), threading.Event()

    def hold_the_month():
        try:
            with transaction.atomic():
                persistence.lock_month(datetime.date(2024, 3, 1))
                holding.set()
                release.wait(10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=hold_the_month)
    thread.start()
    assert holding.wait(10)
    try:
        with pytest.raises(ApplicationError, match="正在计算"):
            settlement_compute(actor=None, month=datetime.date(2024, 3, 1))
    finally:
        release.set()
        thread.join()
    assert settlement_compute(actor=None, month=datetime.date(2024, 3, 1)).net == Decimal("189.00")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the side connection is PostgreSQL's")
@pytest.mark.django_db(transaction=True)
def test_progress_is_visible_to_others_while_the_month_runs(billed, monkeypatch):
    from django.db import DEFAULT_DB_ALIAS, connections

    from billing import persistence
    from billing.actions import settlement_compute

    for _ in range(3):
        billed()
    seen = []
    original = persistence.Progress.tick
    monkeypatch.setattr(persistence.Progress, "EVERY", 1)

    def tick_and_look(self):
        original(self)
        if self.done == 2:
            other = connections.create_connection(DEFAULT_DB_ALIAS)
            try:
                with other.cursor() as cursor:
                    cursor.execute("SELECT run_state, progress_done, progress_total FROM billing_settlement")
                    seen.append(cursor.fetchone())
                    cursor.execute("SELECT COUNT(*) FROM billing_settlementline")
                    seen.append(cursor.fetchone())
            finally:
                other.close()

    monkeypatch.setattr(persistence.Progress, "tick", tick_and_look)
    settlement = settlement_compute(actor=None, month=datetime.date(2024, 3, 1))

    # another connection saw the run in progress, and no line yet (the lines commit all at once)
    assert seen == [("running", 2, 3), (0,)]
    settlement.refresh_from_db()
    assert (settlement.run_state, settlement.progress_done) == (RunState.DONE, 3)
