"""Half-year review (退出机制) and the takeover plan (接管预案)."""

import datetime

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from contracts.actions import agreement_create, agreement_sign_as_town, agreement_terminate, contract_terminate
from contracts.models import Agreement, AgreementStatus, Caregiver, ContractStatus, PurchaseContract
from contracts.selectors import contract_covering
from shenxian_care.exceptions import ApplicationError
from shenxian_care.models import Role
from shenxian_care.permissions import ensure_role

from ..dates import half_bounds
from ..models import HalfYearReview, ReviewDecision, ReviewStatus, Takeover, TakeoverLine
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


@transaction.atomic
def review_decide(*, actor, review, decision, reason: str):
    """The bureau decides. After a one-vote veto the only decision allowed is to terminate."""
    ensure_role(actor, Role.BUREAU)
    review = HalfYearReview.objects.select_for_update().get(pk=review.pk)
    if review.status != ReviewStatus.DRAFT:
        raise ApplicationError("该半年评估已作出决定。")
    if decision not in ReviewDecision.values:
        raise ApplicationError("请选择决定。", field="decision")
    if review.veto and decision != ReviewDecision.TERMINATE:
        raise ApplicationError("该服务机构有查证属实的弄虚作假等情形（一票否决），只能终止合同。", field="decision")
    if not (reason or "").strip():
        raise ApplicationError("请填写决定理由。", field="reason")
    review.decision = decision
    review.decision_reason = reason.strip()[:300]
    review.status = ReviewStatus.DECIDED
    review.decided_by = actor
    review.decided_at = timezone.now()
    review.save()
    return review


def _pick_caregiver(provider, town, cache):
    """The takeover provider's active caregiver for `town`: one living there if any, else the least loaded."""
    if town.pk not in cache:
        cache[town.pk] = (
            Caregiver.objects.filter(provider=provider, is_active=True)
            .annotate(
                here=Count("pk", filter=Q(home_town=town)),
                load=Count("agreements", filter=Q(agreements__status=AgreementStatus.SIGNED)),
            )
            .order_by("-here", "load", "pk")
            .first()
        )
    return cache[town.pk]


@transaction.atomic
def takeover_execute(
    *,
    actor,
    review,
    new_provider,
    takeover_date: datetime.date,
    caregivers: dict | None = None,
):
    """Hand every recipient of the terminated provider to `new_provider`, with no day uncovered.

    Each active agreement ends the day before `takeover_date`; a new agreement with the takeover provider
    (same recipient, town, village; the level is the recipient's approved level) is signed from that day,
    with the caregiver given for the town in `caregivers` ({town_id: Caregiver}) or picked from the takeover
    provider's staff. One transaction: if any agreement cannot move, nothing moves, and the error lists
    every line that failed."""
    ensure_role(actor, Role.BUREAU)
    review = HalfYearReview.objects.select_for_update(of=("self",)).select_related("provider").get(pk=review.pk)
    if review.status != ReviewStatus.DECIDED or review.decision != ReviewDecision.TERMINATE:
        raise ApplicationError("只有决定终止合同的半年评估才能启动接管。")
    if Takeover.objects.filter(review=review).exists():
        raise ApplicationError("该评估的接管已办理。")
    old_provider = review.provider
    if new_provider.pk == old_provider.pk:
        raise ApplicationError("接管机构不能是被终止的机构。", field="new_provider")
    today = timezone.localdate()
    if takeover_date < today:
        raise ApplicationError("接管日期不能早于今天。", field="takeover_date")
    caregivers = caregivers or {}
    last_day = takeover_date - datetime.timedelta(days=1)
    agreements = list(
        Agreement.objects.select_for_update(of=("self",))
        .filter(provider=old_provider, status=AgreementStatus.SIGNED)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=takeover_date))
        .select_related("recipient", "town", "village")
        .order_by("town__sort_order", "recipient__name", "pk")
    )
    errors = []
    towns = {a.town_id: a.town for a in agreements}
    for town in towns.values():
        if contract_covering(provider=new_provider, town=town, day=takeover_date) is None:
            errors.append(f"{new_provider.name}在{takeover_date}没有覆盖{town.name}的有效合同。")
    for town_id, caregiver in caregivers.items():
        if caregiver.provider_id != new_provider.pk:
            errors.append(f"{towns.get(town_id, town_id)}指定的照料护理人{caregiver.name}不属于接管机构。")
    if errors:
        raise ApplicationError("接管未执行：" + "；".join(errors), extra={"errors": errors})

    takeover = Takeover.objects.create(
        review=review,
        old_provider=old_provider,
        new_provider=new_provider,
        takeover_date=takeover_date,
        executed_by=actor,
    )
    picked = {}
    lines, report = [], []
    reason = f"服务机构合同终止，由{new_provider.name}接管（{review.half}半年评估）"[:200]
    for agreement in agreements:
        recipient = agreement.recipient
        line = {"recipient": recipient.name, "town": agreement.town.name, "old_agreement": agreement.number}
        caregiver = caregivers.get(agreement.town_id) or _pick_caregiver(new_provider, agreement.town, picked)
        try:
            with transaction.atomic():
                if caregiver is None:
                    raise ApplicationError(f"接管机构没有可安排到{agreement.town.name}的在岗照料护理人。")
                if agreement.start_date > last_day:
                    raise ApplicationError(f"原协议{agreement.start_date}才开始，晚于接管日期前一日，无法移交。")
                agreement_terminate(actor=actor, agreement=agreement, last_day=last_day, reason=reason)
                if not recipient.in_support_on(takeover_date):
                    line.update(result="原协议已终止；接管日不在供养期内，不再签订新协议")
                    report.append(line)
                    continue
                new = agreement_create(
                    actor=actor,
                    provider=new_provider,
                    recipient=recipient,
                    caregiver=caregiver,
                    village=agreement.village,
                    start_date=takeover_date,
                    end_date=agreement.end_date,
                    village_signatory=agreement.village_signatory,
                )
                new = agreement_sign_as_town(actor=actor, agreement=new, signed_on=today)
                # The agreement model records what it replaces; contracts' actions do not take it as an argument.
                Agreement.objects.filter(pk=new.pk).update(replaces=agreement)
        except ApplicationError as exc:
            line.update(result="失败", error=exc.message)
            report.append(line)
            errors.append(f"{agreement.town.name} {recipient.name}（{agreement.number}）：{exc.message}")
            continue
        line.update(result="已移交", new_agreement=new.number, caregiver=caregiver.name)
        report.append(line)
        lines.append(
            TakeoverLine(
                takeover=takeover,
                recipient=recipient,
                town=agreement.town,
                old_agreement=agreement,
                new_agreement=new,
                caregiver=caregiver,
            )
        )
    if errors:
        # Raising undoes everything done above: it is all or nothing.
        raise ApplicationError(
            f"接管未执行：{len(errors)}份协议无法移交，所有协议均未变动。", extra={"errors": errors, "lines": report}
        )
    TakeoverLine.objects.bulk_create(lines)
    for contract in PurchaseContract.objects.filter(provider=old_provider, status=ContractStatus.ACTIVE):
        contract_terminate(
            actor=actor, contract=contract, terminated_on=last_day, reason=f"{review.half}半年评估决定终止合同"
        )
    takeover.report = report
    takeover.save(update_fields=["report"])
    return takeover
