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


# --- The edges the mutation run of billing/proposals.py found untested ---


def _evaluation(provider, town_name, month, score, *, submitted=True):
    from supervision.selectors.evaluations import current_sheet
    from tests.factories import UserFactory, town

    official = UserFactory(username=f"town-{town_name}", role="town", town=town(town_name))
    return Evaluation.objects.create(
        town=town(town_name),
        provider=provider,
        month=month,
        sheet=current_sheet(),
        created_by=official,
        status="submitted" if submitted else "draft",
        total_score=Decimal(score),
        submitted_by=official if submitted else None,
        submitted_at=timezone.now() if submitted else None,
    )


def test_each_towns_submitted_evaluation_of_the_provider_for_the_month_below_the_line_is_its_own_proposal(
    settle, billed, provider, other_provider
):
    """Threshold 80, 200.00 each: 燕塔街道 scored 75.00 and 朝城镇 79.99 in March 2024, two proposals in the towns'
    order, each naming its evaluation, town and score. Not proposed: 莘亭街道's draft of 50.00 (not submitted),
    燕塔街道's February evaluation of 50.00, and 颐和's own 50.00 from 燕塔街道 (another provider)."""
    recipient = billed()
    _visits(recipient, 4)
    rule = _rule(provider, DeductionBasis.LOW_EVALUATION, "200.00", threshold=Decimal("80"))
    yanta = _evaluation(provider, "燕塔街道", D(2024, 3, 1), "75.00")
    chaocheng = _evaluation(provider, "朝城镇", D(2024, 3, 1), "79.99")
    _evaluation(provider, "莘亭街道", D(2024, 3, 1), "50.00", submitted=False)
    _evaluation(provider, "燕塔街道", D(2024, 2, 1), "50.00")
    _evaluation(other_provider, "燕塔街道", D(2024, 3, 1), "50.00")

    march = settle(2024, 3)

    found = DeductionProposal.objects.filter(settlement=march).order_by("pk")
    assert [(p.kind, p.provider_id, p.rule, p.amount, p.evidence) for p in found] == [
        (
            ProposalKind.LOW_EVALUATION,
            provider.pk,
            rule,
            Decimal("200.00"),
            {"evaluation": yanta.pk, "town": "燕塔街道", "score": "75.00", "threshold": "80.00"},
        ),
        (
            ProposalKind.LOW_EVALUATION,
            provider.pk,
            rule,
            Decimal("200.00"),
            {"evaluation": chaocheng.pk, "town": "朝城镇", "score": "79.99", "threshold": "80.00"},
        ),
    ]


def test_missed_visits_count_only_the_providers_own_visits_of_the_month(settle, billed, provider, other_provider):
    """10.00 a missed visit. 甲 (半失能, 8 a month) moves from 颐和 to 康乐 on 11 March 2024: 康乐 served 21 of 31
    days, so needs 8 × 21 / 31 = 5.4… → 5; 颐和 made 4 visits before the move and 康乐 4 after: 康乐 missed 1,
    10.00 (颐和's visits are not 康乐's). 乙 (自理, 4 a month) had visits on 29 February and 1 April only: none in
    March, 4 missed, 40.00. Each proposal names its recipient and the rule."""
    from tests.factories import AgreementFactory, CaregiverFactory, ContractFactory

    ContractFactory(provider=provider)
    jia = billed(level="partial", provider=other_provider, end=D(2024, 3, 10), status="terminated")
    ours = AgreementFactory(
        recipient=jia,
        provider=provider,
        contract=provider.contracts.first(),
        caregiver=CaregiverFactory(provider=provider),
        start_date=D(2024, 3, 11),
    )
    theirs = jia.agreements.get(provider=other_provider)
    for day in (2, 4, 6, 8):
        make_visit(theirs, D(2024, 3, day))
    for day in (12, 14, 16, 18):
        make_visit(ours, D(2024, 3, day))
    yi = billed()
    for day in (D(2024, 2, 29), D(2024, 4, 1)):
        make_visit(yi.agreements.get(), day)
    rule = _rule(provider, DeductionBasis.MISSED_VISIT, "10.00")

    march = settle(2024, 3)

    found = DeductionProposal.objects.filter(settlement=march).order_by("recipient_id")
    assert [(p.kind, p.provider_id, p.recipient_id, p.rule, p.amount, p.evidence) for p in found] == [
        (
            ProposalKind.MISSED_VISITS,
            provider.pk,
            jia.pk,
            rule,
            Decimal("10.00"),
            {"required": 5, "done": 4, "missed": 1, "per_visit": "10.00"},
        ),
        (
            ProposalKind.MISSED_VISITS,
            provider.pk,
            yi.pk,
            rule,
            Decimal("40.00"),
            {"required": 4, "done": 0, "missed": 4, "per_visit": "10.00"},
        ),
    ]


def test_every_provider_without_a_visit_in_the_month_is_proposed_its_gross_and_the_others_still_get_theirs(
    settle, billed, provider, other_provider
):
    """March 2024: 康乐 (自理, 189.00) made a visit on 29 February only, 颐和 (失能, 626.00) on 1 April only: neither
    made one in March, so each is proposed its whole gross, with the evidence. 福寿 made 3 of its person's 4
    visits: 1 missed, 10.00. Computing the month again proposes the same (undecided proposals are recomputed)."""
    from tests.factories import ProviderFactory

    kangle = billed()
    make_visit(kangle.agreements.get(), D(2024, 2, 29))
    yihe = billed(level="full", provider=other_provider)
    make_visit(yihe.agreements.get(), D(2024, 4, 1))
    fushou = ProviderFactory(name="莘县福寿养老服务中心")
    served = billed(provider=fushou)
    _visits(served, 3)
    _rule(fushou, DeductionBasis.MISSED_VISIT, "10.00")
    settle(2024, 3)

    march = settle(2024, 3)

    found = DeductionProposal.objects.filter(settlement=march, status=ProposalStatus.PROPOSED)
    assert sorted((p.provider_id, p.kind, p.amount, p.evidence) for p in found) == sorted(
        [
            (provider.pk, ProposalKind.NO_VISITS, Decimal("189.00"), {"gross": "189.00", "visits": 0, "recipients": 1}),
            (
                other_provider.pk,
                ProposalKind.NO_VISITS,
                Decimal("626.00"),
                {"gross": "626.00", "visits": 0, "recipients": 1},
            ),
            (
                fushou.pk,
                ProposalKind.MISSED_VISITS,
                Decimal("10.00"),
                {"required": 4, "done": 3, "missed": 1, "per_visit": "10.00"},
            ),
        ]
    )


def test_a_provider_with_nothing_to_be_paid_is_proposed_nothing(provider, bureau_user):
    """A verified deduction of 100.00 reaches 康乐 in March 2024, but no one of its is billed: its month is 0.00,
    so there is nothing to withhold for the missing visits and no proposal is made."""
    from billing.actions import settlement_compute
    from tests.factories import ContractFactory

    from .factories import DeductionFactory

    DeductionFactory(provider=provider, contract=ContractFactory(provider=provider))
    stats = {}

    march = settlement_compute(actor=bureau_user, month=D(2024, 3, 1), stats=stats)

    assert march.provider_totals.get().gross == Decimal("0.00")
    assert stats["proposals"] == 0
    assert not DeductionProposal.objects.filter(settlement=march).exists()


def test_a_provider_paid_one_fen_without_a_visit_is_proposed_that_fen(settle, provider):
    """The smallest month there is, 0.01, with no visit: proposed in full, like any other."""
    from billing.models import ProviderSettlement
    from billing.proposals import propose

    march = settle(2024, 3)
    row = ProviderSettlement(settlement=march, provider=provider, gross=Decimal("0.01"), recipients=1)

    assert propose(march, [row]) == 1
    assert DeductionProposal.objects.get(settlement=march).amount == Decimal("0.01")
