"""Caregivers' writes: check-in, check-out, emergencies, a phone's queue in one request, photos, confirmation."""

import copy
import uuid

from auditlog.context import auditlog_disabled, disable_auditlog
from auditlog.models import LogEntry
from django.db import IntegrityError, connections, router, transaction
from django.db.models.signals import post_save, pre_save
from django.http import Http404
from django.utils import timezone

from shenxian_care.audit import log_created_in_bulk, save_with_update_record
from shenxian_care.copy import allocate_ids, copy_instances
from shenxian_care.exceptions import ApplicationError, ConflictError
from shenxian_care.images import ImageTooLarge, image_format

from ..models import (
    ConfirmationMode,
    ServiceItem,
    Visit,
    VisitKind,
    VisitPhoto,
)
from ..standards import standard_on
from ..verification import MAX_WRONG_CODES, Loader, apply_verification
from ._common import (
    PHOTO_FORMATS,
    _accuracy,
    _aware,
    _caregiver_of,
    _check_checkout_resend,
    _check_resend,
    _checkout_values,
    _create_idempotent,
    _existing,
    _fingerprint,
    _late,
    _own_visit_for_update,
    _position,
    _recipient_unless_resent,
    _share_town,
    _with_people,
    upload_recipients,
)
from .cards import CODE_LENGTH, confirmation_code_use


def _new_visit(*, actor, caregiver, client_id, recipient, started_at, latitude, longitude, accuracy_m, offline, now):
    """A regular visit as checked in (not saved, not verified)."""
    started_at = _aware(started_at, "started_at")
    lat, lng = _position(latitude, longitude, "checkin")
    accuracy = _accuracy(accuracy_m)
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
        checkin_accuracy_m=accuracy,
        checkin_digest=_fingerprint(VisitKind.REGULAR, recipient.pk, started_at, lat, lng, accuracy),
        received_at=now,
        synced_late=_late(now, started_at, offline),
        created_by=actor,
    )


def _finish(visit, *, ended_at, service_items, note, latitude, longitude, offline, now):
    """Record the check-out on `visit` (not saved, not verified)."""
    values = _checkout_values(
        ended_at=ended_at, service_items=service_items, note=note, latitude=latitude, longitude=longitude
    )
    ended_at, items, note, lat, lng = values
    visit.ended_at = ended_at
    visit.duration_minutes = int((ended_at - visit.started_at).total_seconds() // 60)
    visit.checkout_latitude, visit.checkout_longitude = lat, lng
    visit.service_items = items
    visit.note = note
    visit.checkout_digest = _fingerprint(*values)
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
        checkin_digest=_fingerprint(
            VisitKind.EMERGENCY, recipient.pk, started_at, ended_at, lat, lng, what.strip(), called.strip()
        ),
        received_at=now,
        checkout_received_at=now,
        synced_late=_late(now, started_at, offline),
        created_by=actor,
    )


def visit_check_in(
    *, actor, client_id, recipient_id, started_at, latitude=None, longitude=None, accuracy_m=None, offline=False
):
    """Start a visit. Returns (visit, created); a retry with the same client id returns the first visit."""
    return _log_once(
        _new_visit,
        actor=actor,
        client_id=client_id,
        recipient_id=recipient_id,
        started_at=started_at,
        latitude=latitude,
        longitude=longitude,
        accuracy_m=accuracy_m,
        offline=offline,
    )


def _log_once(build, *, actor, client_id, recipient_id, **details):
    """A new visit or emergency from the caregiver's phone: a retry with the same client id (and the same
    content) returns the first record, different content is a ConflictError; otherwise `build` makes it for the
    caregiver's own recipient, verified and saved."""
    caregiver = _caregiver_of(actor)
    client_id = uuid.UUID(str(client_id))
    now = timezone.now()
    # the recipient, and whether this client id was sent before, in one read; a resend (or a recipient not found)
    # then reads the first record
    recipient = _recipient_unless_resent(actor, recipient_id, client_id, offline=details.get("offline", False))
    existing = _existing(client_id, caregiver) if recipient is None else None
    if existing is not None:
        _check_resend(
            existing,
            sent_recipient_id=recipient_id,
            candidate=lambda: build(
                actor=actor, caregiver=caregiver, client_id=client_id, recipient=existing.recipient, now=now, **details
            ),
        )
        return existing, False
    if recipient is None:
        raise Http404("未找到该记录，或您无权查看。")
    visit = build(actor=actor, caregiver=caregiver, client_id=client_id, recipient=recipient, now=now, **details)
    apply_verification(visit, now=now)
    return _create_idempotent(visit)


@transaction.atomic
def visit_check_out(
    *, actor, visit_client_id, ended_at, service_items, note="", latitude=None, longitude=None, offline=False
):
    """Finish a visit. A retry of a check-out already recorded returns the visit unchanged (a ConflictError if it
    says something else)."""
    caregiver = _caregiver_of(actor)
    visit = _own_visit_for_update(caregiver, visit_client_id)
    if visit is None:
        raise Http404("未找到该服务记录。")
    if visit.ended_at is not None:
        _check_checkout_resend(
            visit, ended_at=ended_at, service_items=service_items, note=note, latitude=latitude, longitude=longitude
        )
        return visit
    before = copy.copy(visit)
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
    save_with_update_record(visit, before)
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
    return _log_once(
        _new_emergency,
        actor=actor,
        client_id=client_id,
        recipient_id=recipient_id,
        started_at=started_at,
        ended_at=ended_at,
        what=what,
        called=called,
        latitude=latitude,
        longitude=longitude,
        offline=offline,
    )


SYNC_MAX_ITEMS = 200


def visit_sync(*, actor, items: list[dict], received_at=None):
    """A phone's queue sent in one request (up to 200 records): each item a whole visit (check-in, and the check-out
    when `ended_at` is given), a check-out alone (client id, `ended_at` and items, no recipient: the visit was checked
    in by an earlier item of this batch or an earlier request) or an emergency (`kind` = "emergency"). Idempotent per
    client id like the single endpoints: a visit already received is returned as it is, or finished if it was open
    and the item finishes it.
    Returns one result per item, in order: (visit or None, "created" | "finished" | "existing" | "conflict" |
    "error", message); "conflict" is an item that says something else than what was received for its client id
    (the visit is the one recorded, unchanged).
    One transaction for the batch; the verification reads are shared by the batch (a fixed number of queries).
    `received_at` is the server's clock (now). The demo county's history passes when the items would have
    arrived: one moment, or one per item (in order), each item then recorded and verified as if it had come in
    a request of its own at that moment. It is not reachable from any request."""
    caregiver = _caregiver_of(actor)
    if len(items) > SYNC_MAX_ITEMS:
        raise ApplicationError(f"一次最多上传 {SYNC_MAX_ITEMS} 条记录。", field="visits")
    if isinstance(received_at, list | tuple):
        if len(received_at) != len(items):
            raise ValueError("received_at: one moment per item")
        arrivals = list(received_at)
    else:
        arrivals = [received_at or timezone.now()] * len(items)
    for attempt in (1, 2):
        try:
            with transaction.atomic():
                return _sync(actor, caregiver, items, arrivals)
        except IntegrityError:
            # the same phone sent the same records twice at once: the second pass finds them as existing
            if attempt == 2:
                raise
    return []  # unreachable


def _sync(actor, caregiver, items, arrivals):
    ids = []
    for item in items:
        try:
            ids.append(uuid.UUID(str(item.get("client_id"))))
        except (TypeError, ValueError):
            ids.append(None)
    # a phone's queue is mostly new records: look for known ids first, and read (and lock) only those with their
    # people (a join of four tables costs more to build than the plain look-up)
    wanted = [i for i in ids if i]
    known = []
    if wanted:
        known = list(Visit.objects.filter(client_id__in=wanted).order_by().values_list("client_id", flat=True))
    existing = {}
    if known:
        locked = _with_people().select_for_update(of=("self",)).filter(client_id__in=known).order_by()
        existing = {v.client_id: _share_town(v) for v in locked}
    # a map by key: no order (a recipient's is by town, village and name, two joins)
    recipients = (
        upload_recipients(actor)
        .order_by()
        .in_bulk({item.get("recipient") for item in items if str(item.get("recipient", "")).isdigit()})
    )
    results, to_save = [], []
    for item, client_id, now in zip(items, ids, arrivals, strict=True):
        try:
            if client_id is None:
                raise ApplicationError("记录号格式不正确。", field="client_id")
            visit = existing.get(client_id)
            if visit is not None:
                if visit.caregiver_id != caregiver.pk:
                    raise ApplicationError("该记录号已被使用。", field="client_id")
                try:
                    _check_sync_resend(visit, item, actor=actor, caregiver=caregiver, now=now)
                except ConflictError as exc:
                    results.append([visit, "conflict", exc.message])
                    continue
                if visit.ended_at is None and item.get("ended_at") and item.get("kind", "regular") == "regular":
                    # a check-out, of a visit checked in earlier or earlier in this batch
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
                    if not any(v is visit for v in to_save):
                        to_save.append(visit)
                    results.append([visit, "finished", ""])
                else:
                    results.append([visit, "existing", ""])
                continue
            if item.get("recipient") is None:
                # a check-out sent alone, for a visit whose check-in never reached the server
                raise ApplicationError("未找到该服务记录的签到，无法签退。", field="client_id")
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
        # the rules judge each visit by when its check-in and check-out arrived (received_at and
        # checkout_received_at); the batch's latest moment is only the fallback for a record without one
        now = max(arrivals)
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


def _check_sync_resend(visit, item, *, actor, caregiver, now):
    """An item of a phone's queue for a visit already received must repeat what was sent for it: its check-in
    (or emergency) part when it has one, its check-out part when the visit is finished."""
    kind = item.get("kind") or VisitKind.REGULAR
    if item.get("recipient") is not None:
        common = {
            "actor": actor,
            "caregiver": caregiver,
            "client_id": visit.client_id,
            "recipient": visit.recipient,
            "started_at": item.get("started_at"),
            "latitude": item.get("latitude"),
            "longitude": item.get("longitude"),
            "offline": item.get("offline", False),
            "now": now,
        }
        if kind == VisitKind.EMERGENCY:

            def candidate():
                return _new_emergency(
                    **common, ended_at=item.get("ended_at"), what=item.get("what", ""), called=item.get("called", "")
                )
        else:

            def candidate():
                return _new_visit(**common, accuracy_m=item.get("accuracy_m"))

        _check_resend(visit, sent_recipient_id=item["recipient"], candidate=candidate)
    if kind == VisitKind.REGULAR and visit.ended_at is not None and item.get("ended_at"):
        _check_checkout_resend(
            visit,
            ended_at=item["ended_at"],
            service_items=item.get("service_items"),
            note=item.get("note", ""),
            latitude=item.get("checkout_latitude"),
            longitude=item.get("checkout_longitude"),
        )


def _insert(visits):
    """One write for the batch, and one for its audit records: every visit gets the same audit record as a single
    check-in (`log_created_in_bulk`). On PostgreSQL both go in by COPY (their keys taken first from the tables'
    sequences, in one query): for a batch of 20 about a third less time than two INSERTs built by the ORM. The model
    signals a save() would send are still sent for each row, for any other listener; django-auditlog's own is kept
    out of them so that no record is written twice."""
    if not visits:
        return
    db = router.db_for_write(Visit)
    by_copy = connections[db].vendor == "postgresql"
    audited = not auditlog_disabled.get()
    with disable_auditlog():
        for visit in visits:
            pre_save.send(sender=Visit, instance=visit, raw=False, using=db, update_fields=None)
        if by_copy:
            visit_ids, entry_ids = allocate_ids((Visit, len(visits)), (LogEntry, len(visits) if audited else 0))
            copy_instances(visits, visit_ids)
        else:
            Visit.objects.bulk_create(visits)
        for visit in visits:
            post_save.send(sender=Visit, instance=visit, created=True, update_fields=None, raw=False, using=db)
    log_created_in_bulk(visits, ids=entry_ids if by_copy else None)


def check_image(upload):
    """Size and type of an uploaded photo or signature, by its content (not its name)."""
    size = getattr(upload, "size", 0) or 0
    if size <= 0:
        raise ApplicationError("文件为空。", field="image")
    if size > VisitPhoto.MAX_BYTES:
        raise ApplicationError(f"照片不能超过 {VisitPhoto.MAX_BYTES // (1024 * 1024)} MB。", field="image")
    try:
        content_type = PHOTO_FORMATS.get(image_format(upload))
    except ImageTooLarge as exc:
        raise ApplicationError(exc.message, field="image") from None
    if content_type is None:
        raise ApplicationError("只能上传 JPEG、PNG 或 WebP 格式的照片。", field="image")
    return content_type, size


def check_photo_count(count, *, field):
    """A visit carries at most VisitPhoto.MAX_PER_VISIT photos."""
    if count > VisitPhoto.MAX_PER_VISIT:
        raise ApplicationError(f"每次服务最多上传 {VisitPhoto.MAX_PER_VISIT} 张照片。", field=field)


def visit_check_out_with_photos(*, actor, visit_client_id, photos, **check_out):
    """The caregiver page's check-out with its photos: the photos are checked before anything is written, then
    the check-out is recorded and the photos attached."""
    check_photo_count(len(photos), field="photos")
    for photo in photos:
        check_image(photo)
    visit = visit_check_out(actor=actor, visit_client_id=visit_client_id, **check_out)
    for photo in photos:
        visit_photo_add(actor=actor, visit_client_id=visit_client_id, upload=photo)
    return visit


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
    check_photo_count(visit.photos.count() + 1, field="image")
    content_type, size = check_image(upload)
    photo = VisitPhoto(visit=visit, client_id=client_id, content_type=content_type, size_bytes=size)
    photo.image.save(f"{visit.client_id}-{client_id}.{content_type.split('/')[1]}", upload, save=False)
    photo.save()
    return photo, True


def visit_confirm(*, actor, visit_client_id, code="", signature=None):
    """The recipient or guardian confirms the visit on the caregiver's screen, as the county setting asks: in
    code mode with one unused code of the recipient's card (spent by it), in signature mode by signing.

    A wrong code is counted on the visit (kept, though the answer is an error); at the MAX_WRONG_CODES-th the
    visit goes to review (verification's confirmation rule) and takes no more codes."""
    with transaction.atomic():
        visit, wrong = _visit_confirm(actor, visit_client_id, code, signature)
    if wrong is not None:
        raise ApplicationError(wrong, field="code")
    return visit


def _visit_confirm(actor, visit_client_id, code, signature):
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
        return visit, None
    mode = standard_on(visit.visit_date).confirmation_mode
    if mode == ConfirmationMode.NONE:
        raise ApplicationError("本县当前不要求服务对象确认。")
    if mode == ConfirmationMode.CODE:
        if visit.confirmation_failures >= MAX_WRONG_CODES:
            raise ApplicationError(
                f"确认码已连续输错{MAX_WRONG_CODES}次，该记录已转人工审核，不能再用确认码确认。", field="code"
            )
        if not confirmation_code_use(visit=visit, code=code):
            visit.confirmation_failures += 1
            fields = ["confirmation_failures", "updated_at"]
            left = MAX_WRONG_CODES - visit.confirmation_failures
            if left <= 0:
                apply_verification(visit)
                fields += ["status", "exception_reasons", "agreement", "checkin_distance_m"]
                fields += ["reviewed_by", "reviewed_at", "review_reason"]
            visit.save(update_fields=fields)
            if left <= 0:
                return visit, f"确认码已连续输错{MAX_WRONG_CODES}次，该记录已转人工审核。"
            return visit, (
                f"确认码不正确（请服务对象或监护人读出确认码卡上一个未用过的{CODE_LENGTH}位码）。"
                f"再输错{left}次，该记录将转人工审核。"
            )
    else:
        if signature is None:
            raise ApplicationError("请服务对象或监护人签名。", field="signature")
        content_type, _ = check_image(signature)
        visit.confirmation_signature.save(f"{visit.client_id}.{content_type.split('/')[1]}", signature, save=False)
    visit.confirmation_method = mode
    visit.confirmed_at = timezone.now()
    visit.save()
    return visit, None
