"""A verified deduction can be cancelled or corrected with a reason and a second bureau user's approval
(maker-checker); what a frozen month already deducted comes back as a credit in the next month settled."""

import datetime
from decimal import Decimal

import pytest

from billing.models import DeductionApplication
from shenxian_care.exceptions import ApplicationError
from shenxian_care.models import Role
from supervision.actions import (
    deduction_correction_approve,
    deduction_correction_reject,
    deduction_correction_request,
)
from supervision.models import CorrectionStatus, DeductionStatus
from tests.factories import UserFactory

from .conftest import confirm_month
from .factories import DeductionFactory

D = datetime.date
pytestmark = pytest.mark.django_db


@pytest.fixture
def checker(db):
    return UserFactory(username="bureau-checker", role=Role.BUREAU, last_name="李", first_name="复核")


@pytest.fixture
def march_with_deduction(settle, billed, provider, bureau_user):
    """March 2024: one 失能 recipient (626.00) and a verified 100.00 deduction: net 526.00, confirmed."""
    billed(level="full")
    deduction = DeductionFactory(provider=provider, contract=provider.contracts.first(), verified_on=D(2024, 3, 10))
    march = confirm_month(actor=bureau_user, settlement=settle(2024, 3))
    assert march.net == Decimal("526.00")
    return march, deduction


def test_a_cancelled_deduction_is_paid_back_in_the_next_month(march_with_deduction, settle, bureau_user, checker):
    """April: the same person, 626.00; the 100.00 taken in March comes back: net 726.00, March untouched."""
    march, deduction = march_with_deduction
    correction = deduction_correction_request(actor=bureau_user, deduction=deduction, reason="复查不属实")
    deduction_correction_approve(actor=checker, correction=correction)

    april = settle(2024, 4)

    deduction.refresh_from_db()
    assert deduction.status == DeductionStatus.CANCELLED
    assert (april.gross, april.deductions_applied, april.net) == (
        Decimal("626.00"),
        Decimal("-100.00"),
        Decimal("726.00"),
    )
    credit = DeductionApplication.objects.get(settlement=april)
    assert (credit.deduction, credit.amount_applied) == (deduction, Decimal("-100.00"))
    march.refresh_from_db()
    assert march.net == Decimal("526.00")


def test_a_lowered_deduction_credits_the_difference(march_with_deduction, settle, bureau_user, checker):
    """Corrected from 100.00 to 60.00: April gets 40.00 back, 626.00 + 40.00 = 666.00."""
    _, deduction = march_with_deduction
    correction = deduction_correction_request(
        actor=bureau_user, deduction=deduction, reason="按实际情节减轻", new_amount="60.00"
    )
    deduction_correction_approve(actor=checker, correction=correction)

    assert settle(2024, 4).net == Decimal("666.00")


def test_the_maker_cannot_approve_their_own_correction(march_with_deduction, bureau_user, checker):
    _, deduction = march_with_deduction
    correction = deduction_correction_request(actor=bureau_user, deduction=deduction, reason="复查不属实")

    with pytest.raises(ApplicationError, match="另一位"):
        deduction_correction_approve(actor=bureau_user, correction=correction)
    with pytest.raises(ApplicationError, match="已有待复核"):
        deduction_correction_request(actor=bureau_user, deduction=deduction, reason="再次申请")

    deduction_correction_reject(actor=checker, correction=correction, reason="证据充分，维持扣款")
    correction.refresh_from_db()
    deduction.refresh_from_db()
    assert correction.status == CorrectionStatus.REJECTED and deduction.status == DeductionStatus.VERIFIED


def test_a_correction_needs_a_reason_and_a_real_amount(march_with_deduction, bureau_user):
    _, deduction = march_with_deduction
    with pytest.raises(ApplicationError, match="理由"):
        deduction_correction_request(actor=bureau_user, deduction=deduction, reason=" ")
    for amount, message in (("0", "大于0"), ("100.00", "相同"), ("abc", "格式")):
        with pytest.raises(ApplicationError, match=message):
            deduction_correction_request(actor=bureau_user, deduction=deduction, reason="更正", new_amount=amount)


def test_a_deduction_cancelled_before_it_was_applied_simply_disappears(settle, billed, provider, bureau_user, checker):
    billed(level="full")
    deduction = DeductionFactory(provider=provider, contract=provider.contracts.first(), verified_on=D(2024, 3, 10))
    correction = deduction_correction_request(actor=bureau_user, deduction=deduction, reason="登记错误")
    deduction_correction_approve(actor=checker, correction=correction)

    march = settle(2024, 3)

    assert (march.deductions_applied, march.net) == (Decimal("0.00"), Decimal("626.00"))


def test_two_bureau_users_correct_a_deduction_in_the_portal(march_with_deduction, bureau_user, checker, client_as):
    from django.urls import reverse

    from supervision.models import DeductionCorrection

    _, deduction = march_with_deduction
    url = reverse("supervision:deductions")
    client_as(bureau_user).post(url, {"verb": "request", "deduction": deduction.pk, "reason": "复查不属实"})
    correction = DeductionCorrection.objects.get()
    # the maker sees no approve button and cannot approve by posting
    assert "待他人复核" in client_as(bureau_user).get(url).content.decode()
    client_as(bureau_user).post(url, {"verb": "approve", "correction": correction.pk})
    correction.refresh_from_db()
    assert correction.status == CorrectionStatus.PENDING

    client_as(checker).post(url, {"verb": "approve", "correction": correction.pk})
    correction.refresh_from_db()
    deduction.refresh_from_db()
    assert correction.status == CorrectionStatus.APPROVED and deduction.status == DeductionStatus.CANCELLED


def test_a_terminated_providers_deduction_still_owed_is_shown_to_finance_as_receivable(
    settle, billed, provider, bureau_user, finance_user, client_as
):
    """March 2024: 189.00 earned, a 500.00 deduction verified: 189.00 applied, 311.00 carried forward. The
    provider's contract ended on 31 March, so the 311.00 is 应追回 for the finance bureau."""
    from django.urls import reverse

    from contracts.models import PurchaseContract

    billed()
    PurchaseContract.objects.filter(provider=provider).update(status="terminated", terminated_on=D(2024, 3, 31))
    DeductionFactory(provider=provider, contract=provider.contracts.first(), amount=Decimal("500.00"))
    march = settle(2024, 3)

    page = client_as(finance_user).get(reverse("billing:settlement_detail", args=[march.pk])).content.decode()

    assert "应追回" in page and "¥311.00" in page
