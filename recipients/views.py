"""Portal pages for the registry: scoped lists, a recipient's record, reports of change, the roster import."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from shenxian_care.audit import client_address
from shenxian_care.exceptions import ApplicationError
from shenxian_care.models import Role
from shenxian_care.progress import progress_of
from shenxian_care.scoping import actor_role
from shenxian_care.views_helpers import form_error_from, paginate, query_values, role_required

from . import actions, selectors
from .forms import (
    APPROVAL_KINDS,
    ApprovalQueueQuery,
    AssessmentDecisionForm,
    AssessmentForm,
    ExitDecisionForm,
    ExitReportForm,
    FindByIdForm,
    RecipientFilterForm,
    ReportStatusQuery,
    RosterUploadForm,
)
from .imports import template_workbook_bytes
from .models import ApprovalStatus, MonthlyRoster, RosterStatus

ALL_ROLES = (Role.BUREAU, Role.TOWN, Role.PROVIDER)


@role_required(*ALL_ROLES)
def recipient_list(request):
    form = RecipientFilterForm(request.GET or None, actor=request.user)
    filters = {"in_support": True}
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        filters = {
            "q": data["q"],
            "town": data["town"].pk if data["town"] else None,
            "level": data["level"],
            "in_support": data["in_support"],
        }
    page = paginate(request, selectors.recipient_list(actor=request.user, filters=filters))
    return render(request, "recipients/recipient_list.html", {"form": form, "page": page, "find_form": FindByIdForm()})


@require_POST
@sensitive_post_parameters("id_number")
@role_required(*ALL_ROLES)
def recipient_find(request):
    """Jump to a recipient by full ID number. A POST, so the number never appears in a URL or access log."""
    form = FindByIdForm(request.POST)
    if form.is_valid():
        try:
            recipient = selectors.recipient_find_by_id_number(
                actor=request.user, id_number=form.cleaned_data["id_number"]
            )
        except Http404:
            messages.error(request, "未找到该身份证号对应的特困人员（或不在您的管辖范围内）。")
        else:
            return redirect("recipients:recipient_detail", pk=recipient.pk)
    return redirect("recipients:recipient_list")


def _detail_context(request, recipient, **extra):
    return {
        "recipient": recipient,
        "levels": selectors.level_history(recipient),
        "can_reveal": actor_role(request.user) in (Role.BUREAU, Role.TOWN),
        "can_report": actor_role(request.user) in (Role.BUREAU, Role.TOWN),
        **extra,
    }


@role_required(*ALL_ROLES)
def recipient_detail(request, pk):
    recipient = selectors.recipient_get_for_actor(actor=request.user, pk=pk)
    return render(request, "recipients/recipient_detail.html", _detail_context(request, recipient))


@require_POST
@role_required(Role.BUREAU, Role.TOWN)
def recipient_reveal_id(request, pk):
    recipient = selectors.recipient_get_for_actor(actor=request.user, pk=pk)
    full = selectors.recipient_full_id_number(
        actor=request.user, recipient=recipient, remote_addr=client_address(request)
    )
    return render(request, "recipients/recipient_detail.html", _detail_context(request, recipient, full_id=full))


@role_required(Role.BUREAU, Role.TOWN)
def assessment_report(request, pk):
    recipient = selectors.recipient_get_for_actor(actor=request.user, pk=pk)
    form = AssessmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            assessment = actions.assessment_create(
                actor=request.user,
                recipient=recipient,
                assessed_on=form.cleaned_data["assessed_on"],
                reported_on=timezone.localdate(),
                note=form.cleaned_data["note"],
                answers=form.answers(),
            )
        except ApplicationError as exc:
            form_error_from(form, exc)
        else:
            messages.success(
                request, f"已登记评估，按六项指标评定为“{assessment.get_level_display()}”，待县民政局审定。"
            )
            return redirect("recipients:recipient_detail", pk=recipient.pk)
    return render(request, "recipients/assessment_form.html", {"form": form, "recipient": recipient})


@role_required(Role.BUREAU, Role.TOWN)
def exit_report(request, pk):
    recipient = selectors.recipient_get_for_actor(actor=request.user, pk=pk)
    form = ExitReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.exit_report(actor=request.user, recipient=recipient, **form.cleaned_data)
        except ApplicationError as exc:
            form_error_from(form, exc)
        else:
            messages.success(request, "已报告退出，待县民政局审定。")
            return redirect("recipients:recipient_detail", pk=recipient.pk)
    return render(request, "recipients/exit_form.html", {"form": form, "recipient": recipient})


@role_required(Role.BUREAU)
def roster_template(request):
    response = HttpResponse(
        template_workbook_bytes(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = (
        "attachment; filename*=UTF-8''%E6%9C%88%E5%BA%A6%E5%90%8D%E5%8D%95%E6%A8%A1%E6%9D%BF.xlsx"
    )
    return response


@role_required(Role.BUREAU)
def roster_upload(request):
    form = RosterUploadForm(request.POST or None, request.FILES or None)
    errors = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            roster = actions.roster_upload(
                actor=request.user, month=form.cleaned_data["month"], file_name=upload.name, content=upload.read()
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
            errors = exc.extra.get("errors", [])
        else:
            return redirect("recipients:roster_preview", pk=roster.pk)
    recent = MonthlyRoster.objects.for_actor(request.user).select_related("imported_by")[:12]
    return render(request, "recipients/roster_upload.html", {"form": form, "errors": errors, "recent": recent})


@role_required(Role.BUREAU)
def roster_preview(request, pk):
    roster = get_object_or_404(MonthlyRoster.objects.for_actor(request.user), pk=pk)
    if request.method == "POST" and roster.status == RosterStatus.PREVIEW:
        try:
            if request.POST.get("decision") == "apply":
                actions.roster_apply_request(
                    actor=request.user, roster=roster, confirmed=request.POST.getlist("confirm")
                )
            else:
                actions.roster_discard(actor=request.user, roster=roster)
                messages.info(request, "已放弃本次上传。")
        except ApplicationError as exc:
            messages.error(request, exc.message)
        return redirect("recipients:roster_preview", pk=roster.pk)
    done, total = progress_of(roster)
    return render(
        request,
        "recipients/roster_preview.html",
        {
            "roster": roster,
            "diff": roster.diff,
            "progress_done": done,
            "progress_total": total,
            "confirmations": selectors.roster_confirmations(roster) if roster.status == RosterStatus.PREVIEW else [],
        },
    )


@role_required(Role.BUREAU)
def roster_progress(request, pk):
    """Where a roster's check or import has got to (polled by its page)."""
    roster = get_object_or_404(MonthlyRoster.objects.for_actor(request.user), pk=pk)
    done, total = progress_of(roster)
    return JsonResponse(
        {
            "status": roster.status,
            "status_display": roster.get_status_display(),
            "done": done,
            "total": total,
            "running": roster.status in (RosterStatus.CHECKING, RosterStatus.APPLYING),
        }
    )


# --- 待审定: the bureau decides reported changes, one by one or several at once -----------------------------------


@role_required(Role.BUREAU)
def approval_list(request):
    kind = query_values(request, ApprovalQueueQuery).get("kind")
    pending = ApprovalStatus.PENDING
    assessments, exits = [], []
    if kind != "exit":
        assessments = list(selectors.assessment_list(actor=request.user, status=pending, kind=kind))
    if kind not in ("first", "change"):
        exits = list(selectors.exit_list(actor=request.user, status=pending))
    return render(
        request,
        "recipients/approval_list.html",
        {
            "kind": kind,
            "kind_label": APPROVAL_KINDS.get(kind, ""),
            "kinds": APPROVAL_KINDS,
            "assessments": assessments,
            "exits": exits,
            # two forms on one page: their fields' ids (and so their labels) must differ
            "assessment_form": AssessmentDecisionForm(auto_id="assessment_%s"),
            "exit_form": ExitDecisionForm(auto_id="exit_%s"),
        },
    )


def _decide(request, obj, form, approve, reject):
    """Apply the form's decision to one request; the error in Chinese, or None when it went through."""
    reason = form.cleaned_data["reason"]
    try:
        if form.cleaned_data["decision"] == "approve":
            approve(obj, reason)
        else:
            reject(obj, reason)
    except ApplicationError as exc:
        return exc
    except PermissionDenied as exc:
        return ApplicationError(str(exc))
    return None


def _assessment_handlers(request, form):
    def approve(assessment, reason):
        actions.assessment_approve(
            actor=request.user, assessment=assessment, effective_date=form.effective_date_for(assessment), reason=reason
        )

    def reject(assessment, reason):
        actions.assessment_reject(actor=request.user, assessment=assessment, reason=reason)

    return approve, reject


def _exit_handlers(request, form):
    def approve(support_exit, reason):
        actions.exit_approve(actor=request.user, support_exit=support_exit, reason=reason)

    def reject(support_exit, reason):
        actions.exit_reject(actor=request.user, support_exit=support_exit, reason=reason)

    return approve, reject


def _decide_one(request, obj, form_class, handlers, template):
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        error = _decide(request, obj, form, *handlers(request, form))
        if error is None:
            verdict = "审定通过" if form.cleaned_data["decision"] == "approve" else "退回"
            messages.success(request, f"{obj.recipient.name}：已{verdict}。")
            return redirect("recipients:approval_list")
        form_error_from(form, error)
    return render(request, template, {"obj": obj, "form": form})


@role_required(Role.BUREAU)
def assessment_decide(request, pk):
    assessment = selectors.assessment_get_for_actor(actor=request.user, pk=pk)
    return _decide_one(
        request, assessment, AssessmentDecisionForm, _assessment_handlers, "recipients/assessment_decide.html"
    )


@role_required(Role.BUREAU)
def exit_decide(request, pk):
    support_exit = selectors.exit_get_for_actor(actor=request.user, pk=pk)
    return _decide_one(request, support_exit, ExitDecisionForm, _exit_handlers, "recipients/exit_decide.html")


def _decide_batch(request, queryset, form_class, handlers):
    form = form_class(request.POST)
    ids = [i for i in request.POST.getlist("ids") if i.isdigit()]
    if not ids:
        messages.error(request, "请先勾选要审定的记录。")
    elif not form.is_valid():
        errors = "；".join(e for field_errors in form.errors.values() for e in field_errors)
        messages.error(request, f"未处理：{errors}")
    else:
        approve, reject = handlers(request, form)
        done, failed = 0, []
        for obj in queryset.filter(pk__in=ids):
            error = _decide(request, obj, form, approve, reject)
            if error is None:
                done += 1
            else:
                failed.append(f"{obj.recipient.name}：{error.message}")
        verdict = "审定通过" if form.cleaned_data["decision"] == "approve" else "退回"
        if done:
            messages.success(request, f"已{verdict}{done}项。")
        for line in failed:
            messages.error(request, f"未能{verdict}　{line}")
    return redirect("recipients:approval_list")


@require_POST
@role_required(Role.BUREAU)
def assessment_decide_batch(request):
    return _decide_batch(
        request, selectors.assessment_list(actor=request.user), AssessmentDecisionForm, _assessment_handlers
    )


@require_POST
@role_required(Role.BUREAU)
def exit_decide_batch(request):
    return _decide_batch(request, selectors.exit_list(actor=request.user), ExitDecisionForm, _exit_handlers)


# --- 我的报告: what a town reported and where each stands ----------------------------------------------------------


REPORTS_SHOWN = 200


@role_required(Role.TOWN)
def report_list(request):
    status = query_values(request, ReportStatusQuery).get("status")
    assessments = selectors.assessment_list(actor=request.user, status=status).filter(created_by__role=Role.TOWN)
    exits = selectors.exit_list(actor=request.user, status=status).filter(created_by__role=Role.TOWN)
    return render(
        request,
        "recipients/report_list.html",
        {
            "status": status,
            "statuses": ApprovalStatus.choices,
            "assessments": assessments[:REPORTS_SHOWN],
            "exits": exits[:REPORTS_SHOWN],
            "shown": REPORTS_SHOWN,
        },
    )
