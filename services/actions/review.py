"""The bureau's review of exceptions, providers' corrections and their approval, recipients' GPS rules."""

import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from recipients.models import Recipient
from shenxian_care.exceptions import ApplicationError
from shenxian_care.models import Role
from shenxian_care.permissions import ensure_role
from shenxian_care.scoping import get_for_actor_or_404

from ..models import (
    CorrectionReason,
    CorrectionStatus,
    GpsRuleStatus,
    RecipientGpsRule,
    Visit,
    VisitCorrection,
    VisitStatus,
)
from ..verification import apply_verification

# A record that reaches the server this long after the moment it records was kept on the phone.
from ._common import (
    _aware,
    _clean_items,
    _coord,
)


@transaction.atomic
def visit_review(*, actor, visit, accept: bool, reason: str):
    """The bureau accepts (with a reason) or rejects an exception. Rejected visits do not count."""
    ensure_role(actor, Role.BUREAU)
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError("请填写审核意见。", field="reason")
    visit = Visit.objects.select_for_update().get(pk=visit.pk)
    if visit.status != VisitStatus.EXCEPTION:
        raise ApplicationError("只有异常待审核的记录可以审核。")
    visit.status = VisitStatus.ACCEPTED if accept else VisitStatus.REJECTED
    visit.reviewed_by = actor
    visit.reviewed_at = timezone.now()
    visit.review_reason = reason
    visit.save()
    return visit


# Fields provider staff may correct; the first group changes only with the bureau's approval.
APPROVAL_FIELDS = ("started_at", "ended_at", "checkin_latitude", "checkin_longitude")
FREE_FIELDS = ("service_items", "note")


def _snapshot(visit, fields):
    out = {}
    for field in fields:
        value = getattr(visit, field)
        out[field] = (
            value.isoformat()
            if isinstance(value, datetime.datetime)
            else (str(value) if isinstance(value, Decimal) else value)
        )
    return out


def _apply_changes(visit, changes):
    for field, value in changes.items():
        if field in ("started_at", "ended_at"):
            value = (
                _aware(datetime.datetime.fromisoformat(value) if isinstance(value, str) else value, field)
                if value
                else None
            )
        elif field in ("checkin_latitude", "checkin_longitude"):
            value = _coord(value, field, -180, 180)
        setattr(visit, field, value)
    visit.visit_date = timezone.localtime(visit.started_at).date()
    if visit.ended_at is not None:
        visit.duration_minutes = int((visit.ended_at - visit.started_at).total_seconds() // 60)


@transaction.atomic
def visit_correct(*, actor, visit, reason_code, reason_note="", changes: dict):
    """Provider staff correct their own caregivers' visits, always with a reason code. Items and notes change at
    once; times and positions wait for the bureau. Every correction is kept with before and after."""
    ensure_role(actor, Role.PROVIDER)
    visit = get_for_actor_or_404(Visit.objects.select_for_update(), actor, pk=visit.pk)
    if reason_code not in CorrectionReason.values:
        raise ApplicationError("请选择更正原因。", field="reason_code")
    if reason_code == CorrectionReason.OTHER and not (reason_note or "").strip():
        raise ApplicationError("选择“其他”时须说明原因。", field="reason_note")
    unknown = set(changes) - set(APPROVAL_FIELDS) - set(FREE_FIELDS)
    if unknown or not changes:
        raise ApplicationError("没有可更正的内容。")
    if "service_items" in changes:
        changes["service_items"] = _clean_items(changes["service_items"])
    for field in ("started_at", "ended_at"):
        if changes.get(field):
            # checked now, not when the bureau approves: a time no one could mean is refused at once
            value = changes[field]
            try:
                value = datetime.datetime.fromisoformat(value) if isinstance(value, str) else value
            except ValueError:
                raise ApplicationError("时间格式不正确。", field=field) from None
            changes[field] = _aware(value, field)
    before = _snapshot(visit, changes)
    needs_approval = any(field in APPROVAL_FIELDS for field in changes)
    after = {
        k: (v.isoformat() if isinstance(v, datetime.datetime) else (str(v) if isinstance(v, Decimal) else v))
        for k, v in changes.items()
    }
    correction = VisitCorrection.objects.create(
        visit=visit,
        reason_code=reason_code,
        reason_note=(reason_note or "").strip(),
        before=before,
        after=after,
        needs_approval=needs_approval,
        status=CorrectionStatus.PENDING if needs_approval else CorrectionStatus.APPLIED,
        requested_by=actor,
    )
    if not needs_approval:
        _apply_changes(visit, changes)
        visit.save()
    return correction


@transaction.atomic
def visit_correction_decide(*, actor, correction, approve: bool, note=""):
    """The bureau approves (the change is applied and the visit verified again) or rejects a correction."""
    ensure_role(actor, Role.BUREAU)
    correction = VisitCorrection.objects.select_for_update().get(pk=correction.pk)
    if correction.status != CorrectionStatus.PENDING:
        raise ApplicationError("该更正已处理。")
    correction.status = CorrectionStatus.APPLIED if approve else CorrectionStatus.REJECTED
    correction.decided_by = actor
    correction.decided_at = timezone.now()
    correction.decision_note = (note or "").strip()
    correction.save()
    if approve:
        visit = Visit.objects.select_for_update().select_related("recipient", "caregiver").get(pk=correction.visit_id)
        _apply_changes(visit, correction.after)
        apply_verification(visit)
        visit.save()
    return correction


# A home a check-in 10 km away still counts for is no check at all; a larger number is a typing slip.
MAX_RULE_RADIUS_M = 10_000


@transaction.atomic
def gps_rule_request(*, actor, recipient, reason, gps_exempt=False, radius_m=None):
    """A town or provider asks for a recipient's own check-in rule; the bureau approves it."""
    ensure_role(actor, Role.TOWN, Role.PROVIDER, Role.BUREAU)
    recipient = get_for_actor_or_404(Recipient.objects.all(), actor, pk=recipient.pk)
    if not (reason or "").strip():
        raise ApplicationError("请填写原因。", field="reason")
    if not gps_exempt and not radius_m:
        raise ApplicationError("请选择免定位核验，或填写特定签到范围。", field="radius_m")
    if not gps_exempt and not 0 < radius_m <= MAX_RULE_RADIUS_M:
        raise ApplicationError(f"特定签到范围应为1至{MAX_RULE_RADIUS_M}米。", field="radius_m")
    return RecipientGpsRule.objects.create(
        recipient=recipient,
        gps_exempt=gps_exempt,
        radius_m=None if gps_exempt else radius_m,
        reason=reason.strip(),
        requested_by=actor,
    )


@transaction.atomic
def gps_rule_decide(*, actor, rule, approve: bool, note=""):
    ensure_role(actor, Role.BUREAU)
    rule = RecipientGpsRule.objects.select_for_update().get(pk=rule.pk)
    if rule.status != GpsRuleStatus.PENDING:
        raise ApplicationError("该申请已处理。")
    if approve:
        RecipientGpsRule.objects.filter(recipient=rule.recipient_id, status=GpsRuleStatus.APPROVED).update(
            status=GpsRuleStatus.REVOKED
        )
    rule.status = GpsRuleStatus.APPROVED if approve else GpsRuleStatus.REJECTED
    rule.decided_by = actor
    rule.decided_at = timezone.now()
    rule.decision_note = (note or "").strip()
    rule.save()
    return rule
