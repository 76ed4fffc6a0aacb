"""Portal pages of billing: the month list, a month's figures and progress, lines, downloads.

Bureau computes and confirms; finance and providers read (providers only their own figures).
Town officials and caregivers have no billing pages.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from shenxian_care.actions import export_request
from shenxian_care.exceptions import ApplicationError
from shenxian_care.models import Role
from shenxian_care.progress import run_died
from shenxian_care.scoping import actor_role, is_bureau
from shenxian_care.views_helpers import form_error_from, paginate, posted_ids, role_required

from . import actions, exports, selectors
from .forms import LineFilterForm, MonthForm, PaymentRecordForm
from .models import RunState, SettlementStatus

READERS = (Role.BUREAU, Role.FINANCE, Role.PROVIDER)


@role_required(*READERS)
def settlement_list(request):
    form = None
    if is_bureau(request.user):
        form = MonthForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            month = form.cleaned_data["month"]
            try:
                actions.settlement_compute_request(actor=request.user, month=month)
            except ApplicationError as exc:
                form_error_from(form, exc)
            else:
                messages.success(request, f"已开始计算{month:%Y年%m月}结算，可在结算页查看进度。")
                return redirect("billing:settlement_list")
    page = paginate(request, selectors.settlement_list(actor=request.user), per_page=24)
    return render(
        request,
        "billing/settlement_list.html",
        {"page": page, "form": form, "county": selectors.sees_county_totals(request.user)},
    )


@role_required(*READERS)
def settlement_detail(request, pk):
    settlement = selectors.settlement_get_for_actor(actor=request.user, pk=pk)
    bureau = is_bureau(request.user)
    running = settlement.run_state == RunState.RUNNING
    return render(
        request,
        "billing/settlement_detail.html",
        {
            "settlement": settlement,
            "totals": selectors.own_totals(actor=request.user, settlement=settlement),
            "county": selectors.sees_county_totals(request.user),
            "providers": selectors.provider_totals(actor=request.user, settlement=settlement),
            "towns": selectors.town_totals(actor=request.user, settlement=settlement),
            "levels": selectors.level_totals(actor=request.user, settlement=settlement),
            "applications": selectors.deduction_applications(actor=request.user, settlement=settlement),
            "payments": selectors.payment_list(actor=request.user, settlement=settlement)[:200],
            "can_confirm": bureau
            and settlement.status == SettlementStatus.DRAFT
            and settlement.run_state == RunState.DONE
            and not settlement.rerun_requested,
            "can_recompute": bureau and settlement.status == SettlementStatus.DRAFT,
            "can_discard": bureau and settlement.status == SettlementStatus.DRAFT and not running,
            "held": selectors.held_corrections(actor=request.user, settlement=settlement),
            "undecided": selectors.proposal_list(actor=request.user, settlement=settlement).undecided().count(),
            "receivables": selectors.receivables(actor=request.user, settlement=settlement)
            if selectors.sees_county_totals(request.user)
            else [],
            "running": running and not _stalled(settlement),
            "stalled": _stalled(settlement),
            "sheets": exports.SHEET_TITLES,
        },
    )


def _stalled(settlement):
    """Running, but its worker stopped beating (killed): recomputing starts it anew."""
    return settlement.run_state == RunState.RUNNING and run_died(settlement)


@role_required(*READERS)
def settlement_progress(request, pk):
    s = selectors.settlement_get_for_actor(actor=request.user, pk=pk)
    stalled = _stalled(s)
    return JsonResponse(
        {
            "run_state": s.run_state,
            "run_state_display": "已中断" if stalled else s.get_run_state_display(),
            "stalled": stalled,
            "done": s.progress_done,
            "total": s.progress_total,
            "percent": s.progress_percent,
            "error": s.run_error,
        }
    )


@role_required(*READERS)
def settlement_lines(request, pk):
    settlement = selectors.settlement_get_for_actor(actor=request.user, pk=pk)
    form = LineFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    page = paginate(request, selectors.line_list(actor=request.user, settlement=settlement, filters=filters))
    return render(request, "billing/settlement_lines.html", {"settlement": settlement, "page": page, "form": form})


@role_required(*READERS)
@require_POST
def settlement_download(request, pk, sheet="all"):
    """Start the month's Excel export in the background; its result page shows the progress, then the file."""
    settlement = selectors.settlement_get_for_actor(actor=request.user, pk=pk)
    if sheet != "all" and sheet not in exports.SHEETS:
        return redirect("billing:settlement_detail", pk=pk)
    job = export_request(
        actor=request.user,
        kind=exports.EXPORT_KIND,
        params=exports.export_params(settlement, sheet),
        file_name=exports.file_name(settlement, sheet),
    )
    return redirect("portal:export_detail", pk=job.pk)


@require_POST
@role_required(Role.BUREAU)
def settlement_confirm(request, pk):
    settlement = selectors.settlement_get_for_actor(actor=request.user, pk=pk)
    try:
        actions.settlement_confirm(actor=request.user, settlement=settlement)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{settlement.month:%Y年%m月}结算已确认并冻结。")
    return redirect("billing:settlement_detail", pk=pk)


@require_POST
@role_required(Role.BUREAU)
def settlement_recompute(request, pk):
    settlement = selectors.settlement_get_for_actor(actor=request.user, pk=pk)
    try:
        running = actions.settlement_compute_request(actor=request.user, month=settlement.month)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        if running:
            messages.info(request, "本月结算正在计算中；完成后将按最新数据自动再计算一次，届时才能确认。")
        else:
            messages.success(request, "已开始重新计算。")
    return redirect(reverse("billing:settlement_detail", args=[pk]))


@require_POST
@role_required(Role.BUREAU)
def settlement_discard(request, pk):
    settlement = selectors.settlement_get_for_actor(actor=request.user, pk=pk)
    try:
        actions.settlement_discard(actor=request.user, settlement=settlement)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("billing:settlement_detail", pk=pk)
    messages.success(request, f"{settlement.month:%Y年%m月}结算草稿已作废。")
    return redirect("billing:settlement_list")


@role_required(*READERS)
def settlement_payments(request, pk):
    """The month's payment list with what is paid; the finance bureau records payments here (date, voucher)."""
    settlement = selectors.settlement_get_for_actor(actor=request.user, pk=pk)
    can_record = actor_role(request.user) == Role.FINANCE and settlement.status == SettlementStatus.CONFIRMED
    form = PaymentRecordForm(request.POST or None) if can_record else None
    if form is not None and request.method == "POST" and form.is_valid():
        payment = selectors.payment_get_for_actor(actor=request.user, pk=form.cleaned_data["payment"])
        try:
            actions.payment_record(
                actor=request.user,
                payment=payment,
                paid_on=form.cleaned_data["paid_on"],
                voucher_number=form.cleaned_data["voucher_number"],
                amount=form.cleaned_data["amount"],
            )
        except ApplicationError as exc:
            messages.error(request, f"{payment.payee_name}：{exc.message}")
        else:
            messages.success(
                request, f"已登记{payment.payee_name}的支付（凭证号 {form.cleaned_data['voucher_number']}）。"
            )
            return redirect("billing:settlement_payments", pk=pk)
    elif form is not None and request.method == "POST":
        messages.error(request, "；".join(e for errors in form.errors.values() for e in errors))
    page = paginate(
        request, selectors.payment_list(actor=request.user, settlement=settlement).prefetch_related("records")
    )
    for payment in page:
        payment.remaining = payment.amount - payment.paid
    return render(
        request,
        "billing/payments.html",
        {"settlement": settlement, "page": page, "can_record": can_record, "today": timezone.localdate()},
    )


@role_required(*READERS)
def settlement_proposals(request, pk):
    """扣款建议: deductions the month's evidence proposes; the bureau accepts or waives them (several at once)."""
    settlement = selectors.settlement_get_for_actor(actor=request.user, pk=pk)
    can_decide = is_bureau(request.user) and settlement.status == SettlementStatus.DRAFT
    if request.method == "POST":
        if not can_decide:
            raise PermissionDenied
        accept = request.POST.get("verb") == "accept"
        try:
            count = actions.proposals_decide(
                actor=request.user,
                settlement=settlement,
                proposal_ids=posted_ids(request),
                accept=accept,
                reason=request.POST.get("reason", ""),
            )
        except ApplicationError as exc:
            messages.error(request, exc.message)
        else:
            verb = "确认扣款，已开始按新扣款重新计算" if accept else "免予扣款"
            messages.success(request, f"已对{count}条建议{verb}。")
        return redirect("billing:settlement_proposals", pk=pk)
    proposals = selectors.proposal_list(actor=request.user, settlement=settlement)
    return render(
        request,
        "billing/proposals.html",
        {"settlement": settlement, "page": paginate(request, proposals, per_page=100), "can_decide": can_decide},
    )
