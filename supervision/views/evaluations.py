"""Pages for the monthly evaluation: towns fill and submit; the bureau sees who is missing and returns."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from contracts.models import Provider
from recipients.models import Recipient
from shenxian_care.exceptions import ApplicationError
from shenxian_care.models import Role
from shenxian_care.scoping import actor_role
from shenxian_care.views_helpers import filter_list, form_error_from, paginate, role_required

from .. import actions, selectors
from ..dates import month_start, previous_month
from ..filters import EvaluationFilter
from ..forms import EvaluationForm, EvaluationStartForm, MonthForm, ReasonForm
from ..models import EvaluationStatus, Notification


@role_required(Role.BUREAU, Role.TOWN, Role.PROVIDER)
def evaluation_list(request):
    role = actor_role(request.user)
    visible, _chosen = filter_list(request, EvaluationFilter, selectors.evaluation_list(actor=request.user))
    page = paginate(request, visible)
    start_form = None
    if role == Role.TOWN:
        month = previous_month(timezone.localdate())
        start_form = EvaluationStartForm(
            initial={"month": month.strftime("%Y-%m")},
            providers=selectors.providers_serving_town(town=request.user.town, month=month),
        )
    return render(
        request,
        "supervision/evaluation_list.html",
        {"page": page, "start_form": start_form, "statuses": EvaluationStatus.choices},
    )


@require_POST
@role_required(Role.TOWN)
def evaluation_start(request):
    # only providers the official may see: another town's provider is not a choice (nor named in an error)
    form = EvaluationStartForm(request.POST, providers=Provider.objects.for_actor(request.user))
    if form.is_valid():
        try:
            evaluation = actions.evaluation_start(
                actor=request.user,
                town=request.user.town,
                provider=form.cleaned_data["provider"],
                month=form.cleaned_data["month"],
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            return redirect("supervision:evaluation_detail", pk=evaluation.pk)
    else:
        messages.error(request, "请选择服务机构和月份。")
    return redirect("supervision:evaluation_list")


def _evaluation_form(evaluation, data=None, points=None):
    recipients = (
        Recipient.objects.filter(town=evaluation.town, agreements__provider=evaluation.provider)
        .distinct()
        .order_by("name")
    )
    initial = {"summary": evaluation.summary}
    for score in evaluation.scores.all():
        initial[f"item_{score.item_id}"] = score.score
        initial[f"note_{score.item_id}"] = score.note
    for remark in evaluation.remarks.all():
        initial[f"remark_{remark.recipient_id}"] = remark.remark
    return EvaluationForm(data, evaluation=evaluation, recipients=recipients, initial=initial, points=points)


@role_required(Role.BUREAU, Role.TOWN, Role.PROVIDER)
def evaluation_detail(request, pk):
    evaluation = selectors.evaluation_get_for_actor(actor=request.user, pk=pk)
    editable = (
        actor_role(request.user) == Role.TOWN
        and evaluation.town_id == request.user.town_id
        and evaluation.status != EvaluationStatus.SUBMITTED
    )
    totals = selectors.evaluation_sheet_totals(evaluation)
    form = _evaluation_form(
        evaluation, request.POST if request.method == "POST" and editable else None, points=totals["points"]
    )
    if request.method == "POST" and editable and form.is_valid():
        try:
            actions.evaluation_save(
                actor=request.user,
                evaluation=evaluation,
                scores=form.scores(),
                summary=form.cleaned_data["summary"],
                remarks=form.remarks(),
            )
            if "submit" in request.POST:
                actions.evaluation_submit(actor=request.user, evaluation=evaluation)
                messages.success(request, "考评已提交，已锁定。")
            else:
                messages.success(request, "已保存草稿。")
        except ApplicationError as exc:
            form_error_from(form, exc)
        else:
            return redirect("supervision:evaluation_detail", pk=evaluation.pk)
    return render(
        request,
        "supervision/evaluation_detail.html",
        {
            "evaluation": evaluation,
            "form": form,
            "editable": editable,
            "totals": totals,
            "facts": selectors.evaluation_visit_facts(evaluation),
            "return_form": ReasonForm() if actor_role(request.user) == Role.BUREAU else None,
        },
    )


@require_POST
@role_required(Role.BUREAU)
def evaluation_return(request, pk):
    evaluation = selectors.evaluation_get_for_actor(actor=request.user, pk=pk)
    form = ReasonForm(request.POST)
    try:
        if not form.is_valid():
            raise ApplicationError("请填写退回理由。")
        actions.evaluation_return(actor=request.user, evaluation=evaluation, reason=form.cleaned_data["reason"])
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已退回镇（街道）修改。")
    return redirect("supervision:evaluation_detail", pk=evaluation.pk)


@role_required(Role.BUREAU, Role.TOWN)
def evaluation_missing(request):
    form = MonthForm(request.GET or None)
    month = previous_month(timezone.localdate())
    if form.is_bound and form.is_valid() and form.cleaned_data["month"]:
        month = month_start(form.cleaned_data["month"])
    rows = selectors.evaluation_missing(actor=request.user, month=month)
    return render(request, "supervision/evaluation_missing.html", {"form": form, "rows": rows, "month": month})


@require_POST
@role_required(Role.BUREAU)
def evaluation_remind(request):
    form = MonthForm(request.POST)
    month = previous_month(timezone.localdate())
    if form.is_valid() and form.cleaned_data["month"]:
        month = month_start(form.cleaned_data["month"])
    count = actions.evaluation_remind_missing(month=month)
    messages.success(request, f"已提醒{count}个镇（街道）。")
    return redirect(f"{reverse('supervision:evaluation_missing')}?month={month:%Y-%m}")


@require_POST
@role_required(Role.TOWN, Role.PROVIDER)
def notification_read(request, pk):
    actions.notification_mark_read(actor=request.user, notification=Notification(pk=pk))
    return redirect("portal:home")
