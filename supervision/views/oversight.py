"""Pages for serious problems, rectification notices, complaints and spot checks."""

from django.contrib import messages
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from recipients.models import Recipient
from shenxian_care.exceptions import ApplicationError
from shenxian_care.models import Role
from shenxian_care.scoping import actor_role
from shenxian_care.views_helpers import filter_list, form_error_from, paginate, query_values, role_required

from .. import actions, selectors
from ..filters import ComplaintFilter, RectificationFilter, SeriousProblemFilter
from ..forms import (
    AnswerForm,
    ComplaintCloseForm,
    ComplaintForm,
    DrawForm,
    ProblemReportForm,
    ProblemVerifyForm,
    ReasonForm,
    RectificationIssueForm,
    RectificationSourceQuery,
    SendBackForm,
    SpotCheckForm,
    SpotCheckQuery,
)
from ..models import ComplaintRoute, ComplaintStatus, ProblemStatus, RectificationStatus

PORTAL_ROLES = (Role.BUREAU, Role.TOWN, Role.PROVIDER)


# --- serious problems -------------------------------------------------------------------------------------


@role_required(*PORTAL_ROLES)
def problem_list(request):
    visible, chosen = filter_list(request, SeriousProblemFilter, selectors.serious_problem_list(actor=request.user))
    page, status = paginate(request, visible), chosen.get("status", "")
    return render(
        request, "supervision/problem_list.html", {"page": page, "status": status, "statuses": ProblemStatus.choices}
    )


@role_required(Role.BUREAU, Role.TOWN)
def problem_report(request):
    form = ProblemReportForm(
        request.POST or None, request.FILES or None, actor=request.user, initial={"occurred_on": timezone.localdate()}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            report = actions.serious_problem_report(
                actor=request.user,
                provider=data["provider"],
                town=data.get("town"),
                category=data["category"],
                occurred_on=data["occurred_on"],
                recipient=data["recipient"],
                description=data["description"],
                photos=data["photos"],
            )
        except ApplicationError as exc:
            form_error_from(form, exc)
        else:
            messages.success(request, "已报告县民政局，等待查证。")
            return redirect("supervision:problem_detail", pk=report.pk)
    return render(request, "supervision/problem_form.html", {"form": form})


@role_required(*PORTAL_ROLES)
def problem_detail(request, pk):
    report = selectors.serious_problem_get_for_actor(actor=request.user, pk=pk)
    bureau = actor_role(request.user) == Role.BUREAU and report.status == ProblemStatus.REPORTED
    verify_form = ProblemVerifyForm(report=report) if bureau else None
    reject_form = ReasonForm() if bureau else None
    if request.method == "POST" and bureau:
        try:
            if "reject" in request.POST:
                reject_form = ReasonForm(request.POST)
                if not reject_form.is_valid():
                    raise ApplicationError("请填写不属实的理由。", field="reason")
                actions.serious_problem_reject(
                    actor=request.user, report=report, reason=reject_form.cleaned_data["reason"]
                )
            else:
                verify_form = ProblemVerifyForm(request.POST, report=report)
                if not verify_form.is_valid():
                    raise ApplicationError("请检查查证信息。")
                data = verify_form.cleaned_data
                actions.serious_problem_verify(
                    actor=request.user,
                    report=report,
                    reason=data["reason"],
                    rule=data["rule"],
                    amount=data["amount"],
                    amount_changed_reason=data["amount_changed_reason"],
                    verified_on=data["verified_on"],
                    rectification_deadline=data["rectification_deadline"],
                )
        except ApplicationError as exc:
            form_error_from(reject_form if "reject" in request.POST else verify_form, exc)
        else:
            messages.success(request, "查证结论已登记。")
            return redirect("supervision:problem_detail", pk=report.pk)
    return render(
        request,
        "supervision/problem_detail.html",
        {"report": report, "verify_form": verify_form, "reject_form": reject_form},
    )


@role_required(*PORTAL_ROLES)
def problem_photo(request, pk, photo):
    """The photo evidence of a report, served through the same scope as the report (never a public media URL)."""
    item = selectors.serious_problem_photo_get_for_actor(actor=request.user, report_pk=pk, pk=photo)
    name = item.image.name.rsplit("/", 1)[-1]
    content_type = "image/png" if name.lower().endswith(".png") else "image/jpeg"
    response = FileResponse(item.image.open("rb"), content_type=content_type, filename=name)
    response["Cache-Control"] = "private, max-age=3600"
    return response


# --- rectification notices --------------------------------------------------------------------------------


@role_required(*PORTAL_ROLES)
def rectification_list(request):
    visible, chosen = filter_list(request, RectificationFilter, selectors.rectification_list(actor=request.user))
    page, status = paginate(request, visible), chosen.get("status", "")
    return render(
        request,
        "supervision/rectification_list.html",
        {"page": page, "status": status, "statuses": RectificationStatus.choices, "today": timezone.localdate()},
    )


@role_required(Role.BUREAU)
def rectification_issue(request):
    source, chosen = {}, query_values(request, RectificationSourceQuery)
    for key, getter in (
        ("spot_check", selectors.spot_check_list),
        ("serious_problem", selectors.serious_problem_list),
        ("complaint", selectors.complaint_list),
    ):
        if key in chosen:
            source[key] = getter(actor=request.user).filter(pk=chosen[key]).first()
    origin = next((o for o in source.values() if o is not None), None)
    initial = {"provider": getattr(origin, "provider", None), "town": getattr(origin, "town", None)}
    form = RectificationIssueForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            notice = actions.rectification_issue(actor=request.user, **data, **source)
        except ApplicationError as exc:
            form_error_from(form, exc)
        else:
            messages.success(request, f"整改通知{notice.number}已下发。")
            return redirect("supervision:rectification_detail", pk=notice.pk)
    return render(request, "supervision/rectification_form.html", {"form": form, "origin": origin})


@role_required(*PORTAL_ROLES)
def rectification_detail(request, pk):
    notice = selectors.rectification_get_for_actor(actor=request.user, pk=pk)
    role = actor_role(request.user)
    can_answer = role == Role.PROVIDER and notice.status in (
        RectificationStatus.ISSUED,
        RectificationStatus.RETURNED,
        RectificationStatus.OVERDUE,
    )
    can_review = role == Role.BUREAU and notice.status == RectificationStatus.ANSWERED
    answer_form = AnswerForm(request.POST if can_answer and request.method == "POST" else None)
    back_form = SendBackForm(request.POST if can_review and "send_back" in request.POST else None)
    if request.method == "POST" and (can_answer or can_review):
        try:
            if can_answer:
                if not answer_form.is_valid():
                    raise ApplicationError("请填写整改情况。", field="answer")
                actions.rectification_answer(
                    actor=request.user, notice=notice, answer=answer_form.cleaned_data["answer"]
                )
                done = "整改情况已提交，等待县民政局核查。"
            elif "send_back" in request.POST:
                if not back_form.is_valid():
                    raise ApplicationError("请填写退回理由。", field="reason")
                actions.rectification_send_back(
                    actor=request.user,
                    notice=notice,
                    reason=back_form.cleaned_data["reason"],
                    deadline=back_form.cleaned_data["deadline"],
                )
                done = "已退回服务机构重新整改。"
            else:
                actions.rectification_accept(actor=request.user, notice=notice, reason=request.POST.get("reason", ""))
                done = "已核查通过，整改完成。"
        except ApplicationError as exc:
            form_error_from(answer_form if can_answer else back_form, exc)
        else:
            messages.success(request, done)
            return redirect("supervision:rectification_detail", pk=notice.pk)
    return render(
        request,
        "supervision/rectification_detail.html",
        {
            "notice": notice,
            "answer_form": answer_form if can_answer else None,
            "back_form": back_form if can_review else None,
        },
    )


# --- complaints -------------------------------------------------------------------------------------------


@role_required(*PORTAL_ROLES)
def complaint_list(request):
    visible, chosen = filter_list(request, ComplaintFilter, selectors.complaint_list(actor=request.user))
    page, status = paginate(request, visible), chosen.get("status", "")
    return render(
        request,
        "supervision/complaint_list.html",
        {"page": page, "status": status, "statuses": ComplaintStatus.choices, "today": timezone.localdate()},
    )


@role_required(Role.BUREAU)
def complaint_create(request):
    form = ComplaintForm(request.POST or None, initial={"received_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            complaint = actions.complaint_log(actor=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            form_error_from(form, exc)
        else:
            messages.success(request, f"投诉{complaint.number}已登记并转办。")
            return redirect("supervision:complaint_detail", pk=complaint.pk)
    return render(request, "supervision/complaint_form.html", {"form": form})


@role_required(*PORTAL_ROLES)
def complaint_detail(request, pk):
    complaint = selectors.complaint_get_for_actor(actor=request.user, pk=pk)
    role = actor_role(request.user)
    routed_here = complaint.status != ComplaintStatus.CLOSED and (
        (role == Role.TOWN and complaint.route_to == ComplaintRoute.TOWN)
        or (role == Role.PROVIDER and complaint.route_to == ComplaintRoute.PROVIDER)
    )
    can_close = role == Role.BUREAU and complaint.status == ComplaintStatus.ANSWERED
    answer_form = AnswerForm(request.POST if routed_here and request.method == "POST" else None)
    close_form = ComplaintCloseForm(request.POST if can_close and request.method == "POST" else None)
    if request.method == "POST" and (routed_here or can_close):
        form = answer_form if routed_here else close_form
        if form.is_valid():
            try:
                if routed_here:
                    actions.complaint_answer(
                        actor=request.user, complaint=complaint, answer=form.cleaned_data["answer"]
                    )
                else:
                    actions.complaint_close(actor=request.user, complaint=complaint, **form.cleaned_data)
            except ApplicationError as exc:
                form_error_from(form, exc)
            else:
                messages.success(request, "已办理。")
                return redirect("supervision:complaint_detail", pk=complaint.pk)
    return render(
        request,
        "supervision/complaint_detail.html",
        {
            "complaint": complaint,
            "answer_form": answer_form if routed_here else None,
            "close_form": close_form if can_close else None,
        },
    )


# --- spot checks ------------------------------------------------------------------------------------------


@role_required(Role.BUREAU, Role.TOWN)
def spot_check_list(request):
    page = paginate(request, selectors.spot_check_list(actor=request.user))
    draws = selectors.spot_check_draw_list(actor=request.user)[:10]
    return render(request, "supervision/spotcheck_list.html", {"page": page, "draws": draws})


@role_required(Role.BUREAU)
def spot_check_draw(request):
    form = DrawForm(request.POST or None, initial={"day": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            draw = actions.spot_check_draw(
                actor=request.user,
                day=data["day"],
                town=data["town"],
                provider=data["provider"],
                level=data["level"],
                size=data["size"],
                percentage=data["percentage"],
                seed=data["seed"],
            )
        except ApplicationError as exc:
            form_error_from(form, exc)
        else:
            return redirect("supervision:spot_check_draw_detail", pk=draw.pk)
    return render(request, "supervision/spotcheck_draw.html", {"form": form})


@role_required(Role.BUREAU)
def spot_check_draw_detail(request, pk):
    draw = selectors.spot_check_draw_get_for_actor(actor=request.user, pk=pk)
    recipients = (
        Recipient.objects.filter(pk__in=draw.sample)
        .select_related("town", "village")
        .order_by("town__sort_order", "name")
    )
    checked = set(draw.checks.values_list("recipient_id", flat=True))
    return render(
        request,
        "supervision/spotcheck_draw_detail.html",
        {
            "draw": draw,
            "recipients": recipients,
            "checked": checked,
            "reproduced": selectors.redraw(draw) == draw.sample,
        },
    )


@role_required(Role.BUREAU, Role.TOWN)
def spot_check_record(request):
    town_only = actor_role(request.user) == Role.TOWN
    draw = None
    recipients = None
    chosen = query_values(request, SpotCheckQuery)
    if not town_only and "draw" in chosen:
        draw = selectors.spot_check_draw_get_for_actor(actor=request.user, pk=chosen["draw"])
        recipients = Recipient.objects.filter(pk__in=draw.sample)
    initial = {"checked_on": timezone.localdate(), "recipient": chosen.get("recipient")}
    form = SpotCheckForm(
        request.POST or None, actor=request.user, recipients=recipients, town_only=town_only, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            actions.spot_check_record(
                actor=request.user,
                recipient=data["recipient"],
                method=data["method"],
                result=data["result"],
                checked_on=data["checked_on"],
                finding=data["finding"],
                answers=form.answers(),
                draw=draw,
            )
        except ApplicationError as exc:
            form_error_from(form, exc)
        else:
            messages.success(request, "检查记录已登记。")
            if draw is not None:
                return redirect("supervision:spot_check_draw_detail", pk=draw.pk)
            return redirect("supervision:spot_check_list")
    return render(request, "supervision/spotcheck_form.html", {"form": form, "draw": draw, "town_only": town_only})
