"""The half-year scorecard: every figure that goes into a provider's review, computed from the records."""

import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Avg, Count, Q, Sum
from django.utils import timezone

from contracts.models import Provider, PurchaseContract
from services.selectors import provider_visit_figures
from shenxian_care.months import months_between
from shenxian_care.scoping import get_for_actor_or_404

from ..models import (
    Deduction,
    DeductionStatus,
    Evaluation,
    EvaluationStatus,
    HalfYearReview,
    ProblemStatus,
    RectificationNotice,
    RectificationStatus,
    ReviewDecision,
    SeriousProblemReport,
    SpotCheck,
    SpotCheckResult,
)
from .evaluations import serving_pairs

# Placeholder thresholds until the bureau sets its own: below these the proposal is "rectify and continue".
PASS_SCORE = Decimal("60")
COMPLIANCE_FLOOR = Decimal("0.80")
TWO = Decimal("0.01")


def _money(value):
    return str((value or Decimal(0)).quantize(TWO, rounding=ROUND_HALF_UP))


def providers_under_review(start, end):
    """Providers whose contract ran on some day of [start, end]."""
    contracts = PurchaseContract.objects.in_force_between(start, end)
    return Provider.objects.filter(pk__in=contracts.values("provider_id")).order_by("name")


def _evaluation_figures(provider, start, end):
    submitted = Evaluation.objects.filter(
        provider=provider, status=EvaluationStatus.SUBMITTED, month__gte=start, month__lte=end
    ).select_related("town")
    rows = [
        {"town": e.town.name, "month": e.month.strftime("%Y-%m"), "score": str(e.total_score)}
        for e in submitted.order_by("month", "town__sort_order")
    ]
    average = submitted.aggregate(avg=Avg("total_score"))["avg"]
    expected = sum(len(serving_pairs(month, provider=provider)) for month in months_between(start, end))
    return {
        "submitted": len(rows),
        "expected": expected,
        "average": None if average is None else str(Decimal(average).quantize(TWO, rounding=ROUND_HALF_UP)),
        "rows": rows,
    }


def _spot_check_figures(provider, start, end):
    checks = SpotCheck.objects.filter(provider=provider, checked_on__gte=start, checked_on__lte=end)
    totals = checks.aggregate(
        total=Count("pk"),
        problems=Count("pk", filter=Q(result=SpotCheckResult.PROBLEM)),
        onsite=Count("pk", filter=Q(method="onsite")),
        platform=Count("pk", filter=Q(method="platform")),
        phone=Count("pk", filter=Q(method="phone")),
        unsatisfied=Count("pk", filter=Q(method="phone", answers__satisfaction="不满意")),
    )
    return totals


def _rectification_figures(provider, start, end):
    notices = RectificationNotice.objects.filter(provider=provider, issued_on__gte=start, issued_on__lte=end)
    totals = notices.aggregate(
        issued=Count("pk"),
        accepted=Count("pk", filter=Q(status=RectificationStatus.ACCEPTED)),
        on_time=Count("pk", filter=Q(status=RectificationStatus.ACCEPTED, overdue_on__isnull=True)),
        overdue=Count("pk", filter=Q(overdue_on__isnull=False)),
        still_open=Count("pk", filter=~Q(status=RectificationStatus.ACCEPTED)),
    )
    return totals


def _overdue_serious(provider, start, end):
    """Serious problems whose rectification went past its deadline in the half, or is overdue still."""
    notices = (
        RectificationNotice.objects.filter(provider=provider, serious_problem__isnull=False)
        .filter(Q(overdue_on__gte=start, overdue_on__lte=end) | Q(status=RectificationStatus.OVERDUE))
        .select_related("serious_problem__town")
        .order_by("deadline", "pk")
    )
    return [
        {
            "notice": n.number,
            "town": n.serious_problem.town.name,
            "deadline": n.deadline.isoformat(),
            "status": n.get_status_display(),
        }
        for n in notices
    ]


def _problem_figures(provider, start, end):
    verified = SeriousProblemReport.objects.filter(
        provider=provider, status=ProblemStatus.VERIFIED, verified_on__gte=start, verified_on__lte=end
    ).select_related("town")
    rows = [
        {
            "id": p.pk,
            "town": p.town.name,
            "occurred_on": p.occurred_on.isoformat(),
            "verified_on": p.verified_on.isoformat(),
            "category": p.category,
            "category_label": p.get_category_display(),
            "fraud": p.is_fraud,
        }
        for p in verified.order_by("verified_on", "pk")
    ]
    return {"verified": len(rows), "fraud": sum(1 for r in rows if r["fraud"]), "rows": rows}


def _deduction_figures(provider, start, end):
    totals = Deduction.objects.filter(
        provider=provider, status=DeductionStatus.VERIFIED, verified_on__gte=start, verified_on__lte=end
    ).aggregate(count=Count("pk"), amount=Sum("amount"))
    return {"count": totals["count"], "amount": _money(totals["amount"])}


def _visit_figures(provider, start, end):
    raw = provider_visit_figures(provider=provider, start=start, end=end)
    return {key: str(value) if isinstance(value, Decimal) else value for key, value in raw.items()}


def scorecard(provider, start, end) -> dict:
    """Everything the review shows, and the proposal that follows from it (with its reasons)."""
    figures = {
        "period": {"start": start.isoformat(), "end": end.isoformat()},
        "evaluations": _evaluation_figures(provider, start, end),
        "spot_checks": _spot_check_figures(provider, start, end),
        "rectification": _rectification_figures(provider, start, end),
        "serious_problems": _problem_figures(provider, start, end),
        "overdue_serious_problems": _overdue_serious(provider, start, end),
        "deductions": _deduction_figures(provider, start, end),
        "visits": _visit_figures(provider, start, end),
    }
    decision = proposal_from(figures)
    average = figures["evaluations"]["average"]
    return {
        "figures": figures,
        "evaluation_average": None if average is None else Decimal(average),
        **decision,
    }


def proposal_from(figures) -> dict:
    """The review's rules, from the scorecard's figures alone.

    - Termination is forced (`veto`: the bureau can only decide to terminate) by a verified fraud, false report or
      breach of contract (一票否决), and likewise by a serious quality problem whose rectification is overdue.
    - Otherwise each of these on its own proposes "rectify and continue": a monthly evaluation average below
      PASS_SCORE, an overdue rectification notice, a visit compliance rate below COMPLIANCE_FLOOR.
    - Otherwise "continue".
    """
    fraud = [
        f"{row['verified_on']} {row['town']}：{row['category_label']}（查证属实）"
        for row in figures["serious_problems"]["rows"]
        if row["fraud"]
    ]
    overdue_serious = [
        f"{row['town']}：严重服务质量问题逾期未整改（整改通知{row['notice']}，期限{row['deadline']}）"
        for row in figures["overdue_serious_problems"]
    ]
    proposal_reasons = []
    if fraud:
        proposal_reasons.append("一票否决：查证属实的弄虚作假、不按合同履约或虚假报告。")
    if overdue_serious:
        proposal_reasons.append(f"严重服务质量问题逾期未整改{len(overdue_serious)}项。")
    if fraud or overdue_serious:
        proposal = ReviewDecision.TERMINATE
    else:
        average = figures["evaluations"]["average"]
        if average is not None and Decimal(average) < PASS_SCORE:
            proposal_reasons.append(f"月度考评平均分{average}，低于{PASS_SCORE}分。")
        if figures["rectification"]["overdue"]:
            proposal_reasons.append(f"整改通知逾期{figures['rectification']['overdue']}份。")
        compliance = Decimal(figures["visits"]["compliance_rate"])
        if compliance < COMPLIANCE_FLOOR:
            proposal_reasons.append(f"上门服务达标率{compliance:.0%}，低于{COMPLIANCE_FLOOR:.0%}。")
        proposal = ReviewDecision.CONTINUE_RECTIFY if proposal_reasons else ReviewDecision.CONTINUE
    veto_reasons = fraud + overdue_serious
    return {
        "veto": bool(veto_reasons),
        "veto_reasons": veto_reasons,
        "proposal": proposal,
        "proposal_reasons": proposal_reasons,
    }


def review_list(*, actor, filters=None):
    qs = HalfYearReview.objects.for_actor(actor).select_related("provider", "decided_by")
    for key in ("half", "status", "provider", "proposal", "decision"):
        if (filters or {}).get(key):
            qs = qs.filter(**{key: filters[key]})
    return qs


def review_get_for_actor(*, actor, pk):
    return get_for_actor_or_404(HalfYearReview.objects.select_related("provider"), actor, pk=pk)


def providers_with_verified_fraud():
    """Providers with a verified fraud problem (一票否决 grounds) whose contracts are not all ended yet."""
    today = timezone.localdate()
    live = PurchaseContract.objects.in_force_between(today, datetime.date.max).values("provider_id")
    frauds = SeriousProblemReport.objects.verified_fraud().values("provider_id")
    return Provider.objects.filter(pk__in=frauds).filter(pk__in=live).order_by("name")
