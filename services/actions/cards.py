"""One-time confirmation code cards (确认码卡): the town issues a printed card per recipient; a visit is confirmed
by one unused code from it, read out by the recipient or guardian. See ConfirmationCard for the why."""

import secrets

from django.db import transaction
from django.utils import timezone

from recipients.models import Recipient
from shenxian_care import crypto
from shenxian_care.exceptions import ApplicationError
from shenxian_care.models import Role
from shenxian_care.permissions import ensure_role
from shenxian_care.scoping import get_for_actor_or_404

from ..models import ConfirmationCard, ConfirmationCode

CODE_LENGTH = 6


def _digest(card_id, code):
    """Keyed (ID_HASH_KEY) and bound to the card: a stolen database does not give the codes back, not even by
    trying all million of them, and the same six digits on another card are another digest."""
    return crypto.digest(f"confirmation-code:{card_id}:{code}")


def _normalise(code):
    return "".join((code or "").split())


@transaction.atomic
def confirmation_card_issue(*, actor, recipient, size=ConfirmationCard.SIZE_DEFAULT):
    """Issue a new card of `size` random codes for a recipient of the actor's town (bureau: any), revoking the
    card in use, if any. Returns (card, codes): the codes in card order, to print now; they are not kept."""
    ensure_role(actor, Role.TOWN, Role.BUREAU)
    recipient = get_for_actor_or_404(Recipient.objects.select_for_update(), actor, pk=recipient.pk)
    try:
        size = int(size)
    except (TypeError, ValueError):
        size = 0
    if not ConfirmationCard.SIZE_MIN <= size <= ConfirmationCard.SIZE_MAX:
        raise ApplicationError(
            f"确认码个数应在{ConfirmationCard.SIZE_MIN}到{ConfirmationCard.SIZE_MAX}之间。", field="size"
        )
    if recipient.exit_date is not None and recipient.exit_date <= timezone.localdate():
        raise ApplicationError("该服务对象已退出供养，不再发放确认码卡。")
    now = timezone.now()
    in_use = ConfirmationCard.objects.filter(recipient=recipient, revoked_at__isnull=True)
    in_use.update(revoked_at=now, revoked_by=actor, revoke_reason="已补发新卡")
    last = ConfirmationCard.objects.filter(recipient=recipient).order_by("-number").values_list("number", flat=True)
    card = ConfirmationCard.objects.create(
        recipient=recipient, number=(last.first() or 0) + 1, size=size, issued_by=actor
    )
    codes = []
    while len(codes) < size:
        code = f"{secrets.randbelow(10**CODE_LENGTH):0{CODE_LENGTH}d}"
        if code not in codes:
            codes.append(code)
    ConfirmationCode.objects.bulk_create(
        ConfirmationCode(card=card, position=i, digest=_digest(card.pk, code)) for i, code in enumerate(codes, 1)
    )
    return card, codes


@transaction.atomic
def confirmation_card_revoke(*, actor, recipient, reason):
    """The card in use is void (lost, say), with no new one yet: until one is issued no visit can be confirmed
    by code."""
    ensure_role(actor, Role.TOWN, Role.BUREAU)
    recipient = get_for_actor_or_404(Recipient.objects.all(), actor, pk=recipient.pk)
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError("请填写作废原因（如：卡片遗失）。", field="reason")
    card = ConfirmationCard.objects.select_for_update().filter(recipient=recipient, revoked_at__isnull=True).first()
    if card is None:
        raise ApplicationError("该服务对象没有在用的确认码卡。")
    card.revoked_at = timezone.now()
    card.revoked_by = actor
    card.revoke_reason = reason[:100]
    card.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
    return card


def confirmation_code_use(*, visit, code):
    """Spend one code of the recipient's card in use on `visit` (in the caller's transaction). True if the code
    was an unused one of that card; False for anything else (used before, another recipient's, a revoked card's,
    made up). A recipient with no card in use cannot confirm by code at all: ApplicationError, not a wrong try."""
    card = (
        ConfirmationCard.objects.select_for_update()
        .filter(recipient_id=visit.recipient_id, revoked_at__isnull=True)
        .first()
    )
    if card is None:
        raise ApplicationError("该服务对象没有在用的确认码卡，请联系镇（街道）发卡后再确认。", field="code")
    code = _normalise(code)
    if len(code) != CODE_LENGTH or not code.isdigit():
        return False
    spent = ConfirmationCode.objects.filter(
        card=card, digest=_digest(card.pk, code), used_at__isnull=True, visit__isnull=True
    ).update(used_at=timezone.now(), visit=visit)
    return spent == 1
