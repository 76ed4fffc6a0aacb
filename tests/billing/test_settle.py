"""Worked examples of the billing rules (shared/domain.md "Billing rules"), each to the fen."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.actions import settlement_compute
from billing.models import RunState, SettlementLine, SettlementStatus
from contracts.models import AgreementStatus, PayeeMode
from recipients.models import LevelApproval, LevelSource
from shenxian_care.exceptions import ApplicationError
from tests.factories import ProviderFactory, UserFactory

from .conftest import confirm_month, line_of

D = datetime.date
pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("level", "expected"), [("self_care", "189.00"), ("partial", "313.00"), ("full", "626.00")])
def test_full_month_at_each_level_is_exactly_the_rate(settle, billed, level, expected):
    recipient = billed(level=level)

    settlement = settle(2024, 3)

    line = line_of(settlement, recipient)
    assert line.amount == Decimal(expected)
    assert line.days == 31
    assert getattr(line, f"days_{level}") == 31
    assert line.rate == Decimal(expected)
    assert settlement.gross == Decimal(expected)
    assert settlement.run_state == RunState.DONE


def test_entry_on_the_10th_bills_22_of_31_days(settle, billed):
    recipient = billed(entry=D(2024, 3, 10))

    line = line_of(settle(2024, 3), recipient)

    assert line.days == 22
    assert line.amount == Decimal("134.13")  # 189 × 22 / 31 = 134.129…


def test_exit_on_the_20th_is_the_first_day_not_billed(settle, billed):
    recipient = billed(exit=D(2024, 3, 20))

    line = line_of(settle(2024, 3), recipient)

    assert line.days == 19
    assert line.amount == Decimal("115.84")  # 189 × 19 / 31 = 115.838…


def test_level_change_mid_month_splits_the_days_and_rounds_once(settle, billed, bureau_user):
    recipient = billed(level="partial")
    LevelApproval.objects.create(
        recipient=recipient,
        level="full",
        effective_date=D(2024, 3, 16),
        source=LevelSource.ASSESSMENT,
        approved_by=bureau_user,
    )

    line = line_of(settle(2024, 3), recipient)

    assert (line.days_partial, line.days_full, line.days_self_care) == (15, 16, 0)
    assert line.level == "full"
    # (313 × 15 + 626 × 16) / 31 = 474.548… → 474.55 (rounding each part would give 151.45 + 323.10 = 474.55 too,
    # so check a case where it differs below)
    assert line.amount == Decimal("474.55")


def test_rounding_happens_once_per_line_not_per_segment(settle, billed, bureau_user):
    recipient = billed(level="self_care")
    LevelApproval.objects.create(
        recipient=recipient,
        level="partial",
        effective_date=D(2024, 3, 2),
        source=LevelSource.ASSESSMENT,
        approved_by=bureau_user,
    )
    LevelApproval.objects.create(
        recipient=recipient,
        level="self_care",
        effective_date=D(2024, 3, 3),
        source=LevelSource.ASSESSMENT,
        approved_by=bureau_user,
    )

    line = line_of(settle(2024, 3), recipient)

    # 189 × 30/31 = 182.903…, 313 × 1/31 = 10.096… → once: 193/… = (5670 + 313)/31 = 193.000… → 193.00
    # (per segment it would be 182.90 + 10.10 = 193.00; exact sum 5983/31 = 193.0)
    assert (line.days_self_care, line.days_partial) == (30, 1)
    assert line.amount == Decimal("193.00")


def test_latest_approval_wins_on_the_same_effective_date(settle, billed, bureau_user):
    recipient = billed(level="self_care")
    for level in ("full", "partial"):
        LevelApproval.objects.create(
            recipient=recipient,
            level=level,
            effective_date=D(2024, 3, 1),
            source=LevelSource.ASSESSMENT,
            approved_by=bureau_user,
        )

    assert line_of(settle(2024, 3), recipient).amount == Decimal("313.00")


def test_february_in_a_leap_year_has_29_days(settle, billed):
    full = billed()
    late = billed(entry=D(2024, 2, 10))

    settlement = settle(2024, 2)

    assert line_of(settlement, full).amount == Decimal("189.00")
    assert line_of(settlement, late).days == 20
    assert line_of(settlement, late).amount == Decimal("130.34")  # 189 × 20 / 29 = 130.344…


def test_february_in_a_common_year_has_28_days(settle, billed):
    full = billed(level="full")
    half = billed(entry=D(2025, 2, 15))

    settlement = settle(2025, 2)

    assert line_of(settlement, full).amount == Decimal("626.00")
    assert line_of(settlement, half).amount == Decimal("94.50")  # 189 × 14 / 28


def test_31_day_month_partial(settle, billed):
    recipient = billed(level="partial", exit=D(2024, 7, 17))

    line = line_of(settle(2024, 7), recipient)

    assert line.days == 16
    assert line.amount == Decimal("161.55")  # 313 × 16 / 31 = 161.548…


def test_agreement_starting_mid_month_bills_from_its_start(settle, billed):
    recipient = billed(level="full", start=D(2024, 3, 5))

    line = line_of(settle(2024, 3), recipient)

    assert line.days == 27
    assert line.amount == Decimal("545.23")  # 626 × 27 / 31 = 545.225…


def test_recipient_without_agreement_is_not_billed(settle, billed):
    billed(provider=None)
    draft = billed(status=AgreementStatus.DRAFT)

    settlement = settle(2024, 3)

    assert not SettlementLine.objects.filter(settlement=settlement).exists()
    assert settlement.gross == Decimal("0.00")
    assert draft.pk


def test_takeover_splits_the_month_between_two_providers(settle, billed, provider, other_provider):
    recipient = billed(end=D(2024, 3, 14), status=AgreementStatus.TERMINATED)
    billed_new = billed  # same recipient, second agreement with the new provider
    from tests.factories import AgreementFactory, CaregiverFactory, ContractFactory

    AgreementFactory(
        recipient=recipient,
        provider=other_provider,
        contract=ContractFactory(provider=other_provider),
        caregiver=CaregiverFactory(provider=other_provider),
        start_date=D(2024, 3, 15),
    )
    del billed_new

    settlement = settle(2024, 3)

    old = line_of(settlement, recipient, provider)
    new = line_of(settlement, recipient, other_provider)
    assert (old.days, old.amount) == (14, Decimal("85.35"))  # 189 × 14 / 31 = 85.354…
    assert (new.days, new.amount) == (17, Decimal("103.65"))  # 189 × 17 / 31 = 103.645…
    totals = {t.provider_id: t.net for t in settlement.provider_totals.all()}
    assert totals == {provider.pk: Decimal("85.35"), other_provider.pk: Decimal("103.65")}


def test_deduction_larger_than_the_month_carries_forward(settle, billed, provider, bureau_user):
    from .factories import DeductionFactory

    billed()
    deduction = DeductionFactory(
        provider=provider, contract=provider.contracts.first(), amount=Decimal("500.00"), verified_on=D(2024, 3, 10)
    )

    march = settle(2024, 3)
    pm = march.provider_totals.get()
    assert (pm.gross, pm.deductions_applied, pm.net, pm.carried_forward) == (
        Decimal("189.00"),
        Decimal("189.00"),
        Decimal("0.00"),
        Decimal("311.00"),
    )
    assert not march.payments.exists()
    confirm_month(actor=bureau_user, settlement=march)

    april = settle(2024, 4)
    pa = april.provider_totals.get()
    assert (pa.deductions_due, pa.deductions_applied, pa.net, pa.carried_forward) == (
        Decimal("311.00"),
        Decimal("189.00"),
        Decimal("0.00"),
        Decimal("122.00"),
    )
    confirm_month(actor=bureau_user, settlement=april)

    may = settle(2024, 5)
    pmay = may.provider_totals.get()
    assert (pmay.deductions_applied, pmay.net, pmay.carried_forward) == (
        Decimal("122.00"),
        Decimal("67.00"),
        Decimal("0.00"),
    )
    applied = [a.amount_applied for a in deduction_applications(deduction)]
    assert applied == [Decimal("189.00"), Decimal("189.00"), Decimal("122.00")]
    assert sum(applied) == deduction.amount


def deduction_applications(deduction):
    from billing.models import DeductionApplication

    return DeductionApplication.objects.filter(deduction=deduction).order_by("settlement__month")


def test_deduction_verified_next_month_is_not_applied_yet(settle, billed, provider):
    from .factories import DeductionFactory

    billed()
    DeductionFactory(provider=provider, contract=provider.contracts.first(), verified_on=D(2024, 4, 1))

    assert settle(2024, 3).provider_totals.get().deductions_applied == Decimal("0.00")


def test_caregiver_payee_mode_pays_each_caregiver_for_their_days(settle, billed, bureau_user):
    from tests.factories import CaregiverFactory, ContractFactory

    from .factories import DeductionFactory

    caring = ProviderFactory()
    contract = ContractFactory(provider=caring, payee_mode=PayeeMode.CAREGIVERS)
    first, second = CaregiverFactory(provider=caring), CaregiverFactory(provider=caring)
    billed(provider=caring, caregiver=first)
    billed(provider=caring, caregiver=first, level="partial")
    billed(provider=caring, caregiver=second, level="full")

    settlement = settle(2024, 3)
    payments = {p.caregiver_id: p.amount for p in settlement.payments.all()}
    assert payments == {first.pk: Decimal("502.00"), second.pk: Decimal("626.00")}
    assert {p.days for p in settlement.payments.all()} == {62, 31}

    # with a deduction the net is split in proportion, largest remainder to the fen
    DeductionFactory(provider=caring, contract=contract, amount=Decimal("100.00"), verified_on=D(2024, 3, 2))
    settlement = settle(2024, 3)
    payments = {p.caregiver_id: p.amount for p in settlement.payments.all()}
    # 1028 × 502/1128 = 457.496… (floor 457.49, remainder .645 fen), 1028 × 626/1128 = 570.503… (floor 570.50)
    assert payments == {first.pk: Decimal("457.50"), second.pk: Decimal("570.50")}
    assert sum(payments.values()) == settlement.net == Decimal("1028.00")


def test_a_deduction_for_one_recipient_falls_on_that_recipients_caregiver(settle, billed):
    """Caregivers paid directly: 甲 serves two people (189.00 + 313.00 = 502.00), 乙 one 失能 (626.00). A 100.00
    deduction verified for 乙's recipient falls on 乙 alone: 甲 502.00, 乙 526.00. A further provider-wide 112.80
    is then shared pro rata to what is left (502 : 526): 甲 502 − 112.80 × 502/1028 = 446.917… → 446.92,
    乙 526 − 112.80 × 526/1028 = 468.284… → 468.28; together the net, 915.20."""
    from tests.factories import CaregiverFactory, ContractFactory

    from .factories import DeductionFactory

    caring = ProviderFactory()
    contract = ContractFactory(provider=caring, payee_mode=PayeeMode.CAREGIVERS)
    first, second = CaregiverFactory(provider=caring), CaregiverFactory(provider=caring)
    billed(provider=caring, caregiver=first)
    billed(provider=caring, caregiver=first, level="partial")
    served_by_second = billed(provider=caring, caregiver=second, level="full")
    DeductionFactory(
        provider=caring,
        contract=contract,
        amount=Decimal("100.00"),
        recipient=served_by_second,
        verified_on=D(2024, 3, 2),
    )

    settlement = settle(2024, 3)
    payments = {p.caregiver_id: p.amount for p in settlement.payments.all()}
    assert payments == {first.pk: Decimal("502.00"), second.pk: Decimal("526.00")}

    DeductionFactory(provider=caring, contract=contract, amount=Decimal("112.80"), verified_on=D(2024, 3, 3))
    settlement = settle(2024, 3)
    payments = {p.caregiver_id: p.amount for p in settlement.payments.all()}
    assert payments == {first.pk: Decimal("446.92"), second.pk: Decimal("468.28")}
    assert sum(payments.values()) == settlement.net == Decimal("915.20")


def test_provider_payee_mode_one_payment_to_the_provider_account(settle, billed, provider):
    billed()
    billed(level="full")

    payment = settle(2024, 3).payments.get()

    assert (payment.payee_kind, payment.amount, payment.account_number) == (
        "provider",
        Decimal("815.00"),
        provider.bank_account_number,
    )


def test_backdated_exit_after_confirmation_becomes_an_adjustment_next_month(settle, billed, bureau_user, provider):
    leaving = billed()
    staying = billed()
    march = settle(2024, 3)
    confirm_month(actor=bureau_user, settlement=march)
    frozen = line_of(march, leaving)

    # the exit is approved late, effective 20 March
    type(leaving).objects.filter(pk=leaving.pk).update(exit_date=D(2024, 3, 20))
    april = settle(2024, 4)

    frozen.refresh_from_db()
    assert frozen.amount == Decimal("189.00")  # the frozen month never changes
    march.refresh_from_db()
    assert march.gross == Decimal("378.00")
    adjustment = SettlementLine.objects.get(settlement=april, kind="adjustment")
    assert adjustment.corrects_id == frozen.pk
    assert adjustment.period_month == D(2024, 3, 1)
    assert (adjustment.days, adjustment.days_self_care) == (-12, -12)
    assert adjustment.amount == Decimal("-73.16")  # 115.84 − 189.00
    assert line_of(april, staying).amount == Decimal("189.00")
    assert not SettlementLine.objects.filter(settlement=april, recipient=leaving, kind="regular").exists()
    assert april.gross == Decimal("115.84")
    assert april.net == Decimal("115.84")

    # recomputing April again does not repeat the adjustment; confirming it and settling May adds nothing
    april = settle(2024, 4)
    assert SettlementLine.objects.filter(settlement=april, kind="adjustment").count() == 1
    confirm_month(actor=bureau_user, settlement=april)
    may = settle(2024, 5)
    assert not SettlementLine.objects.filter(settlement=may, kind="adjustment").exists()


def test_backdated_level_change_and_late_deduction_after_confirmation(settle, billed, bureau_user, provider):
    from .factories import DeductionFactory

    recipient = billed(level="partial")
    march = settle(2024, 3)
    confirm_month(actor=bureau_user, settlement=march)

    LevelApproval.objects.create(
        recipient=recipient,
        level="full",
        effective_date=D(2024, 3, 16),
        source=LevelSource.ASSESSMENT,
        approved_by=bureau_user,
    )
    late = DeductionFactory(provider=provider, contract=provider.contracts.first(), verified_on=D(2024, 3, 31))
    april = settle(2024, 4)

    adjustment = SettlementLine.objects.get(settlement=april, kind="adjustment")
    assert (adjustment.days_partial, adjustment.days_full, adjustment.days) == (-16, 16, 0)
    assert adjustment.amount == Decimal("161.55")  # 474.55 − 313.00
    assert adjustment.corrects_id == line_of(march, recipient).pk
    pa = april.provider_totals.get()
    assert pa.gross == Decimal("626.00") + Decimal("161.55")
    assert pa.deductions_applied == late.amount
    assert pa.net == Decimal("687.55")


def test_adjustment_that_empties_a_provider_month_carries_a_deficit(settle, billed, bureau_user, provider):
    leaving = billed(level="full")
    march = settle(2024, 3)
    confirm_month(actor=bureau_user, settlement=march)

    type(leaving).objects.filter(pk=leaving.pk).update(exit_date=D(2024, 3, 2))
    april = settle(2024, 4)
    pa = april.provider_totals.get()
    # 626 × 1/31 = 20.19 should have been paid; 605.81 is owed back and recovered from later months
    assert (pa.gross, pa.net, pa.deficit_carried) == (Decimal("-605.81"), Decimal("0.00"), Decimal("605.81"))
    confirm_month(actor=bureau_user, settlement=april)
    billed(level="full", entry=D(2024, 5, 1))
    may = settle(2024, 5)
    pm = may.provider_totals.get()
    assert (pm.gross, pm.deficit_brought, pm.net, pm.deficit_carried) == (
        Decimal("626.00"),
        Decimal("605.81"),
        Decimal("20.19"),
        Decimal("0.00"),
    )


def test_recompute_of_a_draft_is_identical(settle, billed, bureau_user, provider):
    from .factories import DeductionFactory

    billed()
    billed(level="partial", entry=D(2024, 3, 7))
    billed(level="full", exit=D(2024, 3, 11))
    DeductionFactory(provider=provider, contract=provider.contracts.first(), amount=Decimal("33.33"))

    def snapshot(settlement):
        settlement.refresh_from_db()
        lines = list(
            SettlementLine.objects.filter(settlement=settlement)
            .order_by("recipient_id", "provider_id")
            .values_list(
                "recipient_id",
                "provider_id",
                "days",
                "days_self_care",
                "days_partial",
                "days_full",
                "amount",
                "caregiver_days",
                "kind",
            )
        )
        payments = list(settlement.payments.values_list("payee_name", "amount"))
        totals = list(settlement.provider_totals.values_list("provider_id", "gross", "deductions_applied", "net"))
        return lines, payments, totals, (settlement.gross, settlement.deductions_applied, settlement.net)

    first = snapshot(settle(2024, 3))
    second = snapshot(settle(2024, 3))

    assert first == second
    assert first[0]


def test_confirmed_month_is_immutable(settle, billed, bureau_user):
    recipient = billed()
    march = settle(2024, 3)
    confirm_month(actor=bureau_user, settlement=march)
    march.refresh_from_db()
    assert (march.status, march.confirmed_by) == (SettlementStatus.CONFIRMED, bureau_user)
    assert march.confirmed_at is not None

    type(recipient).objects.filter(pk=recipient.pk).update(exit_date=D(2024, 3, 2))
    with pytest.raises(ApplicationError, match="已确认"):
        settle(2024, 3)
    with pytest.raises(ApplicationError, match="草稿"):
        confirm_month(actor=bureau_user, settlement=march)

    assert line_of(march, recipient).amount == Decimal("189.00")


def test_months_are_settled_in_order(settle, billed):
    billed()
    settle(2024, 3)
    with pytest.raises(ApplicationError, match="请先结算并确认2024年03月"):
        settle(2024, 4)
    with pytest.raises(ApplicationError, match="更早"):
        settle(2024, 2)


def test_only_bureau_computes_and_confirms(billed, finance_user, provider_user):
    from django.core.exceptions import PermissionDenied

    billed()
    for user in (finance_user, provider_user):
        with pytest.raises(PermissionDenied):
            settlement_compute(actor=user, month=D(2024, 3, 1))


def test_query_count_does_not_depend_on_the_number_of_recipients(billed, bureau_user):
    def queries_for(month, n):
        for _ in range(n):
            billed(entry=month)
        with CaptureQueriesContext(connection) as ctx:
            settlement_compute(actor=bureau_user, month=month)
        return len(ctx.captured_queries)

    one = queries_for(D(2024, 3, 1), 1)
    assert SettlementLine.objects.count() == 1
    # next month: 1 + 6 recipients (the first month stays a draft, so compute a fresh one on its own)
    from billing.models import Settlement

    Settlement.objects.all().delete()
    many = queries_for(D(2024, 3, 1), 6)

    assert SettlementLine.objects.count() == 7
    assert one == many


def test_users_are_recorded(settle, billed, bureau_user):
    billed()
    settlement = settlement_compute(actor=bureau_user, month=D(2024, 3, 1))
    assert settlement.computed_by == bureau_user
    assert settlement.progress_done == settlement.progress_total == 1
    assert UserFactory  # factories importable for other modules


def test_a_fully_reversed_month_is_corrected_once(settle, billed, bureau_user):
    # given a confirmed March, then an exit approved late with effect from 1 March (no day in support)
    recipient = billed()
    march = settle(2024, 3)
    confirm_month(actor=bureau_user, settlement=march)
    type(recipient).objects.filter(pk=recipient.pk).update(exit_date=D(2024, 3, 1))

    # when April and then May are settled
    april = settle(2024, 4)
    confirm_month(actor=bureau_user, settlement=april)
    may = settle(2024, 5)

    # then April reverses March's line in full, and May has nothing more to correct
    adjustment = SettlementLine.objects.get(settlement=april, kind="adjustment")
    assert (adjustment.amount, adjustment.days, adjustment.corrects_id) == (
        Decimal("-189.00"),
        -31,
        line_of(march, recipient).pk,
    )
    assert not SettlementLine.objects.filter(settlement=may).exists()


def test_caregiver_change_mid_month_splits_one_line_between_two_caregivers(settle):
    from tests.factories import AgreementFactory, CaregiverFactory, ContractFactory, RecipientFactory

    caring = ProviderFactory()
    contract = ContractFactory(provider=caring, payee_mode=PayeeMode.CAREGIVERS)
    first, second = CaregiverFactory(provider=caring), CaregiverFactory(provider=caring)
    recipient = RecipientFactory(level="self_care")
    AgreementFactory(
        recipient=recipient,
        provider=caring,
        contract=contract,
        caregiver=first,
        start_date=D(2024, 1, 1),
        end_date=D(2024, 3, 15),
        status=AgreementStatus.TERMINATED,
    )
    AgreementFactory(
        recipient=recipient, provider=caring, contract=contract, caregiver=second, start_date=D(2024, 3, 16)
    )

    settlement = settle(2024, 3)

    line = line_of(settlement, recipient)  # one line per recipient per provider
    assert (line.amount, line.caregiver_id) == (Decimal("189.00"), second.pk)
    assert line.caregiver_days == {str(first.pk): 15, str(second.pk): 16}
    payments = {p.caregiver_id: (p.amount, p.days) for p in settlement.payments.all()}
    # 189 × 15/31 = 91.451… and 189 × 16/31 = 97.548…: floors 91.45 + 97.54, the last fen to the larger remainder
    assert payments == {first.pk: (Decimal("91.45"), 15), second.pk: (Decimal("97.55"), 16)}


def test_a_county_look_back_limit_holds_older_corrections_for_the_bureau(settle, billed, bureau_user, settings):
    """With a limit of one month, June's settlement pays April's correction and lists March's as 待处理追溯:
    the exit on 20 March takes 12 of March's 31 days off: 189.00 × 12 / 31 = 73.161… → -73.16, never dropped."""
    settings.BILLING_ADJUSTMENT_LOOKBACK_MONTHS = 1
    recipient = billed()
    for month in (3, 4):
        confirm_month(actor=bureau_user, settlement=settle(2024, month))
    type(recipient).objects.filter(pk=recipient.pk).update(exit_date=D(2024, 3, 20))

    may = settle(2024, 5)

    # April (one month back) is corrected in the money: reversed in full
    adjustments = list(SettlementLine.objects.filter(settlement=may, kind="adjustment"))
    assert [(a.period_month, a.amount) for a in adjustments] == [(D(2024, 4, 1), Decimal("-189.00"))]
    # March is beyond the limit: listed, with its amount, outside the month's money
    held = list(SettlementLine.objects.filter(settlement=may, kind="held"))
    assert [(h.period_month, h.amount) for h in held] == [(D(2024, 3, 1), Decimal("-73.16"))]
    assert may.gross == Decimal("-189.00")  # April reversed; May has no line of its own (exited)
