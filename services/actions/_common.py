"""Helpers shared by the visit actions: the caregiver behind a login, positions, times, idempotency."""

import datetime
import hashlib
import json
import math
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists
from django.utils import timezone

from contracts.models import Provider
from contracts.scoping import caregiver_served_recipients, caregiver_upload_recipients
from shenxian_care.audit import mark_new
from shenxian_care.exceptions import ApplicationError, ConflictError
from shenxian_care.fields import without_secrets
from shenxian_care.models import Role
from shenxian_care.permissions import ensure_role
from shenxian_care.scoping import caregiver_in_post_of
from shenxian_care.validators import finite_decimal, validate_plausible_date

from ..models import (
    ServiceItem,
    Visit,
)

# A record that reaches the server this long after the moment it records was kept on the phone.
SYNCED_LATE_AFTER = datetime.timedelta(minutes=15)
COORD_PLACES = Decimal("0.000001")
PHOTO_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
# A position fix less precise than this locates nothing; a larger number is a phone's bug, not a reading.
MAX_ACCURACY_M = 100_000


def _caregiver_of(actor):
    ensure_role(actor, Role.CAREGIVER)
    caregiver = caregiver_in_post_of(actor)
    if caregiver is None:
        raise ApplicationError("您的账号未关联在岗的照料护理人。")
    return caregiver


def _coord(value, field, low, high):
    if value in (None, ""):
        return None
    try:
        number = finite_decimal(value).quantize(COORD_PLACES, rounding=ROUND_HALF_UP)
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
    """The moment a phone sent, made aware, and within the plausible window (a wrong clock, year 1 or 9999,
    is refused with a message rather than stored or overflowing a date conversion)."""
    if value is None:
        raise ApplicationError("请提供时间。", field=field)
    try:
        validate_plausible_date(value)
    except ValidationError as exc:
        raise ApplicationError(exc.messages[0], field=field) from None
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


def _accuracy(value):
    """The position fix's accuracy in whole metres (the phone may send a fraction), or None."""
    if value in (None, ""):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ApplicationError("定位精度格式不正确。", field="accuracy_m") from None
    if not math.isfinite(number) or not 0 <= number <= MAX_ACCURACY_M:
        raise ApplicationError(f"定位精度超出范围（0 至 {MAX_ACCURACY_M} 米）。", field="accuracy_m")
    return int(number)


def _late(received, moment, offline):
    return bool(offline) or received - moment > SYNCED_LATE_AFTER


VISIT_PEOPLE = ("recipient", "caregiver", "provider")


def _with_people():
    """Visits with the people and places their verification and their answer name; never their ID or bank
    numbers."""
    return without_secrets(Visit.objects.select_related(*VISIT_PEOPLE, "town"), *VISIT_PEOPLE)


def _share_town(visit):
    """A visit read with its people (`_with_people`) is in its recipient's town unless the recipient has moved since:
    the recipient then takes the town read with the visit, so that a resend's check (which rebuilds the record from
    the recipient, town included) reads it no second time."""
    if visit.recipient.town_id == visit.town_id:
        visit.recipient.town = visit.town
    return visit


def _existing(client_id, caregiver):
    """The visit already made with this client id (a retry), if it is this caregiver's; a clash otherwise."""
    visit = _with_people().filter(client_id=client_id).order_by().first()
    if visit is None:
        return None
    if visit.caregiver_id != caregiver.pk:
        raise ApplicationError("该记录号已被使用。", field="client_id")
    return _share_town(visit)


def _own_visit_for_update(caregiver, client_id):
    """The caregiver's own visit with this client id, locked, with the people and places its verification and its
    answer name (never their ID or bank numbers), or None. The caregiver and their provider are the ones read with
    the login (`_caregiver_of`), not read again: only the recipient and the town are joined."""
    found = list(
        without_secrets(Visit.objects.select_related("recipient", "town"), "recipient", "town")
        .select_for_update(of=("self",))
        .filter(client_id=client_id, caregiver=caregiver)
        .order_by("pk")[:1]
    )
    if not found:
        return None
    visit = found[0]
    visit.caregiver = caregiver
    if visit.provider_id == caregiver.provider_id:
        visit.provider = caregiver.provider
    else:  # recorded under the provider the caregiver worked for then
        visit.provider = without_secrets(Provider.objects.all()).get(pk=visit.provider_id)
    return visit


def upload_recipients(actor):
    """The recipients a caregiver may send visits for (`contracts.scoping.caregiver_upload_recipients`)."""
    return without_secrets(caregiver_upload_recipients(actor).select_related("town"))


def _recipient_unless_resent(actor, recipient_id, client_id, *, offline=False):
    """The recipient a new record is for, in one query that also asks whether `client_id` was received before:
    None when it was (a resend, answered from the first record) or when the recipient is not one the caregiver
    may send for (a 404, unless it is a resend). A visit sent late from an offline phone may be for someone served
    within the upload window (judged by its own date); a check-in made now only for someone the caregiver serves
    today: access ends when service ends."""
    try:
        recipient_id = int(str(recipient_id))
    except (TypeError, ValueError):
        return None
    if not 0 < recipient_id < 2**63:  # no key holds it
        return None
    wanted = {"pk": recipient_id}
    if not offline:
        served = caregiver_served_recipients(actor)
        if served is None:
            return None
        wanted["pk__in"] = served
    # one filter(), one clone less than first(): building this query costs far more than running it
    resent = Exists(Visit.objects.filter(client_id=client_id))
    found = list(upload_recipients(actor).filter(**wanted).annotate(resent=resent).order_by("pk")[:1])
    if not found or found[0].resent:
        return None
    return found[0]


def _create_idempotent(visit):
    """Insert; if a retry (or a concurrent one) inserted the same client id first, return that one instead, and
    if another caregiver's record has that client id, say so."""
    mark_new(visit)
    try:
        with transaction.atomic():
            visit.save()
        return visit, True
    except IntegrityError:
        existing = _existing(visit.client_id, visit.caregiver)
        if existing is None:
            raise
        return existing, False


_SERVICE_ITEMS = frozenset(ServiceItem.values)


def _clean_items(items):
    items = list(dict.fromkeys(items or []))
    unknown = [code for code in items if code not in _SERVICE_ITEMS]
    if unknown:
        raise ApplicationError("服务项目不在服务目录内：" + "、".join(unknown), field="service_items")
    return items


CONFLICT_MESSAGE = "该记录号已上传过内容不同的记录，已保存的记录未改动：请核对手机上的这条记录。"


def _plain(value):
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _fingerprint(*values):
    """A digest of what a phone sent, from its normalised values (the same moment in any time zone, the same
    position to the stored precision, is the same)."""
    text = json.dumps([_plain(v) for v in values], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _checkout_values(*, ended_at, service_items, note, latitude, longitude):
    """A check-out's values as they are stored: (ended_at, items, note, latitude, longitude)."""
    items = _clean_items(service_items)
    if not items:
        raise ApplicationError("请至少选择一项服务项目。", field="service_items")
    ended_at = _aware(ended_at, "ended_at")
    lat, lng = _position(latitude, longitude, "checkout")
    return ended_at, items, (note or "").strip(), lat, lng


def _as_id(value):
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def _check_resend(existing, *, sent_recipient_id, candidate):
    """A retry of a check-in or emergency must repeat what was sent; anything else is a conflict (409) naming
    the record. `candidate()` builds, unsaved, what the resend would have recorded for `existing.recipient`."""
    if not existing.checkin_digest:
        return  # recorded before digests were kept: a retry, as it always was
    if _as_id(sent_recipient_id) != existing.recipient_id or candidate().checkin_digest != existing.checkin_digest:
        raise ConflictError(CONFLICT_MESSAGE, existing=existing, field="client_id")


def _check_checkout_resend(visit, **sent):
    """A retry of a check-out of a finished visit must repeat what was sent (409 otherwise)."""
    if visit.checkout_digest and _fingerprint(*_checkout_values(**sent)) != visit.checkout_digest:
        raise ConflictError(CONFLICT_MESSAGE, existing=visit, field="client_id")
