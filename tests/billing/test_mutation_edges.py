"""Billing at the edges the mutation run found untested, through the public settlement action, each to the fen.

Rates 2023: 自理 189.00, 半失能 313.00, 失能 626.00 a month; a line is rate × days ÷ days in month, rounded once,
half-up, to the fen."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection

from billing.calculation import fen_text, from_fen, to_fen
from billing.models import SettlementLine
from contracts.models import PayeeMode
from recipients.models import LevelApproval, LevelSource
from tests.factories import CaregiverFactory, ContractFactory, ProviderFactory

from .factories import DeductionFactory

D = datetime.date
pytestmark = pytest.mark.django_db


def lines(settlement):
    return {
        line.recipient_id: (line.provider_id, line.amount, line.days)
        for line in SettlementLine.objects.filter(settlement=settlement, kind="regular")
    }


def test_people_without_an_agreement_take_nobody_elses(settle, billed, provider):
    """Recipients are streamed in id order against their agreements. One without an agreement whose id comes
    before one with an agreement gets no line, and the next person is billed their own month: 失能 626.00 and
    自理 189.00 here, in the same order with gaps."""
    nobody = billed(provider=None, level="full")
    served = billed(level="full")
    nobody_either = billed(provider=None)
    served_too = billed()
    assert nobody.pk < served.pk < nobody_either.pk < served_too.pk

    settlement = settle(2024, 3)

    assert lines(settlement) == {
        served.pk: (provider.pk, Decimal("626.00"), 31),
        served_too.pk: (provider.pk, Decimal("189.00"), 31),
    }
    assert settlement.gross == Decimal("815.00")


def approve(recipient, level, effective, by):
    return LevelApproval.objects.create(
        recipient=recipient, level=level, effective_date=effective, source=LevelSource.ASSESSMENT, approved_by=by
    )


def test_a_first_level_approved_partway_through_the_agreement_bills_from_its_effective_date(
    settle, billed, bureau_user
):
    """In support and under agreement all March 2024, but no level approved until 11 March (自理): the days before
    have no level and are not billed. 11–31 March = 21 days: 189 × 21 / 31 = 128.032… → 128.03."""
    recipient = billed(level=False)
    approve(recipient, "self_care", D(2024, 3, 11), bureau_user)

    line = SettlementLine.objects.get(settlement=settle(2024, 3), recipient=recipient)

    assert (line.days, line.days_self_care, line.amount) == (21, 21, Decimal("128.03"))


def test_a_first_level_then_a_change_within_the_month(settle, billed, bureau_user):
    """First level 半失能 from 11 March, 失能 from 21 March: 10 days at 313 and 11 at 626:
    (313 × 10 + 626 × 11) / 31 = 10016 / 31 = 323.096… → 323.10; the line's rate is the last level's."""
    recipient = billed(level=False)
    approve(recipient, "partial", D(2024, 3, 11), bureau_user)
    approve(recipient, "full", D(2024, 3, 21), bureau_user)

    line = SettlementLine.objects.get(settlement=settle(2024, 3), recipient=recipient)

    assert (line.days_partial, line.days_full, line.days) == (10, 11, 21)
    assert line.amount == Decimal("323.10")
    assert line.rate == Decimal("626.00")


def test_a_level_approved_only_after_the_month_bills_nothing(settle, billed, bureau_user):
    recipient = billed(level=False)
    approve(recipient, "full", D(2024, 4, 1), bureau_user)

    assert not SettlementLine.objects.filter(settlement=settle(2024, 3), recipient=recipient).exists()


def test_no_payment_row_of_0_00(settle, billed):
    """Caregivers paid directly, 自理 (189.00) for one and 半失能 (313.00) for the other: a deduction of 501.99
    leaves 0.01 to pay. It goes to the caregiver with the larger share (313/502 of a fen rounds up), and the
    other gets no payment row at all, not one of 0.00."""
    caring = ProviderFactory()
    contract = ContractFactory(provider=caring, payee_mode=PayeeMode.CAREGIVERS)
    first, second = CaregiverFactory(provider=caring), CaregiverFactory(provider=caring)
    billed(provider=caring, caregiver=first)
    billed(provider=caring, caregiver=second, level="partial")
    DeductionFactory(provider=caring, contract=contract, amount=Decimal("501.99"), verified_on=D(2024, 3, 2))

    settlement = settle(2024, 3)

    assert settlement.net == Decimal("0.01")
    assert [(p.caregiver_id, p.amount) for p in settlement.payments.all()] == [(second.pk, Decimal("0.01"))]


def test_a_month_deducted_to_zero_has_no_payment(settle, billed, provider):
    contract = ContractFactory(provider=provider)
    billed()
    DeductionFactory(provider=provider, contract=contract, amount=Decimal("189.00"), verified_on=D(2024, 3, 2))

    settlement = settle(2024, 3)

    assert settlement.net == Decimal("0.00")
    assert not settlement.payments.exists()


def test_to_fen_takes_whole_fen_only():
    assert to_fen(Decimal("12.34")) == 1234
    assert to_fen(Decimal("-0.01")) == -1
    assert to_fen(Decimal("0")) == 0
    for fraction in ("0.005", "12.341", "-0.001"):
        with pytest.raises(ValueError, match="不是整分金额"):
            to_fen(Decimal(fraction))
    assert from_fen(-1205) == Decimal("-12.05")


@pytest.mark.parametrize(
    ("fen", "text"),
    [(0, "0.00"), (5, "0.05"), (10, "0.10"), (100, "1.00"), (14607, "146.07"), (-5, "-0.05"), (-1205, "-12.05"),
     (123456789, "1234567.89")],
)  # fmt: skip
def test_fen_text_is_the_amount_postgresql_copy_reads(fen, text):
    """The COPY writer sends amounts to PostgreSQL as this text: it must be the exact decimal of the fen."""
    assert fen_text(fen) == text
    assert Decimal(text) == from_fen(fen)


def test_amounts_with_a_zero_tenth_of_a_yuan_are_stored_exactly(settle, billed):
    """April 2024 has 30 days; 失能 from 24 April = 7 days: 626 × 7 / 30 = 146.066… → 146.07 (the fen's leading
    zero is where a text writer goes wrong). Written by COPY on PostgreSQL, by the ORM on SQLite: the same."""
    recipient = billed(level="full", entry=D(2024, 4, 24))

    line = SettlementLine.objects.get(settlement=settle(2024, 4), recipient=recipient)

    assert (line.amount, line.rate, line.days, line.days_full) == (Decimal("146.07"), Decimal("626.00"), 7, 7)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the COPY writer runs on PostgreSQL only (CI)")
def test_on_postgresql_the_lines_are_written_by_copy_with_fen_text(settle, billed, monkeypatch):
    import billing.persistence

    written = []

    def spy(fen):
        written.append(fen)
        return fen_text(fen)

    monkeypatch.setattr(billing.persistence, "fen_text", spy)
    recipient = billed(level="full", entry=D(2024, 4, 24))

    line = SettlementLine.objects.get(settlement=settle(2024, 4), recipient=recipient)

    assert 14607 in written and 62600 in written  # the amount and the rate went through the COPY text
    assert line.amount == Decimal("146.07")


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [(1, 2, 1), (-1, 2, -1), (3, 2, 2), (-3, 2, -2), (1, 3, 0), (2, 3, 1), (-2, 3, -1), (0, 5, 0), (7, 1, 7),
     (-7, 1, -7), (18900 * 22, 31, 13413), (-(18900 * 22), 31, -13413)],
)  # fmt: skip
def test_rounding_is_half_up_away_from_zero_on_whole_fen(numerator, denominator, expected):
    """An adjustment (negative) rounds as its positive counterpart does: −0.5 fen is −1 fen, as 0.5 is 1."""
    from billing.calculation import div_half_up

    assert div_half_up(numerator, denominator) == expected


@pytest.mark.parametrize("denominator", [0, -31])
def test_a_month_of_no_days_is_refused(denominator):
    from billing.calculation import div_half_up

    with pytest.raises(ValueError, match="^denominator must be positive$"):
        div_half_up(100, denominator)


def test_nothing_to_split_over_no_weights_pays_nobody():
    from billing.calculation import split_largest_remainder

    assert split_largest_remainder(100, {}) == {}
    assert split_largest_remainder(100, {"a": 0}) == {}
    assert split_largest_remainder(0, {"a": 3}) == {}
    assert split_largest_remainder(5, {"a": 3, "b": 0}) == {"a": 5}
    # a caregiver who served one day has a share like any other
    assert split_largest_remainder(10, {"a": 1, "b": 1}) == {"a": 5, "b": 5}


def agreement(recipient, provider, caregiver, start, end=None):
    from contracts.models import AgreementStatus
    from tests.factories import AgreementFactory

    contract = provider.contracts.first() or ContractFactory(provider=provider)
    return AgreementFactory(
        recipient=recipient, provider=provider, contract=contract, caregiver=caregiver, start_date=start, end_date=end,
        status=AgreementStatus.TERMINATED if end else AgreementStatus.SIGNED,
    )  # fmt: skip


def test_one_providers_agreements_in_a_month_make_one_line_with_every_day(settle, provider):
    """An old agreement (2023), one with caregiver 甲 to 15 March, a renewal with 甲 from 16 to 20 March, then
    caregiver 乙 from 21 March, all with the same provider: one line of 31 days, 189.00; 甲 20 days, 乙 11; the
    line names the last caregiver."""
    from tests.factories import RecipientFactory

    recipient = RecipientFactory(level="self_care", entry_date=D(2023, 1, 1))
    jia, yi = CaregiverFactory(provider=provider), CaregiverFactory(provider=provider)
    agreement(recipient, provider, jia, D(2023, 1, 1), D(2023, 12, 31))
    agreement(recipient, provider, jia, D(2024, 1, 1), D(2024, 3, 15))
    agreement(recipient, provider, jia, D(2024, 3, 16), D(2024, 3, 20))
    agreement(recipient, provider, yi, D(2024, 3, 21))

    line = SettlementLine.objects.get(settlement=settle(2024, 3), recipient=recipient)

    assert (line.days, line.days_self_care, line.amount) == (31, 31, Decimal("189.00"))
    assert line.caregiver_days == {str(jia.pk): 20, str(yi.pk): 11}
    assert line.caregiver_id == yi.pk


def test_a_level_change_within_one_agreement_keeps_every_day_with_its_caregiver(settle, billed, bureau_user):
    """自理 to 10 March, 失能 from 11 March: (189 × 10 + 626 × 21) / 31 = 15036 / 31 = 485.03; all 31 days are the
    one caregiver's."""
    recipient = billed()
    approve(recipient, "full", D(2024, 3, 11), bureau_user)

    line = SettlementLine.objects.get(settlement=settle(2024, 3), recipient=recipient)

    assert (line.days_self_care, line.days_full, line.amount) == (10, 21, Decimal("485.03"))
    assert list(line.caregiver_days.values()) == [31]


def test_a_level_effective_next_month_does_not_change_this_months_rate(settle, billed, bureau_user):
    recipient = billed()
    approve(recipient, "full", D(2024, 4, 1), bureau_user)

    line = SettlementLine.objects.get(settlement=settle(2024, 3), recipient=recipient)

    assert (line.rate, line.amount, line.days_full) == (Decimal("189.00"), Decimal("189.00"), 0)


def test_every_level_change_of_the_month_keeps_its_days(settle, billed, bureau_user):
    """Re-assessed three times in March 2024: 自理 to 7 March, 半失能 8–14, 自理 again 15–21, 失能 from 22 March.
    自理 7 + 7 = 14 days, 半失能 7, 失能 10: (189 × 14 + 313 × 7 + 626 × 10) / 31 = 11097 / 31 = 357.967… →
    357.97, and all 31 days are the one caregiver's."""
    recipient = billed()
    approve(recipient, "partial", D(2024, 3, 8), bureau_user)
    approve(recipient, "self_care", D(2024, 3, 15), bureau_user)
    approve(recipient, "full", D(2024, 3, 22), bureau_user)

    line = SettlementLine.objects.get(settlement=settle(2024, 3), recipient=recipient)

    assert (line.days_self_care, line.days_partial, line.days_full, line.days) == (14, 7, 10, 31)
    assert line.amount == Decimal("357.97")
    assert list(line.caregiver_days.values()) == [31]


def test_a_provider_with_no_billable_day_does_not_stop_the_next_providers_line(settle, billed, bureau_user):
    """Provider 甲 serves to 15 March, 乙 takes over from 16 March; the person's first level (自理) is approved from
    16 March. 甲's days have no level and make no line; 乙 is paid 16 days: 189 × 16 / 31 = 97.548… → 97.55."""
    first, second = ProviderFactory(), ProviderFactory()
    assert first.pk < second.pk  # the line without days comes first
    recipient = billed(provider=None, level=False)
    agreement(recipient, first, CaregiverFactory(provider=first), D(2024, 1, 1), D(2024, 3, 15))
    agreement(recipient, second, CaregiverFactory(provider=second), D(2024, 3, 16))
    approve(recipient, "self_care", D(2024, 3, 16), bureau_user)

    assert lines(settle(2024, 3)) == {recipient.pk: (second.pk, Decimal("97.55"), 16)}


def test_a_credit_is_paid_back_in_full_before_any_deduction_is_taken():
    """A provider's month of 626.00, no deficit brought. Owed, oldest first: 50.00, then a credit of 100.00 (a
    deduction a frozen month took, since cancelled by maker-checker), then 30.00. The credit comes first and in
    full (−100.00 applied), so the base is 626.00 + 100.00 = 726.00; the 50.00 and 30.00 are then both taken:
    net 726.00 − 80.00 = 646.00, nothing carried."""
    from billing.calculation import Applied, Due, apply_deductions

    applied, net, deficit = apply_deductions(
        gross_fen=62600, deficit_brought_fen=0, dues=[Due("old", 5000), Due("credit", -10000), Due("new", 3000)]
    )

    assert applied == [Applied("credit", -10000, -10000), Applied("old", 5000, 5000), Applied("new", 3000, 3000)]
    assert (net, deficit) == (64600, 0)


def test_a_credit_counts_before_a_deficit_is_carried():
    """A month of 20.00 with 100.00 of deficit brought forward would carry 80.00; a credit of 30.00 paid back the
    same month lowers that to 50.00 (20.00 − 100.00 + 30.00 = −50.00), and a 10.00 deduction takes nothing."""
    from billing.calculation import Applied, Due, apply_deductions

    applied, net, deficit = apply_deductions(
        gross_fen=2000, deficit_brought_fen=10000, dues=[Due("credit", -3000), Due("due", 1000)]
    )

    assert applied == [Applied("credit", -3000, -3000), Applied("due", 1000, 0)]
    assert (net, deficit) == (0, 5000)
    assert applied[1].carried_fen == 1000


def test_a_line_amount_is_its_fen_in_yuan():
    """146.07 for 14607 fen: the amount exports and adjustments read from a computed line."""
    from billing.calculation import Line

    assert Line(recipient_id=1, town_id=1, provider_id=1, amount_fen=14607).amount() == Decimal("146.07")


def test_days_under_agreement_before_the_entry_into_support_are_not_paid(settle, billed, bureau_user):
    """自理 approved since January (an earlier assessment) and an agreement from 1 March 2024, but the person enters
    support only on 10 March: only the days in support are paid, 10–31 March = 22 days: 189 × 22 / 31 =
    134.129… → 134.13."""
    recipient = billed(entry=D(2024, 3, 10), start=D(2024, 3, 1))
    approve(recipient, "self_care", D(2024, 1, 1), bureau_user)

    line = SettlementLine.objects.get(settlement=settle(2024, 3), recipient=recipient)

    assert (line.days, line.amount) == (22, Decimal("134.13"))


def test_a_level_change_on_the_day_a_takeover_starts_is_the_new_providers_only(settle, billed, bureau_user):
    """Provider 甲 serves 自理 to 15 March 2024; 乙 takes over on 16 March, the day 失能 is approved from. 甲's line
    is 15 days of 自理 at rate 189.00: 189 × 15 / 31 = 91.451… → 91.45; 乙's is 16 days of 失能 at 626.00:
    626 × 16 / 31 = 323.096… → 323.10. The change does not name 甲's rate."""
    first, second = ProviderFactory(), ProviderFactory()
    recipient = billed(provider=None)
    agreement(recipient, first, CaregiverFactory(provider=first), D(2024, 1, 1), D(2024, 3, 15))
    agreement(recipient, second, CaregiverFactory(provider=second), D(2024, 3, 16))
    approve(recipient, "full", D(2024, 3, 16), bureau_user)

    settlement = settle(2024, 3)
    got = {
        line.provider_id: (line.days_self_care, line.days_full, line.rate, line.amount)
        for line in SettlementLine.objects.filter(settlement=settlement, recipient=recipient)
    }

    assert got == {
        first.pk: (15, 0, Decimal("189.00"), Decimal("91.45")),
        second.pk: (0, 16, Decimal("626.00"), Decimal("323.10")),
    }


def test_the_last_agreement_of_the_month_may_belong_to_someone_not_yet_in_support(settle, billed):
    """The merge skips agreements of people who are not in the month's list. Here the last agreement read (from
    1 March 2024) is of someone entering support only on 1 April, and the next person in the list (in support all
    March) has no agreement: the month is settled with no line for either, 0.00, and does not fail."""
    early = billed(entry=D(2024, 4, 1), start=D(2024, 3, 1))
    unserved = billed(provider=None)
    assert early.pk < unserved.pk

    settlement = settle(2024, 3)

    assert lines(settlement) == {}
    assert settlement.gross == Decimal("0.00")


def test_the_progress_of_a_run_moves_once_per_person():
    """The month page's progress bar counts people: two people in the list, neither with an agreement, are two
    ticks and no line."""
    from billing.calculation import Rates, month_lines

    ticks = []
    people = [(1, 1, D(2024, 1, 1), None), (2, 1, D(2024, 1, 1), None)]

    result = list(
        month_lines(
            month=D(2024, 3, 1),
            rates=Rates(18900, 31300, 62600),
            recipients=people,
            agreements=[],
            approvals=[],
            on_recipient=lambda: ticks.append(1),
        )
    )

    assert (result, len(ticks)) == ([], 2)
