"""Serious service-quality problems: a town reports, the bureau verifies; verified → deduction."""

import datetime
from decimal import InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from contracts.models import DeductionRule
from contracts.selectors import contract_covering
from shenxian_care.exceptions import ApplicationError
from shenxian_care.models import Role
from shenxian_care.money import quantize_fen
from shenxian_care.permissions import ensure_role
from shenxian_care.scoping import actor_role
from shenxian_care.validators import finite_decimal, require_plausible_date

from ..models import (
    Deduction,
    DeductionSource,
    ProblemCategory,
    ProblemStatus,
    SeriousProblemPhoto,
    SeriousProblemReport,
)
from ..validators import MAX_PHOTOS, validate_photo
from .rectification import rectification_issue


def validate_photos(photos):
    photos = list(photos or [])
    if len(photos) > MAX_PHOTOS:
        raise ApplicationError(f"最多上传{MAX_PHOTOS}张照片。", field="photos")
    for photo in photos:
        try:
            validate_photo(photo)
        except ValidationError as exc:
            raise ApplicationError(exc.messages[0], field="photos") from None
    return photos


@transaction.atomic
def serious_problem_report(
    *,
    actor,
    provider,
    occurred_on: datetime.date,
    description: str,
    town=None,
    category=ProblemCategory.QUALITY,
    recipient=None,
    photos=(),
    source_complaint=None,
):
    """A town reports a serious quality problem at once, with evidence (text and photos).

    Town officials report for their own town; the bureau may record one for any town (e.g. from a complaint
    or a cross-check)."""
    ensure_role(actor, Role.BUREAU, Role.TOWN)
    if actor_role(actor) == Role.TOWN:
        if town is not None and town.pk != actor.town_id:
            raise ApplicationError("只能报告本镇（街道）的问题。", field="town")
        town = actor.town
    if town is None:
        raise ApplicationError("请选择镇（街道）。", field="town")
    if not (description or "").strip():
        raise ApplicationError("请填写问题及证据说明。", field="description")
    if occurred_on > timezone.localdate():
        raise ApplicationError("发生日期不能晚于今天。", field="occurred_on")
    require_plausible_date(occurred_on, field="occurred_on")
    if category not in ProblemCategory.values:
        raise ApplicationError("问题类别无效。", field="category")
    if recipient is not None and recipient.town_id != town.pk:
        raise ApplicationError("涉及的特困人员不属于该镇（街道）。", field="recipient")
    contract = contract_covering(provider=provider, town=town, day=occurred_on)
    if contract is None:
        raise ApplicationError(f"{provider.name}在{occurred_on}没有为{town.name}服务的有效合同。", field="provider")
    photos = validate_photos(photos)
    report = SeriousProblemReport.objects.create(
        town=town,
        provider=provider,
        contract=contract,
        recipient=recipient,
        category=category,
        occurred_on=occurred_on,
        description=description.strip(),
        reported_by=actor,
        source_complaint=source_complaint,
    )
    for photo in photos:
        SeriousProblemPhoto.objects.create(report=report, image=photo)
    return report


def _lock_pending(report):
    report = (
        SeriousProblemReport.objects.select_for_update(of=("self",))
        .select_related("contract", "town")
        .get(pk=report.pk)
    )
    if report.status != ProblemStatus.REPORTED:
        raise ApplicationError("该问题已查证，不能重复处理。")
    return report


@transaction.atomic
def serious_problem_verify(
    *,
    actor,
    report,
    reason: str,
    rule: DeductionRule,
    amount=None,
    amount_changed_reason: str = "",
    verified_on: datetime.date | None = None,
    rectification_deadline: datetime.date | None = None,
):
    """查证属实: the deduction follows the contract's schedule line; the bureau may change the amount, with a
    reason. With a deadline, a rectification notice is issued too (its overdue status feeds the review)."""
    ensure_role(actor, Role.BUREAU)
    if not (reason or "").strip():
        raise ApplicationError("请填写查证意见。", field="reason")
    report = _lock_pending(report)
    if rule is None or rule.contract_id != report.contract_id:
        raise ApplicationError("请选择该合同约定的扣款标准。", field="rule")
    rule = DeductionRule.objects.get(pk=rule.pk)
    try:
        amount = quantize_fen(rule.amount if amount in (None, "") else finite_decimal(amount))
    except (InvalidOperation, TypeError):
        raise ApplicationError("扣款金额格式不正确。", field="amount") from None
    if amount <= 0:
        raise ApplicationError("扣款金额必须大于0。", field="amount")
    if amount != rule.amount and not (amount_changed_reason or "").strip():
        raise ApplicationError(
            f"扣款金额与扣款标准（{rule.amount}元）不同，请填写调整理由。", field="amount_changed_reason"
        )
    verified_on = verified_on or timezone.localdate()
    if verified_on < report.occurred_on:
        raise ApplicationError("查证日期不能早于发生日期。", field="verified_on")
    deduction = Deduction.objects.create(
        provider=report.provider,
        contract=report.contract,
        rule=rule,
        town=report.town,
        recipient=report.recipient,
        source=DeductionSource.SERIOUS_PROBLEM,
        amount=amount,
        reason=f"严重服务质量问题查证属实（{report.town.name}，{report.occurred_on}）：{rule.code} {rule.description}"[
            :300
        ],
        amount_changed_reason=(amount_changed_reason or "").strip()[:300] if amount != rule.amount else "",
        verified_on=verified_on,
        created_by=actor,
    )
    report.status = ProblemStatus.VERIFIED
    report.verified_by = actor
    report.verified_at = timezone.now()
    report.verified_on = verified_on
    report.decision_reason = reason.strip()[:300]
    report.rule = rule
    report.deduction = deduction
    report.save()
    if rectification_deadline is not None:
        rectification_issue(
            actor=actor,
            provider=report.provider,
            town=report.town,
            recipient=report.recipient,
            problem=f"严重服务质量问题（查证属实）：{report.description}"[:1000],
            deadline=rectification_deadline,
            serious_problem=report,
        )
    return report


@transaction.atomic
def serious_problem_reject(*, actor, report, reason: str, verified_on: datetime.date | None = None):
    """查证不属实: no deduction."""
    ensure_role(actor, Role.BUREAU)
    if not (reason or "").strip():
        raise ApplicationError("请填写不属实的理由。", field="reason")
    report = _lock_pending(report)
    report.status = ProblemStatus.REJECTED
    report.verified_by = actor
    report.verified_at = timezone.now()
    report.verified_on = verified_on or timezone.localdate()
    report.decision_reason = reason.strip()[:300]
    report.save()
    return report
