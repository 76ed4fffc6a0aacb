"""The bureau's review of exceptions, providers' corrections and their approval, recipients' GPS rules."""

import copy
import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from recipients.models import Recipient
from shenxian_care.audit import save_with_update_record
from shenxian_care.exceptions import ApplicationError
from shenxian_care.fields import without_secrets
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
from ..permissions import can_review_visit, require_review_role, require_review_visit
from ..verification import apply_verification

# A record that reaches the server this long after the moment it records was kept on the phone.
from ._common import (
    _aware,
    _clean_items,
    _coord,
)

# A batch is what one page of the queue can show, and a little more: a larger one is not a person's choice.
REVIEW_BATCH_MAX = 200


def _review_reason(reason):
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError("请填写审核意见。", field="reason")
    if len(reason) > Visit._meta.get_field("review_reason").max_length:
        raise ApplicationError("审核意见不能超过200字。", field="reason")
    return reason


def _clear(actor, visit, *, accept, reason, now):
    """Record the decision on one locked, pending visit, with django-auditlog's "update" record (the one trail a
    single review and a batch both leave)."""
    before = copy.copy(visit)
    visit.status = VisitStatus.ACCEPTED if accept else VisitStatus.REJECTED
    visit.reviewed_by = actor
    visit.reviewed_at = now
    visit.review_reason = reason
    save_with_update_record(visit, before)
    return visit


def _locked(actor):
    """The actor's visits, locked, with the names their audit record shows (no encrypted column read)."""
    return without_secrets(
        Visit.objects.for_actor(actor).select_related("recipient", "caregiver"), "recipient", "caregiver"
    ).select_for_update(of=("self",))


@transaction.atomic
def visit_review(*, actor, visit, accept: bool, reason: str):
    """The bureau accepts (with a reason) or rejects an exception. Rejected visits do not count."""
    require_review_role(actor)
    reason = _review_reason(reason)
    visit = get_for_actor_or_404(_locked(actor), actor, pk=visit.pk)
    require_review_visit(actor, visit)
    return _clear(actor, visit, accept=accept, reason=reason, now=timezone.now())


@transaction.atomic
def visit_review_batch(*, actor, visit_ids, accept: bool, reason: str):
    """The bureau clears several exceptions at once, with one reason: all of them or, if any is not a pending
    exception the actor may see (another reviewer was quicker, or the id is not one of theirs), none, saying
    which. Each visit is decided and audited as `visit_review` does. Returns the visits, in the order given."""
    require_review_role(actor)
    ids = list(dict.fromkeys(int(pk) for pk in visit_ids))
    if not ids:
        raise ApplicationError("请先勾选要审核的记录。", field="ids")
    if len(ids) > REVIEW_BATCH_MAX:
        raise ApplicationError(f"一次最多审核 {REVIEW_BATCH_MAX} 条记录。", field="ids")
    reason = _review_reason(reason)
    found = {visit.pk: visit for visit in _locked(actor).filter(pk__in=ids).order_by("pk")}
    missing = [pk for pk in ids if pk not in found]
    if missing:
        raise ApplicationError(f"所选记录中有 {len(missing)} 条不存在或不在您的管辖范围内，未作任何处理。", field="ids")
    decided = [found[pk] for pk in ids if not can_review_visit(actor, found[pk])]
    if decided:
        names = "、".join(f"{v.recipient.name}（{timezone.localtime(v.started_at):%m-%d %H:%M}）" for v in decided)
        raise ApplicationError(f"以下记录已不是异常待审核（可能已有他人审核），未作任何处理：{names}。", field="ids")
    now = timezone.now()
    return [_clear(actor, found[pk], accept=accept, reason=reason, now=now) for pk in ids]


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
