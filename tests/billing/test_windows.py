"""Worked examples of the days that are paid (shared/domain.md "Billing rules"): a day is paid only when the
recipient is in support, the agreement is in force (from the later of its start and the last of the four
signatures) and the provider has a purchase contract in force that day for the agreement's town. Also: months
in order, corrections of any age, and a change asked for while a month is computing."""

import datetime
from decimal import Decimal

import pytest

from billing.actions import (
    settlement_compute,
    settlement_compute_request,
    settlement_discard,
)
from billing.models import RunState, Settlement, SettlementLine
from contracts.models import ContractStatus
from shenxian_care.exceptions import ApplicationError
from tests.factories import AgreementFactory, CaregiverFactory, ContractFactory, RecipientFactory, town

from .conftest import confirm_month, line_of

D = datetime.date
pytestmark = pytest.mark.django_db


def _agreement(provider, contract, **kwargs):
    recipient = RecipientFactory(entry_date=D(2024, 1, 1), level=kwargs.pop("level", "self_care"))
    return AgreementFactory(
        recipient=recipient,
        provider=provider,
        contract=contract,
        caregiver=CaregiverFactory(provider=provider),
        **kwargs,
    )


def test_an_agreement_that_outlives_its_contract_is_not_paid_past_the_contract_end(settle, provider):
    """Contract ends 15 March 2024; the agreement runs on. March pays 15 of 31 days: 189 × 15 / 31 = 91.451…
    → 91.45; April pays nothing."""
    contract = ContractFactory(provider=provider, start_date=D(2024, 1, 1), end_date=D(2024, 3, 15))
    agreement = _agreement(provider, contract)

    march = settle(2024, 3)

    line = line_of(march, agreement.recipient)
    assert (line.days, line.amount, line.contract_id) == (15, Decimal("91.45"), contract.pk)


def test_a_terminated_contract_is_paid_up_to_its_termination_date_and_not_after(settle, provider, bureau_user):
    """Terminated with 10 March 2024 as its last day (the one-vote veto at any time of the year): 10 of 31 days
    of 626.00 = 201.935… → 201.94. The month before is paid in full although the contract reads 已终止 now."""
    contract = ContractFactory(provider=provider)
    agreement = _agreement(provider, contract, level="full")
    ContractFactory._meta.model.objects.filter(pk=contract.pk).update(
        status=ContractStatus.TERMINATED, terminated_on=D(2024, 3, 10), termination_reason="提供虚假数据"
    )

    february = settle(2024, 2)
    confirm_month(actor=bureau_user, settlement=february)
    march = settle(2024, 3)

    assert line_of(february, agreement.recipient).amount == Decimal("626.00")
    assert (line_of(march, agreement.recipient).days, line_of(march, agreement.recipient).amount) == (
        10,
        Decimal("201.94"),
    )


def test_a_renewed_contract_carries_the_agreement_on_without_a_gap(settle, provider):
    """Old contract to 15 March, the renewal from 16 March: the whole month is paid, 189.00, and the line names
    the contract in force on its last day."""
    old = ContractFactory(provider=provider, start_date=D(2024, 1, 1), end_date=D(2024, 3, 15))
    renewal = ContractFactory(provider=provider, start_date=D(2024, 3, 16), end_date=D(2025, 3, 15))
    agreement = _agreement(provider, old)

    line = line_of(settle(2024, 3), agreement.recipient)

    assert (line.days, line.amount, line.contract_id) == (31, Decimal("189.00"), renewal.pk)


def test_a_contract_for_other_towns_pays_nothing(settle, provider):
    """The provider's only contract serves 朝城镇; the agreement is in 燕塔街道: no day is paid."""
    contract = ContractFactory(provider=provider, towns=[town("朝城镇")])
    agreement = _agreement(provider, contract)

    settle(2024, 3)

    assert not SettlementLine.objects.filter(recipient=agreement.recipient).exists()


def test_days_before_the_last_signature_are_not_paid(settle, provider):
    """Start 1 March 2024, but the last of the four parties signed on 11 March: 21 of 31 days,
    313 × 21 / 31 = 212.032… → 212.03."""
    contract = ContractFactory(provider=provider)
    agreement = _agreement(provider, contract, level="partial", start_date=D(2024, 3, 1), signed_on=D(2024, 3, 11))

    line = line_of(settle(2024, 3), agreement.recipient)

    assert (line.days, line.amount) == (21, Decimal("212.03"))


def test_a_death_reported_a_year_late_corrects_the_frozen_month_however_old(settle, billed, bureau_user):
    """Died 11 February 2024 (exit date 12 February: the day of death is paid). Months February 2024 to
    January 2025 were confirmed in full; February 2025's settlement corrects every one of them: February 2024
    keeps 11 of 29 days, 189 × 11 / 29 = 71.689… → 71.69, so -117.31; March 2024 to January 2025 are reversed
    in full, 11 × -189.00. Nothing is dropped, whatever the age."""
    recipient = billed()
    month = D(2024, 2, 1)
    while month <= D(2025, 1, 1):
        confirm_month(actor=bureau_user, settlement=settle(month.year, month.month))
        month = (month + datetime.timedelta(days=32)).replace(day=1)
    type(recipient).objects.filter(pk=recipient.pk).update(exit_date=D(2024, 2, 12))

    february_2025 = settle(2025, 2)

    adjustments = {
        line.period_month: line.amount
        for line in SettlementLine.objects.filter(settlement=february_2025, kind="adjustment")
    }
    assert adjustments[D(2024, 2, 1)] == Decimal("-117.31")
    assert len(adjustments) == 12
    assert all(adjustments[m] == Decimal("-189.00") for m in adjustments if m != D(2024, 2, 1))
    assert not SettlementLine.objects.filter(settlement=february_2025, kind="held").exists()
    assert february_2025.gross == Decimal("-117.31") - 11 * Decimal("189.00")


def test_a_month_is_settled_only_after_it_has_ended(billed):
    billed()
    with pytest.raises(ApplicationError, match="尚未结束"):
        settlement_compute(actor=None, month=D(2024, 3, 1), today=D(2024, 3, 31))
    assert settlement_compute(actor=None, month=D(2024, 3, 1), today=D(2024, 4, 1)).run_state == RunState.DONE


def test_a_later_month_waits_for_the_month_before_and_a_draft_can_be_discarded(settle, billed, bureau_user):
    """Settling June while March is a draft is refused (and would have locked March out before); the March
    draft can be thrown away, and then the first month with data may be any month."""
    billed()
    march = settle(2024, 3)
    with pytest.raises(ApplicationError, match="请先结算并确认2024年04月"):
        settle(2024, 5)
    with pytest.raises(ApplicationError, match="请先结算并确认2024年03月"):
        settle(2024, 4)

    settlement_discard(actor=bureau_user, settlement=march)

    assert not Settlement.objects.exists()
    assert not SettlementLine.objects.exists()
    assert settle(2024, 6).gross == Decimal("189.00")
    with pytest.raises(ApplicationError, match="更早"):
        settle(2024, 5)


def test_a_confirmed_month_cannot_be_discarded(settle, billed, bureau_user):
    billed()
    march = confirm_month(actor=bureau_user, settlement=settle(2024, 3))
    with pytest.raises(ApplicationError, match="草稿"):
        settlement_discard(actor=bureau_user, settlement=march)


# On PostgreSQL the progress and run state are written from a side connection: committed data, as in production.
@pytest.mark.django_db(transaction=True)
def test_a_recompute_asked_while_the_month_is_computing_runs_after_it(settle, billed, bureau_user, monkeypatch):
    """The bureau asks again while March is computing: the request is kept (not dropped), confirming is refused
    until the run with the latest data has finished, and that run follows at once."""
    billed()
    march = settle(2024, 3)
    Settlement.objects.filter(pk=march.pk).update(run_state=RunState.RUNNING)
    queued = []
    monkeypatch.setattr("billing.actions.enqueue", lambda *args: queued.append(args))

    running = settlement_compute_request(actor=bureau_user, month=D(2024, 3, 1))

    march.refresh_from_db()
    assert running is True and march.rerun_requested
    assert queued == [("billing.tasks.settlement_compute_task", "2024-03-01", bureau_user.pk)]
    Settlement.objects.filter(pk=march.pk).update(run_state=RunState.DONE)
    with pytest.raises(ApplicationError, match="重新计算请求"):
        confirm_month(actor=bureau_user, settlement=march)

    # a request arriving while a computation runs makes that computation queue one more run when it ends
    from billing import actions

    original = actions.compute

    def compute_while_asked_again(settlement, table, actor, progress, stats):
        started = progress.start

        def start_then_asked_again(total):
            started(total)
            settlement_compute_request(actor=bureau_user, month=D(2024, 3, 1))

        progress.start = start_then_asked_again
        original(settlement, table, actor, progress, stats)

    monkeypatch.setattr(actions, "compute", compute_while_asked_again)
    Settlement.objects.filter(pk=march.pk).update(rerun_requested=False)
    queued.clear()
    settlement_compute(actor=bureau_user, month=D(2024, 3, 1))
    march.refresh_from_db()
    assert march.rerun_requested
    assert len(queued) == 2  # the request's own task, and the follow-up the finished run queued


# On PostgreSQL the progress and run state are written from a side connection: committed data, as in production.
@pytest.mark.django_db(transaction=True)
def test_the_rerun_clears_the_request_and_the_month_can_be_confirmed(settle, billed, bureau_user):
    billed()
    march = settle(2024, 3)
    Settlement.objects.filter(pk=march.pk).update(rerun_requested=True)

    settle(2024, 3)  # in-process: the follow-up run happens inside this call

    march.refresh_from_db()
    assert not march.rerun_requested and march.run_state == RunState.DONE
    assert confirm_month(actor=bureau_user, settlement=march).status == "confirmed"


def test_the_bureau_discards_a_draft_from_its_page(settle, billed, client_as, bureau_user, finance_user):
    """A draft computed by mistake is thrown away from the month's page; finance has no such button or power."""
    from django.urls import reverse

    billed()
    march = settle(2024, 3)
    url = reverse("billing:settlement_discard", args=[march.pk])
    assert (
        "作废草稿" in client_as(bureau_user).get(reverse("billing:settlement_detail", args=[march.pk])).content.decode()
    )
    assert client_as(finance_user).post(url).status_code == 403
    assert Settlement.objects.filter(pk=march.pk).exists()

    response = client_as(bureau_user).post(url)

    assert response.status_code == 302 and not Settlement.objects.filter(pk=march.pk).exists()
