"""Every write to the registry. Each function is one transaction and checks who may do it."""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from shenxian_care.exceptions import ApplicationError
from shenxian_care.models import Role
from shenxian_care.permissions import ensure_role
from shenxian_care.scoping import actor_role
from shenxian_care.validators import parse_id_number, validate_phone

from .models import (
    ApprovalStatus,
    Assessment,
    CivilCapacity,
    LevelApproval,
    LevelSource,
    Recipient,
    SupportExit,
    Town,
    Village,
)
from .selectors import level_from_indicators


def _clean_id(value, *, field="id_number"):
    try:
        return parse_id_number(value)
    except ValidationError as exc:
        raise ApplicationError(exc.messages[0], field=field) from None


def _check_guardian(civil_capacity, guardian_name, guardian_id_number):
    if civil_capacity == CivilCapacity.NONE and not (guardian_name or "").strip():
        raise ApplicationError("无民事行为能力的特困人员必须登记监护人。", field="guardian_name")
    if guardian_id_number:
        return _clean_id(guardian_id_number, field="guardian_id_number")[0]
    return ""


def _check_town_scope(actor, town):
    if actor_role(actor) == Role.TOWN and actor.town_id != town.pk:
        raise ApplicationError("只能登记本镇（街道）的特困人员。", field="town")


def village_get_or_create(*, town: Town, name: str):
    name = (name or "").strip()
    if not name:
        raise ApplicationError("村（居）委会名称不能为空。", field="village")
    village, created = Village.objects.get_or_create(town=town, name=name)
    return village, created


@transaction.atomic
def recipient_create(
    *,
    actor,
    name,
    id_number,
    town,
    village,
    entry_date,
    address="",
    phone="",
    civil_capacity=CivilCapacity.FULL,
    guardian_name="",
    guardian_id_number="",
    guardian_phone="",
    home_latitude=None,
    home_longitude=None,
):
    ensure_role(actor, Role.BUREAU)
    number, birth_date, sex = _clean_id(id_number)
    if Recipient.objects.filter(id_number=number).exists():
        raise ApplicationError("该身份证号已登记，不能重复登记。", field="id_number")
    if village.town_id != town.pk:
        raise ApplicationError("村（居）委会不属于所选镇（街道）。", field="village")
    guardian_id = _check_guardian(civil_capacity, guardian_name, guardian_id_number)
    for value in (phone, guardian_phone):
        try:
            validate_phone(value)
        except ValidationError as exc:
            raise ApplicationError(exc.messages[0], field="phone") from None
    return Recipient.objects.create(
        name=name.strip(),
        id_number=number,
        birth_date=birth_date,
        sex=sex,
        town=town,
        village=village,
        address=address,
        phone=phone,
        civil_capacity=civil_capacity,
        guardian_name=guardian_name.strip(),
        guardian_id_number=guardian_id,
        guardian_phone=guardian_phone,
        entry_date=entry_date,
        home_latitude=home_latitude,
        home_longitude=home_longitude,
    )


_EDITABLE = {
    "name",
    "address",
    "phone",
    "civil_capacity",
    "guardian_name",
    "guardian_id_number",
    "guardian_phone",
    "home_latitude",
    "home_longitude",
    "town",
    "village",
}


@transaction.atomic
def recipient_update(*, actor, recipient, **changes):
    """Edit registration details. Level, entry and exit change only through their own approvals."""
    ensure_role(actor, Role.BUREAU)
    unknown = set(changes) - _EDITABLE
    if unknown:
        raise ApplicationError(f"这些信息不能在此修改：{', '.join(sorted(unknown))}。")
    recipient = Recipient.objects.select_for_update().get(pk=recipient.pk)
    for field, value in changes.items():
        setattr(recipient, field, value)
    if recipient.village.town_id != recipient.town_id:
        raise ApplicationError("村（居）委会不属于所选镇（街道）。", field="village")
    recipient.guardian_id_number = _check_guardian(
        recipient.civil_capacity, recipient.guardian_name, recipient.guardian_id_number
    )
    recipient.save()
    return recipient


@transaction.atomic
def assessment_create(*, actor, recipient, assessed_on, answers: dict, reported_on=None, note=""):
    """Record a self-care assessment (bureau) or a town's report of a changed condition.

    `answers` maps each indicator field (see `Assessment.INDICATORS`) to True (can do it alone).
    """
    ensure_role(actor, Role.BUREAU, Role.TOWN)
    _check_town_scope(actor, recipient.town)
    fields = [field for field, _ in Assessment.INDICATORS]
    missing = [label for field, label in Assessment.INDICATORS if not isinstance(answers.get(field), bool)]
    if missing:
        raise ApplicationError(f"请填写全部六项指标：{'、'.join(missing)}。")
    if assessed_on > timezone.localdate():
        raise ApplicationError("评估日期不能晚于今天。", field="assessed_on")
    return Assessment.objects.create(
        recipient=recipient,
        assessed_on=assessed_on,
        reported_on=reported_on,
        note=note,
        level=level_from_indicators([answers[f] for f in fields]),
        created_by=actor,
        **{f: answers[f] for f in fields},
    )


@transaction.atomic
def assessment_approve(*, actor, assessment, effective_date: datetime.date, reason=""):
    """The bureau approves the assessed level from `effective_date` on (审定)."""
    ensure_role(actor, Role.BUREAU)
    assessment = Assessment.objects.select_for_update().get(pk=assessment.pk)
    if assessment.status != ApprovalStatus.PENDING:
        raise ApplicationError("该评估已审定，不能重复审定。")
    if effective_date < assessment.recipient.entry_date:
        raise ApplicationError("生效日期不能早于纳入特困供养日期。", field="effective_date")
    assessment.status = ApprovalStatus.APPROVED
    assessment.effective_date = effective_date
    assessment.decided_by = actor
    assessment.decided_at = timezone.now()
    assessment.decision_reason = reason
    assessment.save()
    return LevelApproval.objects.create(
        recipient=assessment.recipient,
        level=assessment.level,
        effective_date=effective_date,
        source=LevelSource.ASSESSMENT,
        assessment=assessment,
        approved_by=actor,
    )


@transaction.atomic
def assessment_reject(*, actor, assessment, reason):
    ensure_role(actor, Role.BUREAU)
    if not (reason or "").strip():
        raise ApplicationError("请填写不予审定的理由。", field="reason")
    assessment = Assessment.objects.select_for_update().get(pk=assessment.pk)
    if assessment.status != ApprovalStatus.PENDING:
        raise ApplicationError("该评估已审定，不能重复审定。")
    assessment.status = ApprovalStatus.REJECTED
    assessment.decided_by = actor
    assessment.decided_at = timezone.now()
    assessment.decision_reason = reason
    assessment.save()
    return assessment


@transaction.atomic
def exit_report(*, actor, recipient, reason, effective_date, detail=""):
    """A town (or the bureau) reports that a recipient leaves support; the bureau approves it."""
    ensure_role(actor, Role.BUREAU, Role.TOWN)
    _check_town_scope(actor, recipient.town)
    if effective_date < recipient.entry_date:
        raise ApplicationError("退出日期不能早于纳入日期。", field="effective_date")
    if SupportExit.objects.filter(recipient=recipient, status=ApprovalStatus.PENDING).exists():
        raise ApplicationError("该特困人员已有待审定的退出申请。")
    return SupportExit.objects.create(
        recipient=recipient,
        reason=reason,
        detail=detail,
        reported_on=timezone.localdate(),
        effective_date=effective_date,
        created_by=actor,
    )


@transaction.atomic
def exit_approve(*, actor, support_exit, reason=""):
    """Approve the exit: support, and with it service and billing, end on the effective date."""
    ensure_role(actor, Role.BUREAU)
    support_exit = SupportExit.objects.select_for_update().get(pk=support_exit.pk)
    if support_exit.status != ApprovalStatus.PENDING:
        raise ApplicationError("该退出申请已审定。")
    recipient = Recipient.objects.select_for_update().get(pk=support_exit.recipient_id)
    if support_exit.effective_date < recipient.entry_date:
        raise ApplicationError("退出日期不能早于纳入日期。")
    support_exit.status = ApprovalStatus.APPROVED
    support_exit.decided_by = actor
    support_exit.decided_at = timezone.now()
    support_exit.decision_reason = reason
    support_exit.save()
    recipient.exit_date = support_exit.effective_date
    recipient.save(update_fields=["exit_date", "updated_at"])
    return support_exit


@transaction.atomic
def exit_reject(*, actor, support_exit, reason):
    ensure_role(actor, Role.BUREAU)
    if not (reason or "").strip():
        raise ApplicationError("请填写不予审定的理由。", field="reason")
    support_exit = SupportExit.objects.select_for_update().get(pk=support_exit.pk)
    if support_exit.status != ApprovalStatus.PENDING:
        raise ApplicationError("该退出申请已审定。")
    support_exit.status = ApprovalStatus.REJECTED
    support_exit.decided_by = actor
    support_exit.decided_at = timezone.now()
    support_exit.decision_reason = reason
    support_exit.save()
    return support_exit
