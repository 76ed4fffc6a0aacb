"""Confirmation code cards (确认码卡): the town (or the bureau) issues, prints and revokes a recipient's card."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from recipients.models import Recipient
from shenxian_care.exceptions import ApplicationError
from shenxian_care.fields import without_secrets
from shenxian_care.models import Role
from shenxian_care.scoping import actor_role, get_for_actor_or_404
from shenxian_care.views_helpers import query_values

from .. import actions, selectors
from ..filters import CardSearchQuery
from ..models import ConfirmationCard

PER_PAGE = 50


def _town_or_bureau(request):
    if actor_role(request.user) not in (Role.TOWN, Role.BUREAU):
        raise PermissionDenied("仅镇（街道）和县民政局发放确认码卡。")


def _recipient(request, pk):
    return get_for_actor_or_404(
        without_secrets(Recipient.objects.select_related("town", "village")), request.user, pk=pk
    )


@login_required
def card_list(request):
    _town_or_bureau(request)
    # a name or a masked ID fragment; a NUL byte (which PostgreSQL refuses in text) or a novel is named and ignored
    q = query_values(request, CardSearchQuery).get("q", "").strip()
    page = Paginator(selectors.confirmation_card_list(actor=request.user, q=q), PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "services/card_list.html",
        {"page": page, "q": q, "size_default": ConfirmationCard.SIZE_DEFAULT},
    )


@login_required
@require_POST
@never_cache
def card_issue(request, recipient_id):
    """Issue a new card and show it once, to print: its codes are kept only as digests."""
    _town_or_bureau(request)
    recipient = _recipient(request, recipient_id)
    try:
        card, codes = actions.confirmation_card_issue(
            actor=request.user, recipient=recipient, size=request.POST.get("size") or ConfirmationCard.SIZE_DEFAULT
        )
    except ApplicationError as exc:
        messages.error(request, f"{recipient.name}：{exc.message}")
        return redirect("services:card_list")
    return render(
        request,
        "services/card_print.html",
        {"card": card, "recipient": recipient, "codes": list(enumerate(codes, 1))},
    )


@login_required
@require_POST
def card_revoke(request, recipient_id):
    _town_or_bureau(request)
    recipient = _recipient(request, recipient_id)
    try:
        card = actions.confirmation_card_revoke(
            actor=request.user, recipient=recipient, reason=request.POST.get("reason", "")
        )
    except ApplicationError as exc:
        messages.error(request, f"{recipient.name}：{exc.message}")
    else:
        messages.success(request, f"{recipient.name}的第{card.number}号确认码卡已作废。")
    return redirect("services:card_list")
