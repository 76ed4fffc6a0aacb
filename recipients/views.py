"""Portal pages for the registry: scoped lists, a recipient's record, reports of change, the roster import."""

from django.contrib import messages
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
from shenxian_care.views_helpers import form_error_from, paginate, role_required

from . import actions, selectors
from .forms import AssessmentForm, ExitReportForm, FindByIdForm, RecipientFilterForm, RosterUploadForm
from .imports import template_workbook_bytes
from .models import MonthlyRoster, RosterStatus

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
                actions.roster_apply_request(actor=request.user, roster=roster)
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
        {"roster": roster, "diff": roster.diff, "progress_done": done, "progress_total": total},
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
