"""Ending a provider's contracts outside the half-year calendar: the one-vote veto at any time of the year, or a
contract that expires without renewal, followed by the zero-gap takeover plan that already exists."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from contracts.models import Agreement, ContractStatus, PurchaseContract
from shenxian_care.exceptions import ApplicationError
from supervision import actions
from supervision.models import HalfYearReview, ProblemStatus, ReviewDecision, SeriousProblemReport
from tests.factories import CaregiverFactory, ContractFactory

from .factories import serve

pytestmark = pytest.mark.django_db


def _verified_fraud(provider, town_user, bureau_user, agreement):
    report = SeriousProblemReport.objects.create(
        provider=provider,
        town=agreement.town,
        recipient=agreement.recipient,
        occurred_on=timezone.localdate(),
        category="false_data",
        description="虚报上门记录",
        reported_by=town_user,
    )
    SeriousProblemReport.objects.filter(pk=report.pk).update(
        status=ProblemStatus.VERIFIED, verified_on=timezone.localdate(), decision_reason="现场核实属实"
    )
    return report


def test_the_veto_needs_verified_fraud(bureau_user, provider, provider_contract):
    serve(provider)
    with pytest.raises(ApplicationError, match="没有查证属实的弄虚作假"):
        actions.termination_start(actor=bureau_user, provider=provider, grounds="veto", reason="虚报数据")
    assert not HalfYearReview.objects.exists()


def test_a_veto_mid_year_ends_the_contracts_through_the_takeover(
    bureau_user, town_user, provider, provider_contract, other_provider
):
    """Fraud verified in the middle of a half year: the review of the half so far is decided 终止合同 at once,
    and the takeover hands the recipient over with no day uncovered."""
    (agreement,) = serve(provider)
    _verified_fraud(provider, town_user, bureau_user, agreement)

    review = actions.termination_start(actor=bureau_user, provider=provider, grounds="veto", reason="虚报上门记录")

    assert (review.decision, review.veto, review.period_end) == (
        ReviewDecision.TERMINATE,
        True,
        timezone.localdate(),
    )
    ContractFactory(provider=other_provider)
    CaregiverFactory(provider=other_provider)
    day = timezone.localdate() + datetime.timedelta(days=1)
    actions.takeover_execute(actor=bureau_user, review=review, new_provider=other_provider, takeover_date=day)
    assert PurchaseContract.objects.get(provider=provider).terminated_on == timezone.localdate()
    assert PurchaseContract.objects.get(provider=provider).status == ContractStatus.TERMINATED
    assert Agreement.objects.in_force_on(day).get(recipient=agreement.recipient).provider == other_provider


def test_expiry_needs_a_contract_ending_within_60_days(bureau_user, provider):
    today = timezone.localdate()
    ContractFactory(provider=provider, start_date=datetime.date(2024, 1, 1), end_date=today + datetime.timedelta(61))
    with pytest.raises(ApplicationError, match="60日内到期"):
        actions.termination_start(actor=bureau_user, provider=provider, grounds="expiry", reason="不再续签")

    PurchaseContract.objects.filter(provider=provider).update(end_date=today + datetime.timedelta(60))
    review = actions.termination_start(actor=bureau_user, provider=provider, grounds="expiry", reason="不再续签")
    assert review.decision == ReviewDecision.TERMINATE and "合同期满不再续签" in review.decision_reason


def test_the_bureau_sees_contracts_ending_soon_and_ends_one_from_the_portal(client_as, bureau_user, provider):
    today = timezone.localdate()
    contract = ContractFactory(
        provider=provider, start_date=datetime.date(2024, 1, 1), end_date=today + datetime.timedelta(30)
    )
    client = client_as(bureau_user)
    page = client.get(reverse("supervision:termination")).content.decode()
    assert contract.number in page

    response = client.post(
        reverse("supervision:termination"), {"provider": provider.pk, "grounds": "expiry", "reason": "不再续签"}
    )
    review = HalfYearReview.objects.get(provider=provider)
    assert response.status_code == 302 and response["Location"] == reverse("supervision:takeover", args=[review.pk])
