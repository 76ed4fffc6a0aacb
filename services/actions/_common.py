"""Helpers shared by the visit actions: the caregiver behind a login, positions, times, idempotency."""

import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils import timezone

from recipients.models import Recipient
from shenxian_care.exceptions import ApplicationError
from shenxian_care.fields import without_secrets
from shenxian_care.models import Role
from shenxian_care.permissions import ensure_role
from shenxian_care.scoping import caregiver_of, get_for_actor_or_404

from ..models import (
    ServiceItem,
    Visit,
)

# A record that reaches the server this long after the moment it records was kept on the phone.
SYNCED_LATE_AFTER = datetime.timedelta(minutes=15)
COORD_PLACES = Decimal("0.000001")
PHOTO_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


def _caregiver_of(actor):
    ensure_role(actor, Role.CAREGIVER)
    caregiver = caregiver_of(actor)
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


VISIT_PEOPLE = ("recipient", "caregiver", "provider")


def _with_people():
    """Visits with the people and places their verification and their answer name; never their ID or bank
    numbers."""
    return without_secrets(Visit.objects.select_related(*VISIT_PEOPLE, "town"), *VISIT_PEOPLE)


def _existing(client_id, caregiver):
    """The visit already made with this client id (a retry), if it is this caregiver's; a clash otherwise."""
    visit = _with_people().filter(client_id=client_id).order_by().first()
    if visit is not None and visit.caregiver_id != caregiver.pk:
        raise ApplicationError("该记录号已被使用。", field="client_id")
    return visit


def _recipient_for(actor, recipient_id):
    """Only recipients the caregiver has an agreement with exist for them (others → 404)."""
    return get_for_actor_or_404(without_secrets(Recipient.objects.select_related("town")), actor, pk=recipient_id)


def _create_idempotent(visit):
    """Insert; if a retry (or a concurrent one) inserted the same client id first, return that one instead, and
    if another caregiver's record has that client id, say so."""
    try:
        with transaction.atomic():
            visit.save()
        return visit, True
    except IntegrityError:
        existing = _existing(visit.client_id, visit.caregiver)
        if existing is None:
            raise
        return existing, False


def _clean_items(items):
    items = list(dict.fromkeys(items or []))
    valid = set(ServiceItem.values)
    unknown = [code for code in items if code not in valid]
    if unknown:
        raise ApplicationError("服务项目不在服务目录内：" + "、".join(unknown), field="service_items")
    return items
