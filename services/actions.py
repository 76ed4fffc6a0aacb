"""Every write to visits: check-in, check-out, emergencies, photos, confirmation, review, corrections,
GPS rules, monthly plans and the daily flags. Each in one transaction, verification re-run where it matters."""

import datetime
import uuid
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import IntegrityError, router, transaction
from django.db.models import Count, Max, OuterRef, Q, Subquery
from django.db.models.signals import post_save, pre_save
from django.http import Http404
from django.utils import timezone
from PIL import Image, UnidentifiedImageError

from contracts.models import Agreement
from recipients.models import Recipient
from shenxian_care.exceptions import ApplicationError
from shenxian_care.models import Role
from shenxian_care.permissions import ensure_role
from shenxian_care.scoping import actor_role, get_for_actor_or_404

from .models import (
    ConfirmationMode,
    CorrectionReason,
    CorrectionStatus,
    FlagKind,
    GpsRuleStatus,
    PlannedVisit,
    RecipientGpsRule,
    ServiceItem,
    Visit,
    VisitCorrection,
    VisitFlag,
    VisitKind,
    VisitPhoto,
    VisitStatus,
)
from .standards import standard_on
from .verification import Loader, apply_verification

# A record that reaches the server this long after the moment it records was kept on the phone.
SYNCED_LATE_AFTER = datetime.timedelta(minutes=15)
COORD_PLACES = Decimal("0.000001")
PHOTO_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


def _caregiver_of(actor):
    ensure_role(actor, Role.CAREGIVER)
    caregiver = getattr(actor, "caregiver", None)
    if caregiver is None or not caregiver.is_active:
        raise ApplicationError("您的账号未关联在岗的照料护理人。")
    return caregiver


def _coord(value, field, low, high):
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value)).quantize(COORD_PLACES, rounding=ROUND_HALF_UP)
    except InvalidOperation:
        raise ApplicationError("定位数据格式不正确。", field=field) from None
    if not low <= number <= high:
        raise ApplicationError("定位数据超出范围。", field=field)
    return number


def _position(latitude, longitude, prefix):
    lat = _coord(latitude, f"{prefix}_latitude", -90, 90)
    lng = _coord(longitude, f"{prefix}_longitude", -180, 180)
    if (lat is None) != (lng is None):
        raise ApplicationError("经纬度须同时提供。", field=f"{prefix}_latitude")
    return lat, lng


def _aware(value, field):
    if value is None:
        raise ApplicationError("请提供时间。", field=field)
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


def _late(received, moment, offline):
    return bool(offline) or received - moment > SYNCED_LATE_AFTER


def _existing(client_id, caregiver):
    """The visit already made with this client id (a retry), if it is this caregiver's; a clash otherwise."""
    visit = Visit.objects.filter(client_id=client_id).order_by().first()
    if visit is not None and visit.caregiver_id != caregiver.pk:
        raise ApplicationError("该记录号已被使用。", field="client_id")
    return visit


def _recipient_for(actor, recipient_id):
    """Only recipients the caregiver has an agreement with exist for them (others → 404)."""
    return get_for_actor_or_404(Recipient.objects.select_related("town"), actor, pk=recipient_id)


def _create_idempotent(visit):
    """Insert; if a concurrent retry inserted the same client id first, return that one instead."""
    try:
        with transaction.atomic():
            visit.save()
        return visit, True
    except IntegrityError:
        existing = Visit.objects.filter(client_id=visit.client_id).first()
        if existing is None or existing.caregiver_id != visit.caregiver_id:
            raise
        return existing, False


def _clean_items(items):
    items = list(dict.fromkeys(items or []))
    valid = set(ServiceItem.values)
    unknown = [code for code in items if code not in valid]
    if unknown:
        raise ApplicationError("服务项目不在服务目录内：" + "、".join(unknown), field="service_items")
    return items


def _new_visit(*, actor, caregiver, client_id, recipient, started_at, latitude, longitude, accuracy_m, offline, now):
    """A regular visit as checked in (not saved, not verified)."""
    started_at = _aware(started_at, "started_at")
    lat, lng = _position(latitude, longitude, "checkin")
    return Visit(
        client_id=client_id,
        kind=VisitKind.REGULAR,
        provider=caregiver.provider,
        caregiver=caregiver,
        recipient=recipient,
        town=recipient.town,
        visit_date=timezone.localtime(started_at).date(),
        started_at=started_at,
        checkin_latitude=lat,
        checkin_longitude=lng,
        checkin_accuracy_m=accuracy_m,
        received_at=now,
        synced_late=_late(now, started_at, offline),
        created_by=actor,
    )


def _finish(visit, *, ended_at, service_items, note, latitude, longitude, offline, now):
    """Record the check-out on `visit` (not saved, not verified)."""
    items = _clean_items(service_items)
    if not items:
        raise ApplicationError("请至少选择一项服务项目。", field="service_items")
    ended_at = _aware(ended_at, "ended_at")
    lat, lng = _position(latitude, longitude, "checkout")
    visit.ended_at = ended_at
    visit.duration_minutes = int((ended_at - visit.started_at).total_seconds() // 60)
    visit.checkout_latitude, visit.checkout_longitude = lat, lng
    visit.service_items = items
    visit.note = (note or "").strip()
    visit.checkout_received_at = now
    visit.synced_late = visit.synced_late or _late(now, ended_at, offline)
    return visit


def _new_emergency(
    *, actor, caregiver, client_id, recipient, started_at, ended_at, what, called, latitude, longitude, offline, now
):
    if not (what or "").strip():
        raise ApplicationError("请填写紧急情况经过。", field="emergency_what")
    if not (called or "").strip():
        raise ApplicationError("请填写已联系的人或单位。", field="emergency_called")
    started_at = _aware(started_at, "started_at")
    ended_at = _aware(ended_at, "ended_at") if ended_at else started_at
    lat, lng = _position(latitude, longitude, "checkin")
    return Visit(
        client_id=client_id,
        kind=VisitKind.EMERGENCY,
        provider=caregiver.provider,
        caregiver=caregiver,
        recipient=recipient,
        town=recipient.town,
        visit_date=timezone.localtime(started_at).date(),
        started_at=started_at,
        ended_at=ended_at,
        duration_minutes=int((ended_at - started_at).total_seconds() // 60),
        checkin_latitude=lat,
        checkin_longitude=lng,
        service_items=[ServiceItem.EMERGENCY_RESCUE.value],
        emergency_what=what.strip(),
        emergency_called=called.strip(),
        received_at=now,
        checkout_received_at=now,
        synced_late=_late(now, started_at, offline),
        created_by=actor,
    )


def visit_check_in(
    *, actor, client_id, recipient_id, started_at, latitude=None, longitude=None, accuracy_m=None, offline=False
):
    """Start a visit. Returns (visit, created); a retry with the same client id returns the first visit."""
    caregiver = _caregiver_of(actor)
    client_id = uuid.UUID(str(client_id))
    existing = _existing(client_id, caregiver)
    if existing is not None:
        return existing, False
    recipient = _recipient_for(actor, recipient_id)
    now = timezone.now()
    visit = _new_visit(
        actor=actor,
        caregiver=caregiver,
        client_id=client_id,
        recipient=recipient,
        started_at=started_at,
        latitude=latitude,
        longitude=longitude,
        accuracy_m=accuracy_m,
        offline=offline,
        now=now,
    )
    with transaction.atomic():
        apply_verification(visit, now=now)
        return _create_idempotent(visit)


@transaction.atomic
def visit_check_out(
    *, actor, visit_client_id, ended_at, service_items, note="", latitude=None, longitude=None, offline=False
):
    """Finish a visit. A retry of a check-out already recorded returns the visit unchanged."""
    caregiver = _caregiver_of(actor)
    visit = (
        Visit.objects.select_for_update(of=("self",))
        .select_related("recipient", "caregiver", "provider", "town")
        .filter(client_id=visit_client_id, caregiver=caregiver)
        .order_by()
        .first()
    )
    if visit is None:
        raise Http404("未找到该服务记录。")
    if visit.ended_at is not None:
        return visit
    now = timezone.now()
    _finish(
        visit,
        ended_at=ended_at,
        service_items=service_items,
        note=note,
        latitude=latitude,
        longitude=longitude,
        offline=offline,
        now=now,
    )
    apply_verification(visit, now=now)
    visit.save()
    return visit


def visit_log_emergency(
    *,
    actor,
    client_id,
    recipient_id,
    started_at,
    what,
    called,
    ended_at=None,
    latitude=None,
    longitude=None,
    offline=False,
):
    """Log an emergency rescue (紧急救援), at any time, with what happened and who was called."""
    caregiver = _caregiver_of(actor)
    client_id = uuid.UUID(str(client_id))
    existing = _existing(client_id, caregiver)
    if existing is not None:
        return existing, False
    recipient = _recipient_for(actor, recipient_id)
    now = timezone.now()
    visit = _new_emergency(
        actor=actor,
        caregiver=caregiver,
        client_id=client_id,
        recipient=recipient,
        started_at=started_at,
        ended_at=ended_at,
        what=what,
        called=called,
        latitude=latitude,
        longitude=longitude,
        offline=offline,
        now=now,
    )
    with transaction.atomic():
        apply_verification(visit, now=now)
        return _create_idempotent(visit)


SYNC_MAX_ITEMS = 200


def visit_sync(*, actor, items: list[dict]):
    """A phone's queue sent in one request (up to 200 records): each item a whole visit (check-in, and the check-out
    when `ended_at` is given) or an emergency (`kind` = "emergency"). Idempotent per client id like the single
    endpoints: a visit already received is returned as it is, or finished if it was open and the item finishes it.
    Returns one result per item, in order: (visit or None, "created" | "finished" | "existing" | "error", message).
    One transaction for the batch; the verification reads are shared by the batch (a fixed number of queries)."""
    caregiver = _caregiver_of(actor)
    if len(items) > SYNC_MAX_ITEMS:
        raise ApplicationError(f"一次最多上传 {SYNC_MAX_ITEMS} 条记录。", field="visits")
    for attempt in (1, 2):
        try:
            with transaction.atomic():
                return _sync(actor, caregiver, items)
        except IntegrityError:
            # the same phone sent the same records twice at once: the second pass finds them as existing
            if attempt == 2:
                raise
    return []  # unreachable


def _sync(actor, caregiver, items):
    now = timezone.now()
    ids = []
    for item in items:
        try:
            ids.append(uuid.UUID(str(item.get("client_id"))))
        except (TypeError, ValueError):
            ids.append(None)
    existing = {
        v.client_id: v
        for v in Visit.objects.select_for_update(of=("self",))
        .select_related("recipient", "caregiver", "provider", "town")
        .filter(client_id__in=[i for i in ids if i])
        .order_by()
    }
    recipients = (
        Recipient.objects.for_actor(actor)
        .select_related("town")
        .in_bulk({item.get("recipient") for item in items if str(item.get("recipient", "")).isdigit()})
    )
    results, to_save = [], []
    for item, client_id in zip(items, ids, strict=True):
        try:
            if client_id is None:
                raise ApplicationError("记录号格式不正确。", field="client_id")
            visit = existing.get(client_id)
            if visit is not None:
                if visit.caregiver_id != caregiver.pk:
                    raise ApplicationError("该记录号已被使用。", field="client_id")
                if visit.ended_at is None and item.get("ended_at") and item.get("kind", "regular") == "regular":
                    _finish(
                        visit,
                        ended_at=item["ended_at"],
                        service_items=item.get("service_items"),
                        note=item.get("note", ""),
                        latitude=item.get("checkout_latitude"),
                        longitude=item.get("checkout_longitude"),
                        offline=item.get("offline", False),
                        now=now,
                    )
                    to_save.append(visit)
                    results.append([visit, "finished", ""])
                else:
                    results.append([visit, "existing", ""])
                continue
            recipient = recipients.get(int(item["recipient"])) if str(item.get("recipient", "")).isdigit() else None
            if recipient is None:
                raise ApplicationError("未找到该服务对象，或不是您服务的对象。", field="recipient")
            common = {
                "actor": actor,
                "caregiver": caregiver,
                "client_id": client_id,
                "recipient": recipient,
                "started_at": item.get("started_at"),
                "latitude": item.get("latitude"),
                "longitude": item.get("longitude"),
                "offline": item.get("offline", False),
                "now": now,
            }
            if item.get("kind") == VisitKind.EMERGENCY:
                visit = _new_emergency(
                    **common, ended_at=item.get("ended_at"), what=item.get("what", ""), called=item.get("called", "")
                )
            else:
                visit = _new_visit(**common, accuracy_m=item.get("accuracy_m"))
                if item.get("ended_at"):
                    _finish(
                        visit,
                        ended_at=item["ended_at"],
                        service_items=item.get("service_items"),
                        note=item.get("note", ""),
                        latitude=item.get("checkout_latitude"),
                        longitude=item.get("checkout_longitude"),
                        offline=item.get("offline", False),
                        now=now,
                    )
            existing[client_id] = visit  # a repeat inside the batch is "existing"
            to_save.append(visit)
            results.append([visit, "created", ""])
        except ApplicationError as exc:
            results.append([None, "error", exc.message])
    if to_save:
        loader = Loader(to_save, now)
        new = []
        for visit in sorted(to_save, key=lambda v: v.started_at):
            apply_verification(visit, now=now, loader=loader)
            if visit.pk is None:
                new.append(visit)
            else:
                visit.save()
            loader.remember(visit)
        _insert(new)
    return [tuple(r) for r in results]


def _insert(visits):
    """One INSERT for the batch; the model signals a save() would send are sent for each row, so the audit trail
    (django-auditlog listens to post_save) records every visit exactly as for a single check-in."""
    if not visits:
        return
    db = router.db_for_write(Visit)
    for visit in visits:
        pre_save.send(sender=Visit, instance=visit, raw=False, using=db, update_fields=None)
    Visit.objects.bulk_create(visits)
    for visit in visits:
        post_save.send(sender=Visit, instance=visit, created=True, update_fields=None, raw=False, using=db)


def check_image(upload):
    """Size and type of an uploaded photo or signature, by its content (not its name)."""
    size = getattr(upload, "size", 0) or 0
    if size <= 0:
        raise ApplicationError("文件为空。", field="image")
    if size > VisitPhoto.MAX_BYTES:
        raise ApplicationError(f"照片不能超过 {VisitPhoto.MAX_BYTES // (1024 * 1024)} MB。", field="image")
    try:
        upload.seek(0)
        with Image.open(upload) as image:
            image_format = image.format
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ApplicationError("只能上传 JPEG、PNG 或 WebP 格式的照片。", field="image") from None
    finally:
        upload.seek(0)
    content_type = PHOTO_FORMATS.get(image_format)
    if content_type is None:
        raise ApplicationError("只能上传 JPEG、PNG 或 WebP 格式的照片。", field="image")
    return content_type, size


@transaction.atomic
def visit_photo_add(*, actor, visit_client_id, upload, client_id=None):
    """Attach a photo (at most three per visit). A retry with the same photo client id returns the first."""
    caregiver = _caregiver_of(actor)
    visit = Visit.objects.select_for_update().filter(client_id=visit_client_id, caregiver=caregiver).first()
    if visit is None:
        raise Http404("未找到该服务记录。")
    client_id = uuid.UUID(str(client_id)) if client_id else uuid.uuid4()
    existing = VisitPhoto.objects.filter(client_id=client_id).first()
    if existing is not None:
        if existing.visit_id != visit.pk:
            raise ApplicationError("该照片记录号已被使用。", field="client_id")
        return existing, False
    if visit.photos.count() >= VisitPhoto.MAX_PER_VISIT:
        raise ApplicationError(f"每次服务最多上传 {VisitPhoto.MAX_PER_VISIT} 张照片。", field="image")
    content_type, size = check_image(upload)
    photo = VisitPhoto(visit=visit, client_id=client_id, content_type=content_type, size_bytes=size)
    photo.image.save(f"{visit.client_id}-{client_id}.{content_type.split('/')[1]}", upload, save=False)
    photo.save()
    return photo, True


def _confirmation_code_ok(visit, code):
    """The spoken code is the last four characters of the ID number of whoever confirms (recipient or guardian),
    the check people in the county already use on the phone."""
    code = (code or "").strip().upper()
    recipient = visit.recipient
    candidates = {recipient.id_number[-4:].upper()}
    if recipient.guardian_id_number:
        candidates.add(recipient.guardian_id_number[-4:].upper())
    return len(code) == 4 and code in candidates


@transaction.atomic
def visit_confirm(*, actor, visit_client_id, code="", signature=None):
    """The recipient or guardian confirms the visit on the caregiver's screen, as the county setting asks."""
    caregiver = _caregiver_of(actor)
    visit = (
        Visit.objects.select_for_update()
        .select_related("recipient")
        .filter(client_id=visit_client_id, caregiver=caregiver)
        .first()
    )
    if visit is None:
        raise Http404("未找到该服务记录。")
    if visit.confirmed_at is not None:
        return visit
    mode = standard_on(visit.visit_date).confirmation_mode
    if mode == ConfirmationMode.NONE:
        raise ApplicationError("本县当前不要求服务对象确认。")
    if mode == ConfirmationMode.CODE:
        if not _confirmation_code_ok(visit, code):
            raise ApplicationError("确认码不正确（服务对象或监护人身份证号后四位）。", field="code")
    else:
        if signature is None:
            raise ApplicationError("请服务对象或监护人签名。", field="signature")
        content_type, _ = check_image(signature)
        visit.confirmation_signature.save(f"{visit.client_id}.{content_type.split('/')[1]}", signature, save=False)
    visit.confirmation_method = mode
    visit.confirmed_at = timezone.now()
    visit.save()
    return visit


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


@transaction.atomic
def gps_rule_request(*, actor, recipient, reason, gps_exempt=False, radius_m=None):
    """A town or provider asks for a recipient's own check-in rule; the bureau approves it."""
    ensure_role(actor, Role.TOWN, Role.PROVIDER, Role.BUREAU)
    recipient = get_for_actor_or_404(Recipient.objects.all(), actor, pk=recipient.pk)
    if not (reason or "").strip():
        raise ApplicationError("请填写原因。", field="reason")
    if not gps_exempt and not radius_m:
        raise ApplicationError("请选择免定位核验，或填写特定签到范围。", field="radius_m")
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


@transaction.atomic
def plan_set_month(*, actor, agreement, month: datetime.date, days, planned_time: datetime.time):
    """The provider's monthly plan for one agreement: the days of `month` a visit is planned (replaces the plan)."""
    ensure_role(actor, Role.PROVIDER, Role.BUREAU)
    agreement = get_for_actor_or_404(
        Agreement.objects.select_related("recipient").select_for_update(of=("self",)), actor, pk=agreement.pk
    )
    if actor_role(actor) == Role.PROVIDER and agreement.provider_id != actor.provider_id:
        raise Http404
    month = month.replace(day=1)
    dates = set()
    for day in days:
        try:
            date = month.replace(day=int(day))
        except (TypeError, ValueError):
            raise ApplicationError(f"日期不正确：{day}", field="days") from None
        if not agreement.covers(date):
            raise ApplicationError(f"{date:%m月%d日} 不在协议服务期内。", field="days")
        dates.add(date)
    next_month = (month + datetime.timedelta(days=32)).replace(day=1)
    PlannedVisit.objects.filter(agreement=agreement, day__gte=month, day__lt=next_month).delete()
    PlannedVisit.objects.bulk_create(
        PlannedVisit(
            provider_id=agreement.provider_id,
            agreement=agreement,
            caregiver_id=agreement.caregiver_id,
            recipient_id=agreement.recipient_id,
            town_id=agreement.town_id,
            day=date,
            planned_time=planned_time,
            created_by=actor,
        )
        for date in sorted(dates)
    )
    return len(dates)


# How far back the daily check looks for a caregiver's exceptions.
EXCEPTION_LOOKBACK_DAYS = 30


@transaction.atomic
def visit_flag_overdue(*, day: datetime.date | None = None) -> dict:
    """The daily check (system action, run by `visit_flag_overdue_task`): recipients under an agreement today with
    no counted visit for the standard's N days, and caregivers with exceptions in the last 30 days. Re-running
    for the same day replaces that day's flags."""
    day = day or timezone.localdate()
    standard = standard_on(day)
    since = day - datetime.timedelta(days=standard.overdue_days)
    last_visit = (
        Visit.objects.filter(recipient=OuterRef("recipient_id"), ended_at__isnull=False, visit_date__lte=day)
        .exclude(status=VisitStatus.REJECTED)
        .order_by()
        .values("recipient_id")
        .annotate(last=Max("visit_date"))
        .values("last")
    )
    overdue = (
        Agreement.objects.covering(day)
        .filter(recipient__entry_date__lte=day)
        .filter(Q(recipient__exit_date__isnull=True) | Q(recipient__exit_date__gt=day))
        .annotate(last_visit=Subquery(last_visit))
        .filter(Q(last_visit__isnull=True) | Q(last_visit__lt=since))
        .values_list("recipient_id", "town_id", "provider_id", "caregiver_id", "last_visit")
    )
    VisitFlag.objects.filter(day=day).delete()
    flags = [
        VisitFlag(
            day=day,
            kind=FlagKind.RECIPIENT_OVERDUE,
            recipient_id=recipient_id,
            town_id=town_id,
            provider_id=provider_id,
            caregiver_id=caregiver_id,
            days_since_visit=(day - last).days if last else None,
        )
        for recipient_id, town_id, provider_id, caregiver_id, last in overdue.iterator(chunk_size=5000)
    ]
    flagged = (
        Visit.objects.filter(
            visit_date__gte=day - datetime.timedelta(days=EXCEPTION_LOOKBACK_DAYS),
            visit_date__lte=day,
            status__in=[VisitStatus.EXCEPTION, VisitStatus.REJECTED],
        )
        .values("caregiver_id", "provider_id")
        .annotate(n=Count("pk"), town_id=Max("town_id"))
        .order_by()
    )
    flags += [
        VisitFlag(
            day=day,
            kind=FlagKind.CAREGIVER_EXCEPTIONS,
            caregiver_id=row["caregiver_id"],
            provider_id=row["provider_id"],
            town_id=row["town_id"],
            exception_count=row["n"],
        )
        for row in flagged
    ]
    VisitFlag.objects.bulk_create(flags, batch_size=2000)
    return {
        "day": day.isoformat(),
        "recipients_overdue": sum(1 for f in flags if f.kind == FlagKind.RECIPIENT_OVERDUE),
        "caregivers_with_exceptions": sum(1 for f in flags if f.kind == FlagKind.CAREGIVER_EXCEPTIONS),
    }
