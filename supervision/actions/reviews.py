"""Half-year review (退出机制) and the takeover plan (接管预案)."""

import datetime

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from contracts.selectors import contracts_ending_within
from shenxian_care.exceptions import ApplicationError
from shenxian_care.models import Role
from shenxian_care.permissions import ensure_role
from shenxian_care.scoping import actor_role

from ..dates import half_bounds, half_ended_before
from ..models import HalfYearReview, ReviewDecision, ReviewStatus, SeriousProblemReport
from ..selectors.reviews import providers_under_review, scorecard


def _bounds(half):
    try:
        return half_bounds(half)
    except ValueError as exc:
        raise ApplicationError(str(exc), field="half") from None


@transaction.atomic
def review_build(*, half: str, today: datetime.date | None = None):
    """System action (beat task on 1 Jan and 1 Jul, or the management command): build or refresh each
    provider's scorecard for a half year that has ended. Idempotent: one review per provider and half
    (a unique constraint), refreshed while undecided, never touched once decided.

    Returns {"created": n, "updated": n, "decided": n}."""
    half = half.strip().upper()
    start, end = _bounds(half)
    today = today or timezone.localdate()
    if end >= today:
        raise ApplicationError(f"{half}尚未结束，不能评估。", field="half")
    counts = {"created": 0, "updated": 0, "decided": 0}
    now = timezone.now()
    for provider in providers_under_review(start, end):
        card = scorecard(provider, start, end)
        review, created = HalfYearReview.objects.select_for_update().get_or_create(
            provider=provider,
            half=half,
            defaults={"period_start": start, "period_end": end, "built_at": now, **card},
        )
        if created:
            counts["created"] += 1
        elif review.status == ReviewStatus.DECIDED:
            counts["decided"] += 1
        else:
            for field, value in card.items():
                setattr(review, field, value)
            review.built_at = now
            review.build_count += 1
            review.save()
            counts["updated"] += 1
    return counts


def can_start_review(actor) -> bool:
    """Starting a half-year review is the bureau's: the page shows its button exactly when this is true."""
    return actor_role(actor) == Role.BUREAU


def startable_halves(today: datetime.date | None = None, *, count=4) -> list[str]:
    """The half years the bureau may start from the portal, the most recently ended first."""
    today = today or timezone.localdate()
    halves, day = [], today
    for _ in range(count):
        half = half_ended_before(day)
        halves.append(half)
        day = _bounds(half)[0]
    return halves


@transaction.atomic
def review_start(*, actor, half: str, today: datetime.date | None = None):
    """The bureau starts a half year's review from the portal (the beat task does it on 1 January and 1 July).

    Starting a half that already has reviews is refused: they are refreshed by the beat task while undecided, and a
    second start must not look like a new review. Returns review_build's counts."""
    if not can_start_review(actor):
        raise PermissionDenied("您的角色无权执行此操作。")
    half = (half or "").strip().upper()
    _bounds(half)

    def already(n):
        return ApplicationError(f"{half}的半年评估已经生成（{n}份），不能重复生成。", field="half")

    existing = HalfYearReview.objects.filter(half=half).count()
    if existing:
        raise already(existing)
    counts = review_build(half=half, today=today)
    if counts["updated"] or counts["decided"]:
        # Two starts at once: the other one's reviews were found on insert (one per provider and half, a unique
        # constraint). Refused, and this transaction's refresh of them rolled back.
        raise already(counts["created"] + counts["updated"] + counts["decided"])
    if not counts["created"]:
        raise ApplicationError(f"{half}没有履行合同的服务机构，未生成评估。", field="half")
    return counts


@transaction.atomic
def review_decide(*, actor, review, decision, reason: str):
    """The bureau decides. Where termination is forced (a verified fraud: the one-vote veto; or a serious problem
    whose rectification is overdue) the only decision allowed is to terminate, and the refusal says why."""
    ensure_role(actor, Role.BUREAU)
    review = HalfYearReview.objects.select_for_update().get(pk=review.pk)
    if review.status != ReviewStatus.DRAFT:
        raise ApplicationError("该半年评估已作出决定。")
    if decision not in ReviewDecision.values:
        raise ApplicationError("请选择决定。", field="decision")
    if review.veto and decision != ReviewDecision.TERMINATE:
        raise ApplicationError(f"一票否决，只能终止合同：{'；'.join(review.veto_reasons)}。", field="decision")
    if not (reason or "").strip():
        raise ApplicationError("请填写决定理由。", field="reason")
    review.decision = decision
    review.decision_reason = reason.strip()[:300]
    review.status = ReviewStatus.DECIDED
    review.decided_by = actor
    review.decided_at = timezone.now()
    review.save()
    return review


class TerminationGrounds:
    VETO = "veto"  # 一票否决: fraud verified at any time of the year
    EXPIRY = "expiry"  # the contract's term ends and it is not renewed

    choices = [(VETO, "一票否决（查证属实的弄虚作假），立即终止"), (EXPIRY, "合同期满不再续签")]


@transaction.atomic
def termination_start(*, actor, provider, grounds: str, reason: str, today: datetime.date | None = None):
    """End a provider's contracts outside the half-year calendar: the one-vote veto at any time of the year, or a
    contract that expires without renewal. Recorded as a review of the half year so far, decided 终止合同, so the
    zero-gap takeover plan (接管预案) that follows a review's termination hands every recipient over."""
    ensure_role(actor, Role.BUREAU)
    today = today or timezone.localdate()
    if not (reason or "").strip():
        raise ApplicationError("请填写终止理由。", field="reason")
    if grounds == TerminationGrounds.VETO:
        if not SeriousProblemReport.objects.verified_fraud().filter(provider=provider).exists():
            raise ApplicationError(
                "该服务机构没有查证属实的弄虚作假问题，不能一票否决；请先核实问题。", field="grounds"
            )
    elif grounds == TerminationGrounds.EXPIRY:
        if not contracts_ending_within(days=60, today=today).filter(provider=provider).exists():
            raise ApplicationError("该服务机构没有60日内到期的合同。", field="grounds")
    else:
        raise ApplicationError("请选择终止依据。", field="grounds")
    half = f"{today.year}H{1 if today.month <= 6 else 2}"
    start, _end = _bounds(half)
    review = HalfYearReview.objects.select_for_update().filter(provider=provider, half=half).first()
    if review is not None and review.status == ReviewStatus.DECIDED:
        if review.decision == ReviewDecision.TERMINATE:
            return review
        raise ApplicationError(f"{provider.name}{half}的评估已决定继续履约，请联系管理员更正后再终止。")
    card = scorecard(provider, start, today)
    if grounds == TerminationGrounds.VETO:
        card["veto"] = True
    now = timezone.now()
    label = dict(TerminationGrounds.choices)[grounds]
    values = {
        **card,
        "period_start": start,
        "period_end": today,
        "built_at": now,
        "status": ReviewStatus.DECIDED,
        "decision": ReviewDecision.TERMINATE,
        "decision_reason": f"{label}：{reason.strip()}"[:300],
        "decided_by": actor,
        "decided_at": now,
    }
    if review is None:
        return HalfYearReview.objects.create(provider=provider, half=half, **values)
    for field, value in values.items():
        setattr(review, field, value)
    review.save()
    return review
