"""Pay tied to the month's evidence (根据评估考核结果): the contract's schedule proposes deductions from the visits and
the towns' evaluations; the bureau accepts or waives each with a reason before the month is confirmed; a provider
with no visit at all is never paid in full unless someone waives it on the record."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from billing.actions import proposals_decide, settlement_confirm
from billing.models import DeductionProposal, ProposalKind, ProposalStatus
from contracts.models import DeductionBasis, DeductionRule
from shenxian_care.exceptions import ApplicationError
from supervision import actions as supervision_actions
from supervision.models import Deduction, DeductionSource, Evaluation
from tests.supervision.factories import make_visit

D = datetime.date
pytestmark = pytest.mark.django_db


def _rule(provider, basis, amount, threshold=None, code="E1"):
    return DeductionRule.objects.create(
        contract=provider.contracts.first(),
        code=code,
        description="按评估考核结果扣款",
        amount=Decimal(amount),
        basis=basis,
        threshold=threshold,
    )


def _visits(recipient, n):
    agreement = recipient.agreements.get()
    for day in range(1, n + 1):
        make_visit(agreement, D(2024, 3, day * 2))


def test_missed_standard_visits_are_proposed_per_recipient_and_applied_once_accepted(
    settle, billed, provider, bureau_user, django_capture_on_commit_callbacks
):
    """A 半失能 recipient needs 8 visits in March 2024 (the standard); 5 were made: 3 missed × 10.00 = 30.00.
    A 自理 recipient needs 4 and had 4: nothing. Accepted, the month is recomputed: 189.00 + 313.00 − 30.00 =
    472.00, and the deduction names the recipient (it falls on their caregiver where caregivers are paid)."""
    short = billed(level="partial")
    enough = billed(level="self_care")
    _rule(provider, DeductionBasis.MISSED_VISIT, "10.00")
    _visits(short, 5)
    _visits(enough, 4)

    march = settle(2024, 3)

    (proposal,) = DeductionProposal.objects.filter(settlement=march)
    assert (proposal.kind, proposal.recipient, proposal.amount) == (ProposalKind.MISSED_VISITS, short, Decimal("30.00"))
    assert proposal.evidence == {"required": 8, "done": 5, "missed": 3, "per_visit": "10.00"}
    with pytest.raises(ApplicationError, match="1条扣款建议待决定"):
        settlement_confirm(actor=bureau_user, settlement=march)

    with django_capture_on_commit_callbacks(execute=True):  # accepting queues the recomputation
        proposals_decide(actor=bureau_user, settlement=march, proposal_ids=[proposal.pk], accept=True)

    march.refresh_from_db()
    deduction = Deduction.objects.get()
    assert (deduction.source, deduction.recipient, deduction.amount) == (
        DeductionSource.EVIDENCE,
        short,
        Decimal("30.00"),
    )
    assert (march.gross, march.deductions_applied, march.net) == (
        Decimal("502.00"),
        Decimal("30.00"),
        Decimal("472.00"),
    )
    # the decision survives the recomputation, and the month can now be confirmed
    assert DeductionProposal.objects.get().status == ProposalStatus.ACCEPTED
    assert settlement_confirm(actor=bureau_user, settlement=march).status == "confirmed"


def test_a_town_evaluation_below_the_threshold_is_proposed(settle, billed, provider, bureau_user, town_user):
    """Threshold 80: 燕塔街道 scored 75.00 in March 2024 → 200.00 proposed, with the evaluation as evidence."""
    recipient = billed()
    _visits(recipient, 4)
    _rule(provider, DeductionBasis.LOW_EVALUATION, "200.00", threshold=Decimal("80"))
    evaluation = supervision_actions.evaluation_start(
        actor=town_user, town=town_user.town, provider=provider, month=D(2024, 3, 1)
    )
    Evaluation.objects.filter(pk=evaluation.pk).update(
        status="submitted", total_score=Decimal("75.00"), submitted_by=town_user, submitted_at=timezone.now()
    )

    (proposal,) = DeductionProposal.objects.filter(settlement=settle(2024, 3))

    assert (proposal.kind, proposal.amount) == (ProposalKind.LOW_EVALUATION, Decimal("200.00"))
    assert proposal.evidence["score"] == "75.00" and proposal.evidence["threshold"] == "80.00"
    assert proposal.evidence["evaluation"] == evaluation.pk

    Evaluation.objects.filter(pk=evaluation.pk).update(total_score=Decimal("80.00"))  # at the line: no deduction
    assert not DeductionProposal.objects.filter(settlement=settle(2024, 3)).exists()


def test_a_provider_with_no_visit_at_all_is_not_paid_in_full_without_a_waiver(settle, billed, bureau_user):
    """No schedule at all, no visit in March: the whole 626.00 is proposed; waiving needs a reason on record."""
    billed(level="full")
    march = settle(2024, 3)
    (proposal,) = DeductionProposal.objects.filter(settlement=march)
    assert (proposal.kind, proposal.amount) == (ProposalKind.NO_VISITS, Decimal("626.00"))

    with pytest.raises(ApplicationError, match="免予扣款须填写理由"):
        proposals_decide(actor=bureau_user, settlement=march, proposal_ids=[proposal.pk], accept=False)
    proposals_decide(
        actor=bureau_user, settlement=march, proposal_ids=[proposal.pk], accept=False, reason="系统故障，纸质记录已核"
    )

    proposal.refresh_from_db()
    assert (proposal.status, proposal.decided_by, proposal.decision_reason) == (
        ProposalStatus.WAIVED,
        bureau_user,
        "系统故障，纸质记录已核",
    )
    assert settle(2024, 3).net == Decimal("626.00")
    assert DeductionProposal.objects.get().status == ProposalStatus.WAIVED  # kept across the recomputation
    assert settlement_confirm(actor=bureau_user, settlement=march).status == "confirmed"


def test_only_the_bureau_decides_proposals(settle, billed, finance_user, provider_user):
    from django.core.exceptions import PermissionDenied

    billed()
    march = settle(2024, 3)
    ids = list(march.proposals.values_list("pk", flat=True))
    for actor in (finance_user, provider_user):
        with pytest.raises(PermissionDenied):
            proposals_decide(actor=actor, settlement=march, proposal_ids=ids, accept=True)
