"""Pages for the bureau, towns and providers: dashboard, report, exceptions, corrections, plans, GPS rules."""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from contracts.models import Agreement
from recipients.models import Recipient
from shenxian_care.actions import export_request
from shenxian_care.exceptions import ApplicationError
from shenxian_care.models import Role
from shenxian_care.scoping import actor_role, get_for_actor_or_404
from shenxian_care.views_helpers import posted_ids, query_values

from .. import actions, exports, monitoring, reports, selectors
from ..filters import ExceptionQueueFilter, MonitoringFilter, PageQuery
from ..models import (
    CorrectionReason,
    CorrectionStatus,
    ExceptionReason,
    RecipientGpsRule,
    ServiceItem,
    VisitCorrection,
    VisitPhoto,
)
from ..permissions import can_review, can_review_visit, require_review_role

PER_PAGE = 50
MAX_PAGE = 100_000
WATCHERS = monitoring.WATCHERS


def _watcher_only(request):
    if actor_role(request.user) not in WATCHERS:
        raise PermissionDenied("您的角色无权查看此页面。")


def _filters(request, data=None):
    """Town / provider / month from the query string (or `data`), limited to what the viewer may choose."""
    choices = monitoring.filter_choices(actor=request.user)
    filters, month = MonitoringFilter(request.GET if data is None else data, choices=choices).chosen()
    return filters, month, choices


def _report_choice(request, data):
    filters, month, choices = _filters(request, data)
    month = month or timezone.localdate().replace(day=1)
    group = data.get("group") if data.get("group") in reports.GROUPS else "town"
    return filters, month, group, choices


@login_required
def dashboard(request):
    _watcher_only(request)
    filters, month, choices = _filters(request)
    data = monitoring.dashboard_data(actor=request.user, filters={**filters, "month": month} if month else filters)
    return render(
        request,
        "services/dashboard.html",
        {"data": data, "choices": choices, "filters": filters, "month": data["month"]},
    )


@login_required
def dashboard_json(request):
    _watcher_only(request)
    filters, month, _ = _filters(request)
    data = monitoring.dashboard_data(actor=request.user, filters={**filters, "month": month} if month else filters)
    return JsonResponse(data)


@login_required
def compliance_report(request):
    _watcher_only(request)
    filters, month, group, choices = _report_choice(request, request.GET)
    page = query_values(request, PageQuery).get("page", 1)
    page = min(max(page, 1), MAX_PAGE)  # a page number past this one is a typing slip (and an OFFSET overflow)
    today = timezone.localdate()
    if group == "recipient":
        rows, total = reports.compliance_rows(
            actor=request.user, month=month, group=group, filters=filters, page=page, per_page=PER_PAGE, today=today
        )
    else:
        rows = reports.compliance_rows(actor=request.user, month=month, group=group, filters=filters, today=today)
        total = len(rows)
    return render(
        request,
        "services/compliance_report.html",
        {
            "rows": rows,
            "total": total,
            "totals": reports.totals_of(rows) if group != "recipient" else None,
            "group": group,
            "groups": reports.GROUPS,
            "month": month,
            "to_date": selectors.judged_to_date(month, today),
            "due_through": selectors.due_through(month, today),
            "filters": filters,
            "choices": choices,
            "page": page,
            "pages": max((total + PER_PAGE - 1) // PER_PAGE, 1),
            "query": request.GET.urlencode(),
        },
    )


@login_required
@require_POST
def compliance_export(request):
    """Start the report's Excel export (the month, grouping and filters shown) in the background; its result
    page shows the progress, then the file."""
    _watcher_only(request)
    filters, month, group, _ = _report_choice(request, request.POST)
    job = export_request(
        actor=request.user,
        kind=exports.EXPORT_KIND,
        params=exports.export_params(month=month, group=group, filters=filters),
        file_name=exports.file_name(month, group),
    )
    return redirect("portal:export_detail", pk=job.pk)


@login_required
def exception_queue(request):
    """The exceptions waiting for review, filtered by town, provider, reason and month; the bureau clears several
    at once (one decision, one reason). Each row: when, and how far from the registered home the check-in was."""
    _watcher_only(request)
    choices = monitoring.filter_choices(actor=request.user)
    filterset = ExceptionQueueFilter(request.GET, choices=choices)
    filters, month = filterset.chosen()
    for name, errors in filterset.errors.items():
        messages.error(request, f"筛选条件“{filterset.filters[name].label or name}”无效：{errors[0]}")
    error, status = None, 200
    if request.method == "POST":
        decision = request.POST.get("decision")
        try:
            if decision not in ("accept", "reject"):  # a missing choice is neither (a town still gets 403 first)
                require_review_role(request.user)
                raise ApplicationError("请选择认可或不予认可。", field="decision")
            cleared = actions.visit_review_batch(
                actor=request.user,
                visit_ids=posted_ids(request),
                accept=decision == "accept",
                reason=request.POST.get("reason", ""),
            )
        except ApplicationError as exc:  # nothing was changed: the page again, the choices kept
            error, status = exc.message, 400
        else:
            verdict = "认可" if decision == "accept" else "不予认可"
            messages.success(request, f"已{verdict} {len(cleared)} 条异常记录。")
            return redirect(f"{request.path}?{request.GET.urlencode()}" if request.GET else request.path)
    qs = selectors.visit_list(
        actor=request.user,
        filters={**filters, "status": "exception", "month": month.strftime("%Y-%m") if month else None},
    )
    page = Paginator(qs, PER_PAGE).get_page(request.GET.get("page"))
    may_review = can_review(request.user)
    for visit in page:
        visit.reviewable = may_review and can_review_visit(request.user, visit)
    return render(
        request,
        "services/exception_queue.html",
        {
            "page": page,
            "choices": choices,
            "filters": filters,
            "month": month,
            "reasons": ExceptionReason.choices,
            "may_review": may_review,
            "error": error,
            "typed": request.POST,
            "checked": {str(pk) for pk in posted_ids(request)} if request.method == "POST" else set(),
            "query": _without_page(request.GET),
        },
        status=status,
    )


def _without_page(query):
    query = query.copy()
    query.pop("page", None)
    return query.urlencode()


@login_required
def visit_detail(request, client_id):
    _watcher_only(request)
    visit = selectors.visit_get_for_actor(actor=request.user, client_id=client_id)
    context = {
        "visit": visit,
        "photos": list(visit.photos.all()),
        "corrections": list(visit.corrections.select_related("requested_by", "decided_by")),
        "reasons": CorrectionReason.choices,
        "items": ServiceItem.choices,
        "error": None,
        "typed": {},
    }
    if request.method == "POST":
        try:
            if request.POST.get("action") == "review":
                actions.visit_review(
                    actor=request.user,
                    visit=visit,
                    accept=request.POST.get("decision") == "accept",
                    reason=request.POST.get("reason", ""),
                )
                messages.success(request, "已审核。")
            else:
                actions.visit_correct(
                    actor=request.user,
                    visit=visit,
                    reason_code=request.POST.get("reason_code", ""),
                    reason_note=request.POST.get("reason_note", ""),
                    changes=_correction_changes(request.POST),
                )
                messages.success(request, "更正已记录。")
            return redirect("services:visit_detail", client_id=visit.client_id)
        except ApplicationError as exc:
            context["error"], context["typed"] = exc.message, request.POST
            return render(request, "services/visit_detail.html", context, status=400)
    return render(request, "services/visit_detail.html", context)


def _correction_changes(post):
    changes = {}
    for name in ("started_at", "ended_at"):
        if post.get(name):
            try:
                parsed = parse_datetime(post[name])
            except ValueError:  # well formed but not a real moment, e.g. month 13
                parsed = None
            if parsed is None:
                raise ApplicationError("时间格式不正确。", field=name)
            changes[name] = timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed
    for name in ("checkin_latitude", "checkin_longitude"):
        if post.get(name):
            changes[name] = post[name]
    if post.get("change_items"):
        changes["service_items"] = post.getlist("service_items")
    if post.get("note"):
        changes["note"] = post["note"]
    return changes


@login_required
def visit_photo(request, pk):
    _watcher_only(request)
    photo = get_for_actor_or_404(VisitPhoto.objects.all(), request.user, pk=pk)
    return HttpResponse(photo.image.open("rb").read(), content_type=photo.content_type)


@login_required
def correction_queue(request):
    _watcher_only(request)
    pending = (
        VisitCorrection.objects.for_actor(request.user)
        .filter(status=CorrectionStatus.PENDING)
        .select_related("visit__recipient", "visit__caregiver", "visit__town", "requested_by")
        .order_by("requested_at")
    )
    if request.method == "POST":
        correction = get_for_actor_or_404(VisitCorrection.objects.all(), request.user, pk=request.POST.get("pk"))
        try:
            actions.visit_correction_decide(
                actor=request.user,
                correction=correction,
                approve=request.POST.get("decision") == "approve",
                note=request.POST.get("note", ""),
            )
            messages.success(request, "已处理。")
        except ApplicationError as exc:
            messages.error(request, exc.message)
        return redirect("services:correction_queue")
    page = Paginator(pending, PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "services/correction_queue.html", {"page": page})


@login_required
def plan(request):
    if actor_role(request.user) not in (Role.PROVIDER, Role.BUREAU):
        raise PermissionDenied("仅服务机构制定月度服务计划。")
    default_month = timezone.localdate().replace(day=1)
    month = selectors.parse_month(request.GET.get("month") or request.POST.get("month"), default_month)
    error = None
    if request.method == "POST":
        agreement = get_for_actor_or_404(Agreement.objects.all(), request.user, pk=request.POST.get("agreement"))
        try:
            time = datetime.time.fromisoformat(request.POST.get("planned_time") or "09:00")
            days = [d for d in request.POST.get("days", "").replace("，", ",").split(",") if d.strip()]
            count = actions.plan_set_month(
                actor=request.user, agreement=agreement, month=month, days=days, planned_time=time
            )
            messages.success(request, f"已保存 {agreement.recipient.name} 的计划：{count} 次。")
            return redirect(f"{request.path}?month={month:%Y-%m}")
        except ValueError:
            error = "计划时间格式不正确。"
        except ApplicationError as exc:
            error = exc.message
    rows = selectors.plan_rows(actor=request.user, month=month)
    return render(
        request,
        "services/plan.html",
        {"rows": rows, "month": month, "error": error, "typed": request.POST},
        status=400 if error else 200,
    )


@sensitive_post_parameters("id_number")
@login_required
def gps_rules(request):
    """Towns and providers ask for a recipient's own check-in rule (no GPS at home, or a wider radius); the bureau
    approves in the admin. Everyone sees the requests of their own scope."""
    if actor_role(request.user) not in (Role.TOWN, Role.PROVIDER, Role.BUREAU):
        raise PermissionDenied("您的角色无权查看此页面。")
    error = None
    if request.method == "POST":
        id_number = request.POST.get("id_number", "").strip().upper()
        recipient = Recipient.objects.for_actor(request.user).with_id_number(id_number).first()
        try:
            if recipient is None:
                raise ApplicationError("未找到该身份证号的服务对象（或不在您的管辖范围内）。", field="id_number")
            radius = request.POST.get("radius_m", "")
            actions.gps_rule_request(
                actor=request.user,
                recipient=recipient,
                reason=request.POST.get("reason", ""),
                gps_exempt=request.POST.get("gps_exempt") == "on",
                radius_m=int(radius) if radius.isdigit() else None,
            )
            messages.success(request, "已提交，待县民政局审批。")
            return redirect("services:gps_rules")
        except ApplicationError as exc:
            error = exc.message
    rules = Paginator(
        RecipientGpsRule.objects.for_actor(request.user).select_related("recipient", "requested_by", "decided_by"),
        PER_PAGE,
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "services/gps_rules.html",
        {"page": rules, "error": error, "typed": request.POST},
        status=400 if error else 200,
    )
