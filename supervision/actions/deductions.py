"""Correcting a verified deduction: one bureau user asks (with a reason), a second approves (maker-checker)."""

from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone

from shenxian_care.exceptions import ApplicationError
from shenxian_care.models import Role
from shenxian_care.money import quantize_fen
from shenxian_care.permissions import ensure_role
from shenxian_care.validators import finite_decimal

from ..models import CorrectionStatus, Deduction, DeductionCorrection, DeductionStatus


def _reason(reason, field="reason"):
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError("请填写理由。", field=field)
    return reason[:300]


@transaction.atomic
def deduction_correction_request(*, actor, deduction, reason: str, new_amount=None):
    """Ask to cancel (`new_amount` None) or change the amount of a verified deduction."""
    ensure_role(actor, Role.BUREAU)
    deduction = Deduction.objects.select_for_update().get(pk=deduction.pk)
    if deduction.status != DeductionStatus.VERIFIED:
        raise ApplicationError("只有已查证的扣款可以撤销或更正。")
    if new_amount is not None:
        try:
            new_amount = quantize_fen(finite_decimal(new_amount))
        except (InvalidOperation, ValueError):
            raise ApplicationError("金额格式不正确。", field="new_amount") from None
        if new_amount <= 0 or new_amount >= Decimal("1e10"):
            raise ApplicationError("更正后金额必须大于0；撤销请留空。", field="new_amount")
        if new_amount == deduction.amount:
            raise ApplicationError("更正后金额与原金额相同。", field="new_amount")
    if DeductionCorrection.objects.filter(deduction=deduction, status=CorrectionStatus.PENDING).exists():
        raise ApplicationError("该扣款已有待复核的更正申请。")
    return DeductionCorrection.objects.create(
        deduction=deduction, new_amount=new_amount, reason=_reason(reason), requested_by=actor
    )


def _lock_pending(correction):
    correction = DeductionCorrection.objects.select_for_update().select_related("deduction").get(pk=correction.pk)
    if correction.status != CorrectionStatus.PENDING:
        raise ApplicationError("该更正申请已复核。")
    return correction


def can_decide_correction(actor, correction) -> bool:
    """A second bureau user decides: never the one who asked."""
    return (
        correction.status == CorrectionStatus.PENDING
        and getattr(actor, "role", None) == Role.BUREAU
        and actor.pk != correction.requested_by_id
    )


@transaction.atomic
def deduction_correction_approve(*, actor, correction, reason: str = ""):
    """A second bureau user approves: the deduction is cancelled or takes its new amount. What a frozen month
    already deducted beyond it is credited back in the next month settled."""
    ensure_role(actor, Role.BUREAU)
    correction = _lock_pending(correction)
    if correction.requested_by_id == actor.pk:
        raise ApplicationError("更正须由另一位民政局工作人员复核，申请人不能复核自己的申请。")
    deduction = Deduction.objects.select_for_update().get(pk=correction.deduction_id)
    if deduction.status != DeductionStatus.VERIFIED:
        raise ApplicationError("该扣款已撤销。")
    if correction.is_cancel:
        deduction.status = DeductionStatus.CANCELLED
    else:
        deduction.amount = correction.new_amount
        deduction.amount_changed_reason = f"复核更正：{correction.reason}"[:300]
    deduction.save(update_fields=["status", "amount", "amount_changed_reason"])
    correction.status = CorrectionStatus.APPROVED
    correction.decided_by = actor
    correction.decided_at = timezone.now()
    correction.decision_reason = (reason or "").strip()[:300]
    correction.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
    return correction


@transaction.atomic
def deduction_correction_reject(*, actor, correction, reason: str):
    ensure_role(actor, Role.BUREAU)
    correction = _lock_pending(correction)
    if correction.requested_by_id == actor.pk:
        raise ApplicationError("更正须由另一位民政局工作人员复核，申请人不能复核自己的申请。")
    correction.status = CorrectionStatus.REJECTED
    correction.decided_by = actor
    correction.decided_at = timezone.now()
    correction.decision_reason = _reason(reason)
    correction.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
    return correction
