"""Portal pages for agreements and caregivers: providers draft, towns sign, everyone sees only their own."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from shenxian_care.exceptions import ApplicationError
from shenxian_care.models import Role
from shenxian_care.scoping import actor_role
from shenxian_care.views_helpers import form_error_from, paginate, posted_ids, role_required

from . import actions, selectors
from .forms import AgreementFilterForm, AgreementForm, AgreementSignForm, CaregiverForm, CaregiverLeaveForm
from .models import AgreementStatus
from .selectors import rate_table_on


@role_required(Role.BUREAU, Role.TOWN, Role.PROVIDER)
def agreement_list(request):
    form = AgreementFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    page = paginate(request, selectors.agreement_list(actor=request.user, filters=filters))
    return render(request, "contracts/agreement_list.html", {"form": form, "page": page})


@role_required(Role.BUREAU, Role.TOWN, Role.PROVIDER)
def agreement_detail(request, pk):
    agreement = selectors.agreement_get_for_actor(actor=request.user, pk=pk)
    role = actor_role(request.user)
    sign_form = None
    if agreement.status == AgreementStatus.DRAFT and role in (Role.BUREAU, Role.TOWN):
        sign_form = AgreementSignForm(
            request.POST or None,
            initial={"signed_on": timezone.localdate(), "village_signatory": agreement.village_signatory},
        )
        if request.method == "POST" and sign_form.is_valid():
            try:
                actions.agreement_sign_as_town(actor=request.user, agreement=agreement, **sign_form.cleaned_data)
            except ApplicationError as exc:
                form_error_from(sign_form, exc)
            else:
                agreement.refresh_from_db()
                messages.success(
                    request, f"协议{agreement.number}四方已签订，自{agreement.window[0]:%Y年%m月%d日}起生效。"
                )
                return redirect("contracts:agreement_detail", pk=agreement.pk)
    return render(request, "contracts/agreement_detail.html", {"agreement": agreement, "sign_form": sign_form})


@role_required(Role.BUREAU, Role.TOWN, Role.PROVIDER)
def agreement_print(request, pk):
    agreement = selectors.agreement_get_for_actor(actor=request.user, pk=pk)
    rates = rate_table_on(agreement.start_date)
    return render(
        request,
        "contracts/agreement_print.html",
        {"agreement": agreement, "rate": rates.rate_for(agreement.level_at_signing), "rates": rates},
    )


@role_required(Role.BUREAU, Role.PROVIDER)
def agreement_create(request):
    form = AgreementForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            agreement = actions.agreement_create(actor=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            form_error_from(form, exc)
        else:
            messages.success(request, f"协议{agreement.number}已起草，待镇（街道）签订。")
            return redirect("contracts:agreement_detail", pk=agreement.pk)
    return render(request, "contracts/agreement_form.html", {"form": form})


@role_required(Role.BUREAU, Role.TOWN, Role.PROVIDER)
def caregiver_list(request):
    page = paginate(request, selectors.caregiver_list(actor=request.user))
    leave_form = None
    if actor_role(request.user) in (Role.BUREAU, Role.PROVIDER):
        leave_form = CaregiverLeaveForm(auto_id=False, initial={"left_on": timezone.localdate()})
    return render(request, "contracts/caregiver_list.html", {"page": page, "leave_form": leave_form})


@require_POST
@role_required(Role.BUREAU, Role.PROVIDER)
def caregiver_deactivate(request, pk):
    """A caregiver leaves: their login, sessions and phone token end at once."""
    caregiver = selectors.caregiver_get_for_actor(actor=request.user, pk=pk)
    form = CaregiverLeaveForm(request.POST)
    if not form.is_valid():
        messages.error(request, "请填写离职日期。")
        return redirect("contracts:caregiver_list")
    try:
        actions.caregiver_deactivate(
            actor=request.user, caregiver=caregiver, left_on=form.cleaned_data["left_on"], request=request
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{caregiver.name}已离职，其账号已停用。")
    return redirect("contracts:caregiver_list")


@sensitive_post_parameters("id_number", "bank_account_number", "password", "phone")
@role_required(Role.BUREAU, Role.PROVIDER)
def caregiver_create(request):
    form = CaregiverForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            caregiver = actions.caregiver_create(actor=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            form_error_from(form, exc)
        else:
            messages.success(request, f"已登记照料护理人{caregiver.name}。")
            return redirect("contracts:caregiver_list")
    return render(request, "contracts/caregiver_form.html", {"form": form})


@role_required(Role.BUREAU, Role.PROVIDER)
def notice_list(request):
    """名单变动: the month's list changes, exits and level approvals the bureau sent the provider."""
    notices = selectors.notice_list(actor=request.user)
    page = paginate(request, notices)
    return render(request, "contracts/notice_list.html", {"page": page, "unread": notices.unread().count()})


@require_POST
@role_required(Role.PROVIDER)
def notice_mark_read(request):
    """Mark the provider's unread notices read (the ones listed: `ids`), or all of them."""
    ids = posted_ids(request)
    count = actions.notices_mark_read(actor=request.user, ids=ids or None)
    messages.success(request, f"已标记{count}条为已读。")
    return redirect("contracts:notice_list")
