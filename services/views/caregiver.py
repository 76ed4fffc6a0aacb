"""The caregiver's day page (phone first) and its service worker.

The page works on its own with plain forms; `static/services/caregiver.js` turns the same forms into an offline
queue (IndexedDB) that posts to the API when the network returns."""

import hashlib
import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_POST

from contracts.models import Agreement
from shenxian_care.exceptions import ApplicationError, ConflictError
from shenxian_care.models import Role
from shenxian_care.scoping import actor_role
from shenxian_care.views_helpers import filter_list

from .. import actions, selectors
from ..filters import CaregiverDayFilter
from ..models import (
    ConfirmationMode,
    ServiceItem,
    VisitPhoto,
)
from ..standards import standard_on

OFFLINE_ASSETS = ("services/caregiver.js", "services/find.js", "services/services.css", "portal/portal.css")


def _caregiver_only(request):
    if actor_role(request.user) != Role.CAREGIVER:
        raise PermissionDenied("仅照料护理人使用此页面。")


def _moment(value):
    """A time the phone sent (ISO 8601), or now when the form was posted without script."""
    try:
        parsed = parse_datetime(value) if value else None
    except ValueError:  # well formed but not a real moment, e.g. month 13
        raise ApplicationError("时间格式不正确。", field="started_at") from None
    return parsed or timezone.now()


def _client_id(value):
    try:
        return uuid.UUID(value)
    except (TypeError, ValueError):
        return uuid.uuid4()


def _day_context(request, *, error_key=None, error=None, typed=None):
    """`error_key` is the recipient id or the open visit's client id the error belongs to."""
    today = timezone.localdate()
    # The name search goes through the list's FilterSet: a bad value (too long, a NUL byte) is named in a message.
    _none, chosen = filter_list(request, CaregiverDayFilter, Agreement.objects.none())
    query = (chosen.get("q") or "").strip()
    rows = selectors.caregiver_day(actor=request.user, day=today, filters={"q": query} if query else None)
    for row in rows:
        if error_key is not None and error_key in (str(row["recipient"]), str(row["open_visit"])):
            row["error"], row["typed"] = error, typed or {}
    standard = standard_on(today)
    return {
        "rows": rows,
        "q": query,
        "today": today,
        # What the caregiver logged today and how the platform judged it (verified, or the exception and why).
        "done_today": selectors.visit_list(actor=request.user, filters={"date": today.isoformat()}).filter(
            ended_at__isnull=False
        ),
        "items": [(code, label) for code, label in ServiceItem.choices if code != ServiceItem.EMERGENCY_RESCUE],
        "confirmation_mode": standard.confirmation_mode,
        "ConfirmationMode": ConfirmationMode,
        "max_photos": VisitPhoto.MAX_PER_VISIT,
        "max_photo_mb": VisitPhoto.MAX_BYTES // (1024 * 1024),
    }


@login_required
def caregiver_day(request):
    _caregiver_only(request)
    return render(request, "services/caregiver_day.html", _day_context(request))


def _render_error(request, key, exc, typed):
    context = _day_context(request, error_key=str(key), error=exc.message, typed=typed)
    if not any(row.get("error") for row in context["rows"]):
        messages.error(request, exc.message)
    return render(request, "services/caregiver_day.html", context, status=400)


@login_required
@require_POST
def caregiver_check_in(request, recipient_id):
    _caregiver_only(request)
    try:
        actions.visit_check_in(
            actor=request.user,
            client_id=_client_id(request.POST.get("client_id")),
            recipient_id=recipient_id,
            started_at=_moment(request.POST.get("started_at")),
            latitude=request.POST.get("latitude") or None,
            longitude=request.POST.get("longitude") or None,
            accuracy_m=request.POST.get("accuracy") or None,
        )
    except ApplicationError as exc:
        return _render_error(request, recipient_id, exc, {})
    messages.success(request, "已签到。")
    return redirect("services:caregiver_day")


@login_required
@require_POST
def caregiver_check_out(request, client_id):
    _caregiver_only(request)
    items = request.POST.getlist("service_items")
    note = request.POST.get("note", "")
    photos = request.FILES.getlist("photos")
    try:
        actions.visit_check_out_with_photos(
            actor=request.user,
            visit_client_id=client_id,
            photos=photos,
            ended_at=_moment(request.POST.get("ended_at")),
            service_items=items,
            note=note,
            latitude=request.POST.get("latitude") or None,
            longitude=request.POST.get("longitude") or None,
        )
    except ConflictError as exc:
        if request.POST.get("ended_at"):
            return _render_error(request, client_id, exc, {"service_items": items, "note": note})
        # posted without script, so the time is the server's: a second submit of the form differs by it alone
        messages.info(request, "该次服务已签退。")
        return redirect("services:caregiver_day")
    except ApplicationError as exc:
        return _render_error(request, client_id, exc, {"service_items": items, "note": note})
    messages.success(request, "已签退，服务记录已上传。")
    return redirect("services:caregiver_day")


@login_required
@require_POST
def caregiver_emergency(request, recipient_id):
    _caregiver_only(request)
    what, called = request.POST.get("what", ""), request.POST.get("called", "")
    try:
        actions.visit_log_emergency(
            actor=request.user,
            client_id=_client_id(request.POST.get("client_id")),
            recipient_id=recipient_id,
            started_at=_moment(request.POST.get("started_at")),
            what=what,
            called=called,
            latitude=request.POST.get("latitude") or None,
            longitude=request.POST.get("longitude") or None,
        )
    except ApplicationError as exc:
        return _render_error(request, recipient_id, exc, {"what": what, "called": called})
    messages.success(request, "紧急救援已记录。")
    return redirect("services:caregiver_day")


@login_required
@require_POST
def caregiver_confirm(request, client_id):
    _caregiver_only(request)
    try:
        actions.visit_confirm(
            actor=request.user,
            visit_client_id=client_id,
            code=request.POST.get("code", ""),
            signature=request.FILES.get("signature"),
        )
    except ApplicationError as exc:
        return _render_error(request, client_id, exc, {})
    messages.success(request, "服务对象已确认。")
    return redirect("services:caregiver_day")


def service_worker(request):
    """The service worker script, served under /portal/services/ so it may control the caregiver pages."""
    body = render_to_string("services/sw.js", {"version": _sw_version(), "assets": OFFLINE_ASSETS}, request=request)
    response = HttpResponse(body, content_type="application/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = "/portal/services/"
    response["Cache-Control"] = "no-cache"
    return response


def _sw_version():
    """Changes whenever the offline assets change, so phones drop the old cache."""
    digest = hashlib.sha256()
    for name in OFFLINE_ASSETS:
        path = finders.find(name)
        if path:
            with open(path, "rb") as handle:
                digest.update(handle.read())
    return digest.hexdigest()[:12]
