"""The settlement engine's money rules at the edges the mutation run of `billing/engine.py` found untested: where
caregivers are paid directly, who carries a correction of a frozen month, a credit, and a share of one fen.

Rates 2023: 自理 189.00, 半失能 313.00, 失能 626.00 a month; a line is rate × days ÷ days in month, rounded once,
half-up, to the fen; a net is split over caregivers by largest remainder."""

import datetime
from decimal import Decimal

import pytest

from billing.models import SettlementLine
from contracts.models import AgreementStatus, PayeeMode
from recipients.models import LevelApproval, LevelSource, Recipient
from shenxian_care.models import Role
from supervision.actions import deduction_correction_approve, deduction_correction_request
from tests.factories import (
    AgreementFactory,
    CaregiverFactory,
    ContractFactory,
    ProviderFactory,
    RecipientFactory,
    UserFactory,
    VillageFactory,
    town,
)

from .conftest import confirm_month
from .factories import DeductionFactory

D = datetime.date
pytestmark = pytest.mark.django_db


@pytest.fixture
def caring():
    """A provider whose contract pays the caregivers directly, with caregivers 甲 and 乙."""
    provider = ProviderFactory()
    contract = ContractFactory(provider=provider, payee_mode=PayeeMode.CAREGIVERS)
    return provider, contract, CaregiverFactory(provider=provider), CaregiverFactory(provider=provider)


def paid(settlement):
    return {p.caregiver_id: (p.amount, p.days) for p in settlement.payments.all()}


def test_a_correction_of_a_frozen_month_falls_on_the_caregiver_who_served_those_days(
    settle, billed, bureau_user, caring
):
    """甲 serves X and Z, 乙 serves Y, all 自理, March 2024 confirmed (567.00). X's exit is then approved late,
    effective 20 March: March should have been 19 days, 189 × 19 / 31 = 115.838… → 115.84, so April carries an
    adjustment of −73.16 and −12 days on 甲. April: Z 189.00 (甲, 30 days) and Y 189.00 (乙, 30 days); gross
    378.00 − 73.16 = 304.84. 甲 is paid 189.00 − 73.16 = 115.84 for 30 − 12 = 18 days, 乙 189.00 for 30; the
    provider's month counts 60 − 12 = 48 days."""
    provider, _contract, jia, yi = caring
    x = billed(provider=provider, caregiver=jia)
    billed(provider=provider, caregiver=yi)
    billed(provider=provider, caregiver=jia)
    confirm_month(actor=bureau_user, settlement=settle(2024, 3))
    Recipient.objects.filter(pk=x.pk).update(exit_date=D(2024, 3, 20))

    april = settle(2024, 4)

    adjustment = SettlementLine.objects.get(settlement=april, kind="adjustment")
    assert (adjustment.caregiver_id, adjustment.amount, adjustment.days) == (jia.pk, Decimal("-73.16"), -12)
    assert april.gross == april.net == Decimal("304.84")
    assert paid(april) == {jia.pk: (Decimal("115.84"), 18), yi.pk: (Decimal("189.00"), 30)}
    assert april.provider_totals.get().days == 48


def test_a_cancelled_provider_wide_deduction_comes_back_to_the_caregivers_pro_rata(settle, billed, bureau_user, caring):
    """甲 serves a 自理 person (189.00), 乙 a 失能 one (626.00). A provider-wide 100.00 verified in March is
    applied (net 715.00, confirmed), then cancelled by maker-checker. April: gross 815.00, the 100.00 comes back:
    net 915.00, shared as the month is (189 : 626), no deduction falling on anyone: 甲 91500 × 189 / 815 =
    21219.01… fen → 212.19, 乙 70280.98… fen → 702.81 (the larger remainder takes the last fen)."""
    provider, contract, jia, yi = caring
    billed(provider=provider, caregiver=jia)
    billed(provider=provider, caregiver=yi, level="full")
    deduction = DeductionFactory(provider=provider, contract=contract, amount=Decimal("100.00"))
    march = confirm_month(actor=bureau_user, settlement=settle(2024, 3))
    assert march.net == Decimal("715.00")
    checker = UserFactory(username="bureau-checker", role=Role.BUREAU)
    correction = deduction_correction_request(actor=bureau_user, deduction=deduction, reason="复查不属实")
    deduction_correction_approve(actor=checker, correction=correction)

    april = settle(2024, 4)

    assert (april.gross, april.deductions_applied, april.net) == (
        Decimal("815.00"),
        Decimal("-100.00"),
        Decimal("915.00"),
    )
    assert paid(april) == {jia.pk: (Decimal("212.19"), 30), yi.pk: (Decimal("702.81"), 30)}


def test_a_caregiver_left_with_one_fen_is_paid_that_fen(settle, billed, caring):
    """甲 and 乙 each serve a 自理 person (189.00). A deduction of 188.99 verified for 甲's person falls on 甲
    alone and leaves 甲 0.01: net 189.01, 甲 is paid 0.01 and 乙 189.00, not 乙 the lot."""
    provider, contract, jia, yi = caring
    hers = billed(provider=provider, caregiver=jia)
    billed(provider=provider, caregiver=yi)
    DeductionFactory(provider=provider, contract=contract, amount=Decimal("188.99"), recipient=hers)

    march = settle(2024, 3)

    assert march.net == Decimal("189.01")
    assert paid(march) == {jia.pk: (Decimal("0.01"), 31), yi.pk: (Decimal("189.00"), 31)}


# --- Corrections of a frozen month: what it should be now minus what was billed for it, per (person, provider) ---


def approve(recipient, level, effective, by):
    return LevelApproval.objects.create(
        recipient=recipient, level=level, effective_date=effective, source=LevelSource.ASSESSMENT, approved_by=by
    )


def adjustments(settlement):
    return {
        a.recipient_id: a
        for a in SettlementLine.objects.filter(settlement=settlement, kind="adjustment").order_by("recipient_id")
    }


def test_people_added_to_a_confirmed_month_are_billed_in_an_adjustment_naming_their_contract_and_caregiver(
    settle, billed, bureau_user, provider
):
    """March 2024 is confirmed with only 乙 (自理, 189.00): 甲 and 丙 had no approved level yet. Their assessments
    are then approved with effect in March: 甲 失能 from 1 March (626.00 for 31 days), 丙 半失能 from 17 March
    (313 × 15 / 31 = 151.451… → 151.45). April adds both as adjustments of March, each naming its own contract,
    caregiver and level (nothing frozen to correct), 甲 before and 丙 after the one frozen line in id order; 乙
    is unchanged. April: 626.00 + 189.00 + 313.00 of its own, + 626.00 + 151.45 = 1905.45, 30 × 3 + 31 + 15 =
    136 days, three people."""
    jia = billed(level=False)
    yi = billed()
    bing = billed(level=False)
    assert jia.pk < yi.pk < bing.pk
    confirm_month(actor=bureau_user, settlement=settle(2024, 3))
    approve(jia, "full", D(2024, 3, 1), bureau_user)
    approve(bing, "partial", D(2024, 3, 17), bureau_user)

    april = settle(2024, 4)

    found = adjustments(april)
    assert set(found) == {jia.pk, bing.pk}
    for person, amount, days, full, partial, level, rate in (
        (jia, "626.00", 31, 31, 0, "full", "626.00"),
        (bing, "151.45", 15, 0, 15, "partial", "313.00"),
    ):
        line, agreement = found[person.pk], person.agreements.get()
        assert (line.amount, line.days, line.days_full, line.days_partial, line.days_self_care) == (
            Decimal(amount),
            days,
            full,
            partial,
            0,
        )
        assert (line.period_month, line.corrects_id, line.level, line.rate) == (
            D(2024, 3, 1),
            None,
            level,
            Decimal(rate),
        )
        assert (line.provider_id, line.contract_id, line.caregiver_id) == (
            provider.pk,
            agreement.contract_id,
            agreement.caregiver_id,
        )
    assert april.gross == Decimal("1905.45")
    totals = april.provider_totals.get()
    assert (totals.days, totals.recipients) == (136, 3)

    # April confirmed, 丙's exit is then approved with effect from 1 March: May reverses what was paid for March
    # (April's adjustment, there is no frozen line of March's own to name) and April's own line; 甲 is right.
    confirm_month(actor=bureau_user, settlement=april)
    Recipient.objects.filter(pk=bing.pk).update(exit_date=D(2024, 3, 1))

    may = settle(2024, 5)

    found = SettlementLine.objects.filter(settlement=may, kind="adjustment").order_by("period_month")
    assert [
        (a.recipient_id, a.period_month, a.amount, a.days_partial, a.level, a.corrects_id is None) for a in found
    ] == [
        (bing.pk, D(2024, 3, 1), Decimal("-151.45"), -15, "partial", True),
        (bing.pk, D(2024, 4, 1), Decimal("-313.00"), -30, "partial", False),
    ]


def test_a_person_taken_out_of_a_confirmed_month_is_reversed_at_their_lines_level_contract_and_caregiver(
    settle, billed, bureau_user
):
    """March 2024 confirmed: 甲 失能 626.00 and 乙 自理 189.00. 甲's exit is then approved with effect from
    1 March (no day in support): April reverses 甲's frozen line in full, −626.00 and −31 days at 失能 (rate
    626.00), under the contract and caregiver of that line, and 乙, whose id comes after, is not corrected."""
    jia = billed(level="full")
    yi = billed()
    assert jia.pk < yi.pk
    march = settle(2024, 3)
    confirm_month(actor=bureau_user, settlement=march)
    frozen = SettlementLine.objects.get(settlement=march, recipient=jia)
    Recipient.objects.filter(pk=jia.pk).update(exit_date=D(2024, 3, 1))

    april = settle(2024, 4)

    assert set(adjustments(april)) == {jia.pk}
    line = adjustments(april)[jia.pk]
    assert (line.amount, line.days, line.days_full, line.level, line.rate) == (
        Decimal("-626.00"),
        -31,
        -31,
        "full",
        Decimal("626.00"),
    )
    assert (line.corrects_id, line.contract_id, line.caregiver_id) == (
        frozen.pk,
        frozen.contract_id,
        frozen.caregiver_id,
    )
    assert frozen.caregiver_id is not None and frozen.contract_id is not None
    assert april.gross == Decimal("189.00") - Decimal("626.00")


def test_a_correction_that_changes_the_days_but_not_the_money_is_still_a_line(settle, billed, bureau_user):
    """March 2024 confirmed: 半失能 all month, 313.00 for 31 days. Then a reassessment to 失能 from 30 March and a
    death on 30 March (exit 31 March: the day of death is paid) are recorded: March should have been 29 days at
    313 and 1 at 626, (313 × 29 + 626) / 31 = 9703 / 31 = 313.00 exactly. The money is the same but the days are
    not: April has a line of 0.00 with −2 days 半失能 and +1 day 失能 (−1 day)."""
    person = billed(level="partial")
    confirm_month(actor=bureau_user, settlement=settle(2024, 3))
    approve(person, "full", D(2024, 3, 30), bureau_user)
    Recipient.objects.filter(pk=person.pk).update(exit_date=D(2024, 3, 31))

    april = settle(2024, 4)

    line = adjustments(april)[person.pk]
    assert (line.amount, line.days, line.days_partial, line.days_full) == (Decimal("0.00"), -1, -2, 1)
    assert april.gross == Decimal("0.00")
    assert april.provider_totals.get().days == -1


def test_a_month_corrected_twice_counts_what_the_first_correction_paid(
    settle, billed, bureau_user, provider, other_provider
):
    """March 2024: 甲 with 颐和 all month (自理, 189.00); 乙, 半失能 and 失能 from 21 March, with 康乐 to 14 March
    (313 × 14 / 31 = 141.35) then 颐和 from 15 March: 6 days at 313 and 11 at 626, (1878 + 6886) / 31 = 282.709…
    → 282.71. Confirmed. 乙's exit is then approved with effect from 18 March: 颐和 should have had 3 days at 313,
    939 / 31 = 30.29, so April corrects 颐和's line by −252.42 (−3 days 半失能, −11 失能). April confirmed, May
    settles: March is already right (its lines plus April's correction, summed per person and provider, each
    level's days too), so May corrects nothing; 甲 alone is billed, 189.00."""
    assert provider.pk < other_provider.pk
    jia = billed(provider=other_provider)
    yi = billed(level="partial", end=D(2024, 3, 14), status=AgreementStatus.TERMINATED)
    approve(yi, "full", D(2024, 3, 21), bureau_user)
    AgreementFactory(
        recipient=yi,
        provider=other_provider,
        contract=other_provider.contracts.first(),
        caregiver=CaregiverFactory(provider=other_provider),
        start_date=D(2024, 3, 15),
    )
    assert jia.pk < yi.pk
    confirm_month(actor=bureau_user, settlement=settle(2024, 3))
    Recipient.objects.filter(pk=yi.pk).update(exit_date=D(2024, 3, 18))

    april = settle(2024, 4)
    line = adjustments(april)[yi.pk]
    assert (line.provider_id, line.amount, line.days_partial, line.days_full) == (
        other_provider.pk,
        Decimal("-252.42"),
        -3,
        -11,
    )
    assert len(adjustments(april)) == 1
    confirm_month(actor=bureau_user, settlement=april)

    may = settle(2024, 5)

    assert adjustments(may) == {}
    assert may.gross == Decimal("189.00")


def test_a_held_correction_is_paid_once_the_county_lifts_its_look_back_limit(settle, billed, bureau_user, settings):
    """With a limit of one month, May lists March's correction (exit on 20 March: −73.16) as 待处理追溯, outside
    the money, and May is confirmed. The county then lifts the limit: June pays March's −73.16 as an adjustment,
    since a held line was never billed, and April's correction, already paid in May, is not repeated."""
    settings.BILLING_ADJUSTMENT_LOOKBACK_MONTHS = 1
    person = billed()
    for month in (3, 4):
        confirm_month(actor=bureau_user, settlement=settle(2024, month))
    Recipient.objects.filter(pk=person.pk).update(exit_date=D(2024, 3, 20))
    may = confirm_month(actor=bureau_user, settlement=settle(2024, 5))
    assert SettlementLine.objects.get(settlement=may, kind="held").amount == Decimal("-73.16")
    settings.BILLING_ADJUSTMENT_LOOKBACK_MONTHS = None

    june = settle(2024, 6)

    found = list(SettlementLine.objects.filter(settlement=june).values_list("kind", "period_month", "amount"))
    assert found == [("adjustment", D(2024, 3, 1), Decimal("-73.16"))]
    assert june.gross == Decimal("-73.16")


def test_a_contract_that_begins_on_the_last_day_of_a_confirmed_month_still_pays_that_day(
    settle, billed, bureau_user, provider
):
    """The provider's contract starts on 31 March 2024: March pays one day, 189 / 31 = 6.096… → 6.10, and is
    confirmed. Recomputing March for April's corrections reads the same contract: nothing to correct."""
    ContractFactory(provider=provider, start_date=D(2024, 3, 31), signed_on=D(2024, 3, 20))
    billed()
    march = confirm_month(actor=bureau_user, settlement=settle(2024, 3))
    assert march.gross == Decimal("6.10")

    april = settle(2024, 4)

    assert adjustments(april) == {}
    assert april.gross == Decimal("189.00")


def test_the_progress_of_a_run_counts_the_people_of_each_confirmed_month_it_recomputes(
    settle, billed, bureau_user, monkeypatch
):
    """Two people in March (confirmed) and in April: April's run recomputes March for corrections, so its progress
    bar has 2 + 2 people and moves once for each, ending at its total."""
    from billing import persistence

    billed()
    billed()
    confirm_month(actor=bureau_user, settlement=settle(2024, 3))
    ticks = []
    tick = persistence.Progress.tick
    monkeypatch.setattr(persistence.Progress, "tick", lambda self: (ticks.append(1), tick(self))[1])

    april = settle(2024, 4)

    assert len(ticks) == april.progress_total == 4


# --- The provider's month: its contract, its people, and its caregivers' shares ---


def test_a_providers_month_falls_under_the_contract_with_the_most_days_and_counts_its_people(settle):
    """One provider, two contracts: the first (燕塔街道, paid to the provider) with 甲 and 乙 all March 2024 (62
    days), a later one (朝城镇, paid to the caregivers) with 丙 (31 days). The month is under the first contract:
    one payment of 3 × 189.00 = 567.00 to the provider, and the month counts 3 people and 93 days."""
    provider = ProviderFactory()
    yanta = ContractFactory(provider=provider, towns=[town("燕塔街道")], payee_mode=PayeeMode.PROVIDER)
    chaocheng = ContractFactory(provider=provider, towns=[town("朝城镇")], payee_mode=PayeeMode.CAREGIVERS)
    assert yanta.pk < chaocheng.pk
    for village, contract in (  # 丙 first: the month's first line is under the other contract
        (VillageFactory(town=town("朝城镇")), chaocheng),
        (VillageFactory(town=town("燕塔街道")), yanta),
        (VillageFactory(town=town("燕塔街道")), yanta),
    ):
        AgreementFactory(
            recipient=RecipientFactory(village=village, level="self_care"),
            provider=provider,
            contract=contract,
            caregiver=CaregiverFactory(provider=provider),
        )

    march = settle(2024, 3)

    totals = march.provider_totals.get()
    assert (totals.contract_id, totals.payee_mode, totals.recipients, totals.days) == (
        yanta.pk,
        PayeeMode.PROVIDER,
        3,
        93,
    )
    assert [(p.payee_kind, p.caregiver_id, p.amount) for p in march.payments.all()] == [
        ("provider", None, Decimal("567.00"))
    ]


def test_a_line_shared_by_two_caregivers_weighs_each_by_their_days_beside_other_lines(settle, caring):
    """Caregivers paid directly. X (自理, 189.00) is served by 甲 to 15 March 2024 and 乙 from 16 March; Y (自理,
    189.00) by 乙 all month. 甲's share is 18900 × 15 / 31 = 9145.16… fen, 乙's 18900 × 16 / 31 + 18900 =
    28654.83… fen: 甲 91.45 for 15 days, 乙 286.55 for 47 (the larger remainder takes the last fen)."""
    provider, contract, jia, yi = caring
    x = RecipientFactory(level="self_care")
    AgreementFactory(
        recipient=x,
        provider=provider,
        contract=contract,
        caregiver=jia,
        end_date=D(2024, 3, 15),
        status=AgreementStatus.TERMINATED,
    )
    AgreementFactory(recipient=x, provider=provider, contract=contract, caregiver=yi, start_date=D(2024, 3, 16))
    AgreementFactory(recipient=RecipientFactory(level="self_care"), provider=provider, contract=contract, caregiver=yi)

    march = settle(2024, 3)

    assert march.net == Decimal("378.00")
    assert paid(march) == {jia.pk: (Decimal("91.45"), 15), yi.pk: (Decimal("286.55"), 47)}


def test_computing_a_month_proposes_its_deductions_from_the_evidence(billed, bureau_user):
    """No visit at all in March 2024: computing the month proposes 康乐's whole 189.00 (tests/billing/
    test_proposals.py covers the proposals themselves), and the run counts the proposal it made."""
    from billing.actions import settlement_compute
    from billing.models import DeductionProposal

    billed()
    stats = {}

    march = settlement_compute(actor=bureau_user, month=D(2024, 3, 1), stats=stats)

    assert [(p.kind, p.amount) for p in DeductionProposal.objects.filter(settlement=march)] == [
        ("no_visits", Decimal("189.00"))
    ]
    assert stats["proposals"] == 1
    # and reports what it wrote (bench/settlement.py reads these): one line, no adjustment, in some statements
    assert (stats["lines"], stats["adjustments"]) == (1, 0)
    assert stats["line_write_statements"] >= 1


def test_a_successful_run_clears_the_last_failure_and_records_when_it_finished(settle, billed):
    from billing.models import Settlement

    billed()
    march = settle(2024, 3)
    Settlement.objects.filter(pk=march.pk).update(
        run_state="failed", run_error="OperationalError", run_finished_at=None
    )

    march = settle(2024, 3)

    march.refresh_from_db()
    assert (march.run_state, march.run_error) == ("done", "")
    assert march.run_finished_at is not None


def test_the_payment_list_names_each_payee_with_their_bank_account_and_days(settle, billed, provider, other_provider):
    """March 2024. 康乐 (自理 189.00 + 失能 626.00, a deduction of 100.00) is paid 715.00 for 62 days into the
    account in the name of its 基本户; 颐和 (半失能 313.00), whose account name was left empty, is paid under its own
    name; 福寿 pays its caregivers directly: 王护理 189.00 for 31 days into her own account. The month: gross
    815.00 + 313.00 + 189.00 = 1317.00, 100.00 deducted, 1217.00 paid."""
    type(provider).objects.filter(pk=provider.pk).update(bank_account_name="莘县康乐养老服务中心（基本户）")
    type(other_provider).objects.filter(pk=other_provider.pk).update(bank_account_name="", bank_name="莘县建设银行")
    fushou = ProviderFactory(name="莘县福寿养老服务中心")
    ContractFactory(provider=fushou, payee_mode=PayeeMode.CAREGIVERS)
    wang = CaregiverFactory(provider=fushou, name="王护理", bank_name="莘县邮储银行")
    billed()
    billed(level="full")
    DeductionFactory(provider=provider, contract=provider.contracts.first(), amount=Decimal("100.00"))
    billed(level="partial", provider=other_provider)
    billed(provider=fushou, caregiver=wang)
    provider.refresh_from_db()
    other_provider.refresh_from_db()

    march = settle(2024, 3)

    assert (march.gross, march.deductions_applied, march.net) == (
        Decimal("1317.00"),
        Decimal("100.00"),
        Decimal("1217.00"),
    )
    rows = {row.provider_id: row for row in march.provider_totals.all()}
    found = sorted(
        (p.provider_id, p.provider_settlement_id, p.payee_kind, p.caregiver_id, p.payee_name, p.bank_name)
        + (p.account_number, p.days, p.amount)
        for p in march.payments.all()
    )
    assert found == sorted(
        [
            (provider.pk, rows[provider.pk].pk, "provider", None, "莘县康乐养老服务中心（基本户）", "莘县农商银行")
            + (provider.bank_account_number, 62, Decimal("715.00")),
            (other_provider.pk, rows[other_provider.pk].pk, "provider", None, other_provider.name, "莘县建设银行")
            + (other_provider.bank_account_number, 31, Decimal("313.00")),
            (fushou.pk, rows[fushou.pk].pk, "caregiver", wang.pk, "王护理", "莘县邮储银行")
            + (wang.bank_account_number, 31, Decimal("189.00")),
        ]
    )


def test_what_every_provider_cannot_pay_this_month_is_carried_and_the_month_sums_it(
    settle, billed, provider, other_provider
):
    """March 2024: 康乐 189.00 owes 200.00 (189.00 deducted, 11.00 carried), 颐和 313.00 owes 400.00 (313.00
    deducted, 87.00 carried). The month: 502.00 gross, 502.00 deducted, 98.00 carried forward, 0.00 paid."""
    billed()
    DeductionFactory(provider=provider, contract=provider.contracts.first(), amount=Decimal("200.00"))
    billed(level="partial", provider=other_provider)
    DeductionFactory(provider=other_provider, contract=other_provider.contracts.first(), amount=Decimal("400.00"))

    march = settle(2024, 3)

    assert (march.gross, march.deductions_applied, march.carried_forward, march.net) == (
        Decimal("502.00"),
        Decimal("502.00"),
        Decimal("98.00"),
        Decimal("0.00"),
    )
    rows = {row.provider_id: row for row in march.provider_totals.all()}
    assert (rows[provider.pk].deductions_due, rows[provider.pk].carried_forward) == (
        Decimal("200.00"),
        Decimal("11.00"),
    )
    assert (rows[other_provider.pk].deductions_due, rows[other_provider.pk].carried_forward) == (
        Decimal("400.00"),
        Decimal("87.00"),
    )


def test_deductions_are_taken_oldest_verified_first(settle, billed, provider):
    """康乐's month is 189.00. A deduction of 100.00 verified on 10 March was entered before one of 150.00 verified
    on 2 March: the older one (2 March) is taken first, in full, and 39.00 of the other, 61.00 carried."""
    from billing.models import DeductionApplication

    billed()
    contract = provider.contracts.first()
    later = DeductionFactory(provider=provider, contract=contract, amount=Decimal("100.00"), verified_on=D(2024, 3, 10))
    older = DeductionFactory(provider=provider, contract=contract, amount=Decimal("150.00"), verified_on=D(2024, 3, 2))
    assert later.pk < older.pk

    march = settle(2024, 3)

    applied = {
        a.deduction_id: (a.amount_due, a.amount_applied, a.amount_carried)
        for a in DeductionApplication.objects.filter(settlement=march)
    }
    assert applied == {
        older.pk: (Decimal("150.00"), Decimal("150.00"), Decimal("0.00")),
        later.pk: (Decimal("100.00"), Decimal("39.00"), Decimal("61.00")),
    }


def test_a_deficit_however_small_is_brought_forward_from_the_month_before_only(settle, billed, bureau_user):
    """March 2024: X (自理) 189.00, confirmed; X's exit is then approved with effect from 20 March (−73.16). Y (半失能)
    enters on 24 April: 313 × 7 / 30 = 73.033… → 73.03. April: 73.03 − 73.16 = −0.13, nothing paid, 0.13 carried.
    May brings those 0.13 in: 313.00 − 0.13 = 312.87. June brings nothing (May carried nothing): 313.00."""
    x = billed()
    confirm_month(actor=bureau_user, settlement=settle(2024, 3))
    Recipient.objects.filter(pk=x.pk).update(exit_date=D(2024, 3, 20))
    billed(level="partial", entry=D(2024, 4, 24))

    april = confirm_month(actor=bureau_user, settlement=settle(2024, 4))
    totals = april.provider_totals.get()
    assert (totals.gross, totals.net, totals.deficit_carried) == (Decimal("-0.13"), Decimal("0.00"), Decimal("0.13"))
    may = confirm_month(actor=bureau_user, settlement=settle(2024, 5))
    totals = may.provider_totals.get()
    assert (totals.deficit_brought, totals.net, totals.deficit_carried) == (
        Decimal("0.13"),
        Decimal("312.87"),
        Decimal("0.00"),
    )

    june = settle(2024, 6)

    totals = june.provider_totals.get()
    assert (totals.deficit_brought, totals.net) == (Decimal("0.00"), Decimal("313.00"))


def test_a_provider_with_no_one_billed_but_a_deduction_has_its_month_under_the_deductions_contract(
    settle, billed, provider, other_provider
):
    """March 2024: 康乐 bills no one but a deduction of 100.00 is verified against its contract (caregivers paid
    directly): 康乐's month is 0.00 under that contract, 100.00 due, none of it applied, all of it carried forward,
    nothing paid. 颐和, after it in the list, bills 189.00 and is paid them."""
    assert provider.pk < other_provider.pk
    billed(provider=other_provider)
    ours = ContractFactory(provider=provider, payee_mode=PayeeMode.CAREGIVERS)
    DeductionFactory(provider=provider, contract=ours, amount=Decimal("100.00"))

    march = settle(2024, 3)

    rows = {row.provider_id: row for row in march.provider_totals.all()}
    assert set(rows) == {provider.pk, other_provider.pk}
    row = rows[provider.pk]
    assert (row.contract_id, row.payee_mode, row.recipients, row.gross) == (
        ours.pk,
        PayeeMode.CAREGIVERS,
        0,
        Decimal("0.00"),
    )
    assert (row.deductions_due, row.deductions_applied, row.carried_forward, row.net) == (
        Decimal("100.00"),
        Decimal("0.00"),
        Decimal("100.00"),
        Decimal("0.00"),
    )
    assert [(p.provider_id, p.amount) for p in march.payments.all()] == [(other_provider.pk, Decimal("189.00"))]
