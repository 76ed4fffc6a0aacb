"""Bureau pages: the data cross-check, the half-year reviews and the takeover."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from contracts.models import Agreement, AgreementStatus
from contracts.selectors import contracts_ending_within
from recipients.models import Town
from shenxian_care.exceptions import ApplicationError
from shenxian_care.fields import secret_columns
from shenxian_care.models import Role
from shenxian_care.scoping import get_for_actor_or_404
from shenxian_care.views_helpers import filter_list, form_error_from, paginate, role_required

from .. import actions, selectors
from ..filters import ReviewFilter
from ..forms import CrossCheckUploadForm, DecideForm, ReviewStartForm, TakeoverForm, TerminationForm
from ..models import (
    CrossCheckBatch,
    CrossCheckHitStatus,
    Deduction,
    DeductionCorrection,
    DeductionStatus,
    ReviewDecision,
    ReviewStatus,
    Takeover,
    TakeoverStatus,
)


@role_required(Role.BUREAU)
def crosscheck(request):
    form = CrossCheckUploadForm(request.POST or None, request.FILES or None)
    errors = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            batch = actions.crosscheck_import(
                actor=request.user, content=upload.read(), file_name=upload.name, source=form.cleaned_data["source"]
            )
        except ApplicationError as exc:
            form_error_from(form, exc)
            errors = exc.extra.get("errors", [])
        else:
            messages.success(request, f"已比对{batch.row_count}行，发现疑点{batch.hits.count()}人。")
            return redirect("supervision:crosscheck_batch", pk=batch.pk)
    batches = CrossCheckBatch.objects.for_actor(request.user).select_related("imported_by")[:20]
    return render(request, "supervision/crosscheck.html", {"form": form, "errors": errors, "batches": batches})


@role_required(Role.BUREAU)
def crosscheck_batch(request, pk):
    batch = selectors.crosscheck_batch_get_for_actor(actor=request.user, pk=pk)
    if request.method == "POST":
        hit = selectors.crosscheck_hit_get_for_actor(actor=request.user, pk=request.POST.get("hit"), batch=batch)
        try:
            if "dismiss" in request.POST:
                actions.crosscheck_dismiss(actor=request.user, hit=hit, note=request.POST.get("note", ""))
            else:
                actions.crosscheck_confirm_exit(
                    actor=request.user,
                    hit=hit,
                    note=request.POST.get("note", ""),
                    report_false_data=bool(request.POST.get("report_false_data")),
                )
        except ApplicationError as exc:
            messages.error(request, f"{hit.recipient.name}：{exc.message}")
        else:
            messages.success(request, f"{hit.recipient.name}：已处理。")
        return redirect("supervision:crosscheck_batch", pk=batch.pk)
    hits = selectors.crosscheck_hit_list(actor=request.user, filters={"batch": batch})
    return render(
        request,
        "supervision/crosscheck_batch.html",
        {"batch": batch, "hits": hits, "flagged": CrossCheckHitStatus.FLAGGED},
    )


@role_required(Role.BUREAU)
def review_list(request):
    visible, chosen = filter_list(request, ReviewFilter, selectors.review_list(actor=request.user))
    page = paginate(request, visible)
    start_form = ReviewStartForm(halves=actions.startable_halves()) if actions.can_start_review(request.user) else None
    return render(
        request,
        "supervision/review_list.html",
        {"page": page, "half": chosen.get("half", ""), "start_form": start_form},
    )


@require_POST
@role_required(Role.BUREAU)
def review_start(request):
    form = ReviewStartForm(request.POST, halves=actions.startable_halves())
    if not form.is_valid():
        messages.error(request, form.errors["half"][0])
        return redirect("supervision:review_list")
    half = form.cleaned_data["half"]
    try:
        counts = actions.review_start(actor=request.user, half=half)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"已生成{half}半年评估{counts['created']}份，请逐一审阅并作出决定。")
    return redirect(f"{reverse('supervision:review_list')}?half={half}")


@role_required(Role.BUREAU)
def review_detail(request, pk):
    review = selectors.review_get_for_actor(actor=request.user, pk=pk)
    decide_form = None
    if review.status == ReviewStatus.DRAFT:
        initial = {"decision": ReviewDecision.TERMINATE if review.veto else review.proposal}
        decide_form = DecideForm(request.POST or None, initial=initial)
        if review.veto:
            decide_form.fields["decision"].choices = [(ReviewDecision.TERMINATE, ReviewDecision.TERMINATE.label)]
        if request.method == "POST" and decide_form.is_valid():
            try:
                actions.review_decide(actor=request.user, review=review, **decide_form.cleaned_data)
            except ApplicationError as exc:
                form_error_from(decide_form, exc)
            else:
                messages.success(request, "决定已登记。")
                return redirect("supervision:review_detail", pk=review.pk)
    existing = Takeover.objects.filter(review=review).first()
    can_takeover = (
        review.status == ReviewStatus.DECIDED
        and review.decision == ReviewDecision.TERMINATE
        and (existing is None or existing.status == TakeoverStatus.FAILED)
    )
    return render(
        request,
        "supervision/review_detail.html",
        {
            "review": review,
            "f": review.figures,
            "decide_form": decide_form,
            "can_takeover": can_takeover,
            "existing_takeover": existing,
        },
    )


@role_required(Role.BUREAU)
def takeover(request, pk):
    review = selectors.review_get_for_actor(actor=request.user, pk=pk)
    town_ids = (
        Agreement.objects.filter(provider=review.provider, status=AgreementStatus.SIGNED)
        .values_list("town_id", flat=True)
        .distinct()
    )
    towns = Town.objects.filter(pk__in=town_ids).order_by("sort_order", "code")
    form = TakeoverForm(
        request.POST or None, review=review, towns=towns, initial={"takeover_date": timezone.localdate()}
    )
    errors = []
    lines = []
    if request.method == "POST" and form.is_valid():
        try:
            result = actions.takeover_request(
                actor=request.user,
                review=review,
                new_provider=form.cleaned_data["new_provider"],
                takeover_date=form.cleaned_data["takeover_date"],
                caregivers=form.caregivers(),
            )
        except ApplicationError as exc:
            form_error_from(form, exc)
            errors = exc.extra.get("errors", [])
            lines = exc.extra.get("lines", [])
        else:
            return redirect("supervision:takeover_report", pk=result.pk)
    return render(
        request, "supervision/takeover_form.html", {"review": review, "form": form, "errors": errors, "lines": lines}
    )


@role_required(Role.BUREAU, Role.PROVIDER)
def takeover_report(request, pk):
    result = selectors.takeover_get_for_actor(actor=request.user, pk=pk)
    return render(request, "supervision/takeover_report.html", {"takeover": result})


@role_required(Role.BUREAU)
def termination(request):
    """合同终止: contracts ending within 60 days and providers with verified fraud; the bureau ends a provider's
    contracts here (expiry, or the one-vote veto at any time of the year) and goes on to the takeover plan."""
    form = TerminationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            review = actions.termination_start(actor=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            form_error_from(form, exc)
        else:
            messages.success(request, f"已决定终止{review.provider.name}的合同，请安排接管（接管预案）。")
            return redirect("supervision:takeover", pk=review.pk)
    today = timezone.localdate()
    return render(
        request,
        "supervision/termination.html",
        {
            "form": form,
            "ending": contracts_ending_within(days=60, today=today).select_related("provider"),
            "fraud": selectors.providers_with_verified_fraud(),
        },
    )


@role_required(Role.BUREAU)
def deductions(request):
    """扣款更正: verified deductions, with a request to cancel or change one (reason required), and the pending
    requests a second bureau user approves or rejects (maker-checker)."""
    if request.method == "POST":
        verb = request.POST.get("verb")
        try:
            if verb == "request":
                deduction = get_for_actor_or_404(
                    Deduction.objects.all(), request.user, pk=request.POST.get("deduction")
                )
                actions.deduction_correction_request(
                    actor=request.user,
                    deduction=deduction,
                    reason=request.POST.get("reason", ""),
                    new_amount=request.POST.get("new_amount") or None,
                )
                messages.success(request, "已提交更正申请，待另一位民政局工作人员复核。")
            elif verb in ("approve", "reject"):
                correction = get_for_actor_or_404(
                    DeductionCorrection.objects.all(), request.user, pk=request.POST.get("correction")
                )
                decide = (
                    actions.deduction_correction_approve if verb == "approve" else actions.deduction_correction_reject
                )
                decide(actor=request.user, correction=correction, reason=request.POST.get("reason", ""))
                messages.success(
                    request, "已复核。" + ("更正已生效，已扣部分将在下一个结算月退回。" if verb == "approve" else "")
                )
        except ApplicationError as exc:
            messages.error(request, exc.message)
        return redirect("supervision:deductions")
    pending = list(
        DeductionCorrection.objects.for_actor(request.user)
        .pending()
        .select_related("deduction__provider", "requested_by")
    )
    for correction in pending:
        correction.can_decide = actions.can_decide_correction(request.user, correction)
    verified = (
        Deduction.objects.for_actor(request.user)
        .filter(status=DeductionStatus.VERIFIED)
        .select_related("provider", "recipient")
        .defer(*secret_columns(Deduction, "provider", "recipient"))
        .order_by("-verified_on", "-pk")
    )
    return render(request, "supervision/deductions.html", {"pending": pending, "page": paginate(request, verified)})
