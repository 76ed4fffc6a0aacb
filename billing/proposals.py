"""Deductions proposed from the month's evidence (根据评估考核结果), per the contract's deduction schedule:

- 标准上门服务不足: for each recipient, the standard visits for their level prorated to the days served, minus the
  visits that count; each one missing costs the rule's amount (the deduction names the recipient, so where
  caregivers are paid directly it falls on that recipient's caregiver);
- 月度考评低于分数线: each town's submitted evaluation of the provider below the rule's threshold;
- 本月没有任何上门服务记录: a provider paid for the month with no counted visit at all is proposed its whole gross,
  whatever its schedule, so it is never paid in full unless someone waives it on the record.

Each proposal carries its evidence; the bureau accepts (a verified deduction of this month, applied when the month
is computed again) or waives with a reason. Undecided proposals are recomputed each time; decided ones stay."""

from django.db.models import Count

from contracts.models import Agreement, DeductionBasis, DeductionRule
from services.models import Visit
from services.selectors import required_visits
from shenxian_care.months import month_end
from supervision.models import Evaluation, EvaluationStatus

from .models import DeductionProposal, ProposalKind, ProposalStatus


def propose(settlement, provider_rows):
    """Write the month's undecided proposals for the providers of `provider_rows` (ProviderSettlement rows)."""
    first, last = settlement.month, month_end(settlement.month)
    decided = set(
        DeductionProposal.objects.filter(settlement=settlement)
        .exclude(status=ProposalStatus.PROPOSED)
        .values_list("key", flat=True)
    )
    DeductionProposal.objects.filter(settlement=settlement, status=ProposalStatus.PROPOSED).delete()
    rows = [row for row in provider_rows if row.gross > 0]
    if not rows:
        return 0
    rules = {}
    for rule in DeductionRule.objects.filter(
        contract_id__in=[row.contract_id for row in rows if row.contract_id],
        basis__in=[DeductionBasis.MISSED_VISIT, DeductionBasis.LOW_EVALUATION],
    ).order_by("code"):
        rules.setdefault((rule.contract_id, rule.basis), rule)
    counted = dict(
        Visit.objects.counted()
        .filter(provider_id__in=[row.provider_id for row in rows], visit_date__gte=first, visit_date__lte=last)
        .values("provider_id")
        .annotate(n=Count("pk"))
        .values_list("provider_id", "n")
    )
    proposals = []
    for row in rows:
        if not counted.get(row.provider_id):
            proposals.append(
                DeductionProposal(
                    settlement=settlement,
                    provider_id=row.provider_id,
                    kind=ProposalKind.NO_VISITS,
                    key=f"no_visits:{row.provider_id}",
                    amount=row.gross,
                    evidence={"gross": str(row.gross), "visits": 0, "recipients": row.recipients},
                )
            )
            continue
        missed = rules.get((row.contract_id, DeductionBasis.MISSED_VISIT))
        if missed is not None:
            proposals.extend(_missed_visits(settlement, row, missed, first, last))
        low = rules.get((row.contract_id, DeductionBasis.LOW_EVALUATION))
        if low is not None:
            proposals.extend(_low_evaluations(settlement, row, low, first))
    fresh = [p for p in proposals if p.key not in decided]
    DeductionProposal.objects.bulk_create(fresh, batch_size=2000)
    return len(fresh)


def _missed_visits(settlement, row, rule, first, last):
    required = required_visits(agreements=Agreement.objects.filter(provider_id=row.provider_id), start=first, end=last)
    done = dict(
        Visit.objects.counted()
        .filter(provider_id=row.provider_id, visit_date__gte=first, visit_date__lte=last)
        .values("recipient_id")
        .annotate(n=Count("pk"))
        .values_list("recipient_id", "n")
    )
    for (recipient_id, _month), need in sorted(required.items()):
        missing = need - done.get(recipient_id, 0)
        if missing > 0:
            yield DeductionProposal(
                settlement=settlement,
                provider_id=row.provider_id,
                kind=ProposalKind.MISSED_VISITS,
                key=f"missed:{row.provider_id}:{recipient_id}",
                rule=rule,
                recipient_id=recipient_id,
                amount=rule.amount * missing,
                evidence={
                    "required": need,
                    "done": done.get(recipient_id, 0),
                    "missed": missing,
                    "per_visit": str(rule.amount),
                },
            )


def _low_evaluations(settlement, row, rule, first):
    for evaluation_id, town_name, score in (
        Evaluation.objects.filter(
            provider_id=row.provider_id,
            month=first,
            status=EvaluationStatus.SUBMITTED,
            total_score__lt=rule.threshold,
        )
        .order_by("town__sort_order")
        .values_list("pk", "town__name", "total_score")
    ):
        yield DeductionProposal(
            settlement=settlement,
            provider_id=row.provider_id,
            kind=ProposalKind.LOW_EVALUATION,
            key=f"evaluation:{evaluation_id}",
            rule=rule,
            amount=rule.amount,
            evidence={
                "evaluation": evaluation_id,
                "town": town_name,
                "score": str(score),
                "threshold": str(rule.threshold),
            },
        )
