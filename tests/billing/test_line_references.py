"""The line table keeps no database foreign keys (a province month's half a million lines would be checked row by
row at commit): the settlement run checks every reference of the lines it wrote, set-based, before it commits."""

import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError

from billing import persistence
from billing.models import RunState, Settlement, SettlementLine
from tests.factories import UserFactory

from .conftest import confirm_month

pytestmark = pytest.mark.django_db


def test_every_reference_of_a_line_is_checked():
    # the check is read from the model: a reference added to the line later is checked too
    checked = {column for column, _query in persistence.REFERENCE_CHECKS}
    assert checked == {
        "settlement_id", "recipient_id", "town_id", "provider_id", "contract_id", "caregiver_id", "corrects_id"
    }  # fmt: skip


def test_a_run_whose_lines_name_what_does_not_exist_keeps_nothing(settle, billed, monkeypatch):
    # given two recipients billed in March, and a run that (by a fault) writes one line for a recipient no one has
    kept = billed()
    gone = billed()
    add = persistence.LineWriter.add

    def faulty(self, line, **kwargs):
        if line.recipient_id == gone.pk:
            line.recipient_id = gone.pk + 10_000
        return add(self, line, **kwargs)

    monkeypatch.setattr(persistence.LineWriter, "add", faulty)

    # when March is settled
    with pytest.raises(IntegrityError, match=r"recipient_id 1 行"):
        settle(2024, 3)

    # then nothing of the run is kept, and the month says why it failed
    settlement = Settlement.objects.get(month=datetime.date(2024, 3, 1))
    assert settlement.run_state == RunState.FAILED
    assert "结算明细引用了不存在的记录" in settlement.run_error
    assert not SettlementLine.objects.exists()

    # and once the fault is gone the month settles with both lines
    monkeypatch.setattr(persistence.LineWriter, "add", add)
    settlement = settle(2024, 3)
    assert set(SettlementLine.objects.values_list("recipient_id", flat=True)) == {kept.pk, gone.pk}
    assert settlement.run_state == RunState.DONE


@pytest.mark.parametrize(
    ("column", "value"),
    [("town_id", 10_000), ("provider_id", 10_000), ("contract_id", 10_000), ("caregiver_id", 10_000)],
)
def test_each_reference_is_checked_and_named(settle, billed, monkeypatch, column, value):
    billed()
    add = persistence.LineWriter.add

    def faulty(self, line, **kwargs):
        setattr(line, column, getattr(line, column) + value)
        return add(self, line, **kwargs)

    monkeypatch.setattr(persistence.LineWriter, "add", faulty)

    with pytest.raises(IntegrityError, match=rf"{column} 1 行"):
        settle(2024, 3)
    assert not SettlementLine.objects.exists()


def test_a_correction_naming_a_frozen_line_that_does_not_exist_is_refused(settle, billed, monkeypatch):
    # given March confirmed and then changed, so April corrects March's line
    recipient = billed()
    march = settle(2024, 3)
    confirm_month(actor=UserFactory(role="bureau"), settlement=march)
    recipient.exit_date = datetime.date(2024, 3, 20)
    recipient.save()
    add = persistence.LineWriter.add

    def faulty(self, line, *, corrects_id=None, **kwargs):
        return add(self, line, corrects_id=corrects_id + 10_000 if corrects_id else None, **kwargs)

    monkeypatch.setattr(persistence.LineWriter, "add", faulty)

    # when April is settled with the correction pointing nowhere, it is refused
    with pytest.raises(IntegrityError, match=r"corrects_id 1 行"):
        settle(2024, 4)
    assert not SettlementLine.objects.filter(settlement__month=datetime.date(2024, 4, 1)).exists()


def test_lines_written_in_batches_are_all_stored_once(settle, billed, monkeypatch):
    # given five recipients billed in March, 自理 all month (189 yuan each), and a writer that writes every two lines
    recipients = [billed() for _ in range(5)]
    monkeypatch.setattr(persistence.LineWriter, "BATCH", 2)

    # when March is settled
    settlement = settle(2024, 3)

    # then every line is stored once, whole: two full batches and the rest at the end
    assert settlement.line_count == 5
    rows = sorted(SettlementLine.objects.values_list("recipient_id", "settlement_id", "period_month", "amount"))
    assert rows == [(r.pk, settlement.pk, datetime.date(2024, 3, 1), Decimal("189.00")) for r in recipients]
