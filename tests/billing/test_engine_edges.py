"""The settlement engine's money rules at the edges the mutation run of `billing/engine.py` found untested: where
caregivers are paid directly, who carries a correction of a frozen month, a credit, and a share of one fen.

Rates 2023: 自理 189.00, 半失能 313.00, 失能 626.00 a month; a line is rate × days ÷ days in month, rounded once,
half-up, to the fen; a net is split over caregivers by largest remainder."""

import datetime
from decimal import Decimal

import pytest

from billing.models import SettlementLine
from contracts.models import PayeeMode
from recipients.models import Recipient
from shenxian_care.models import Role
from supervision.actions import deduction_correction_approve, deduction_correction_request
from tests.factories import CaregiverFactory, ContractFactory, ProviderFactory, UserFactory

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
