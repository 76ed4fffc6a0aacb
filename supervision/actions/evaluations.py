"""Monthly evaluations (考评): the town fills and submits; the bureau returns for correction."""

import datetime

from django.db import transaction
from django.utils import timezone

from recipients.models import Recipient
from shenxian_care.exceptions import ApplicationError
from shenxian_care.models import Role
from shenxian_care.permissions import ensure_role
from shenxian_care.scoping import get_for_actor_or_404

from ..dates import month_start
from ..models import (
    Evaluation,
    EvaluationItem,
    EvaluationRemark,
    EvaluationScore,
    EvaluationSheet,
    EvaluationStatus,
    Notification,
    NotificationKind,
)
from ..scoring import check_item_score, ensure_weights_add_up, weighted_total
from ..selectors.evaluations import current_sheet, missing_by_town, serving_pairs


def _ensure_own_town(actor, town):
    """Only the town's own official evaluates the town (属地管理) — not another town, not the bureau."""
    ensure_role(actor, Role.TOWN)
    if actor.town_id != town.pk:
        raise ApplicationError("只能考评本镇（街道）的服务机构。", field="town")


@transaction.atomic
def evaluation_sheet_copy(*, actor, sheet, name=None):
    """Start the next version of the sheet (not yet current), with the same items to edit."""
    ensure_role(actor, Role.BUREAU)
    last = EvaluationSheet.objects.select_for_update().order_by("-version").first()
    new = EvaluationSheet.objects.create(
        name=name or sheet.name, version=(last.version if last else 0) + 1, note=f"由第{sheet.version}版复制"
    )
    EvaluationItem.objects.bulk_create(
        EvaluationItem(
            sheet=new, code=i.code, title=i.title, max_score=i.max_score, weight=i.weight, sort_order=i.sort_order
        )
        for i in sheet.items.all()
    )
    return new


@transaction.atomic
def evaluation_sheet_make_current(*, actor, sheet):
    """New evaluations use this sheet from now on; evaluations already started keep theirs."""
    ensure_role(actor, Role.BUREAU)
    sheet = EvaluationSheet.objects.select_for_update().get(pk=sheet.pk)
    items = list(sheet.items.all())
    if not items:
        raise ApplicationError("考评表没有考评项目，不能启用。")
    ensure_weights_add_up(items)
    EvaluationSheet.objects.filter(is_current=True).exclude(pk=sheet.pk).update(is_current=False)
    sheet.is_current = True
    sheet.save(update_fields=["is_current"])
    return sheet


@transaction.atomic
def evaluation_start(*, actor, town, provider, month: datetime.date):
    """The town official opens (or reopens) the month's evaluation of a provider serving the town."""
    _ensure_own_town(actor, town)
    month = month_start(month)
    if month > month_start(timezone.localdate()):
        raise ApplicationError("不能考评尚未开始的月份。", field="month")
    if (town.pk, provider.pk) not in serving_pairs(month, town=town, provider=provider):
        raise ApplicationError(f"{provider.name}在{month:%Y年%m月}没有为本镇（街道）提供服务。", field="provider")
    try:
        sheet = current_sheet()
    except LookupError:
        raise ApplicationError("县民政局尚未启用考评表。") from None
    evaluation, _ = Evaluation.objects.get_or_create(
        town=town, provider=provider, month=month, defaults={"sheet": sheet, "created_by": actor}
    )
    return evaluation


def _lock_editable(actor, evaluation):
    evaluation = (
        Evaluation.objects.select_for_update(of=("self",)).select_related("town", "sheet").get(pk=evaluation.pk)
    )
    _ensure_own_town(actor, evaluation.town)
    if evaluation.status == EvaluationStatus.SUBMITTED:
        raise ApplicationError("该考评已提交并锁定；如需修改，请县民政局退回。")
    return evaluation


@transaction.atomic
def evaluation_save(*, actor, evaluation, scores: dict, summary="", remarks=None):
    """Save the scores (item_id → (score, note)) and remarks ([(recipient_id, text)]) of a draft."""
    evaluation = _lock_editable(actor, evaluation)
    items = {item.pk: item for item in evaluation.sheet.items.all()}
    unknown = set(scores) - set(items)
    if unknown:
        raise ApplicationError("考评项目不属于本考评表。")
    for item_id, (score, note) in scores.items():
        item = items[item_id]
        if score is None:
            EvaluationScore.objects.filter(evaluation=evaluation, item=item).delete()
            continue
        score = check_item_score(item, score, note)
        EvaluationScore.objects.update_or_create(
            evaluation=evaluation, item=item, defaults={"score": score, "note": (note or "").strip()[:200]}
        )
    if remarks is not None:
        recipient_ids = [rid for rid, text in remarks if (text or "").strip()]
        in_town = set(Recipient.objects.filter(pk__in=recipient_ids, town=evaluation.town).values_list("pk", flat=True))
        if set(recipient_ids) - in_town:
            raise ApplicationError("备注的特困人员必须是本镇（街道）的。", field="remarks")
        EvaluationRemark.objects.filter(evaluation=evaluation).delete()
        EvaluationRemark.objects.bulk_create(
            EvaluationRemark(evaluation=evaluation, recipient_id=rid, remark=text.strip()[:300])
            for rid, text in remarks
            if (text or "").strip()
        )
    evaluation.summary = summary
    evaluation.save(update_fields=["summary"])
    return evaluation


@transaction.atomic
def evaluation_submit(*, actor, evaluation):
    """Submit: every item scored; the weighted total is fixed and the evaluation is locked."""
    evaluation = _lock_editable(actor, evaluation)
    scored = {s.item_id: s for s in evaluation.scores.select_related("item")}
    items = list(evaluation.sheet.items.all())
    missing = [item.title for item in items if item.pk not in scored]
    if missing:
        raise ApplicationError(f"还有考评项目未评分：{'、'.join(missing)}。")
    for item in items:  # a draft saved before every deduction needed its reason
        check_item_score(item, scored[item.pk].score, scored[item.pk].note)
    evaluation.total_score = weighted_total((item, scored[item.pk].score) for item in items)
    evaluation.status = EvaluationStatus.SUBMITTED
    evaluation.submitted_by = actor
    evaluation.submitted_at = timezone.now()
    evaluation.save()
    return evaluation


@transaction.atomic
def evaluation_return(*, actor, evaluation, reason):
    """The bureau sends a submitted evaluation back to the town for correction."""
    ensure_role(actor, Role.BUREAU)
    if not (reason or "").strip():
        raise ApplicationError("请填写退回理由。", field="reason")
    evaluation = Evaluation.objects.select_for_update().get(pk=evaluation.pk)
    if evaluation.status != EvaluationStatus.SUBMITTED:
        raise ApplicationError("只有已提交的考评可以退回。")
    evaluation.status = EvaluationStatus.RETURNED
    evaluation.returned_reason = reason.strip()[:300]
    evaluation.returned_by = actor
    evaluation.returned_at = timezone.now()
    evaluation.total_score = None
    evaluation.save()
    return evaluation


@transaction.atomic
def evaluation_remind_missing(*, month: datetime.date):
    """Remind each town that still owes evaluations for `month` (system action, run by the beat task).

    One reminder per town and month; running again bumps its count and time instead of adding rows."""
    month = month_start(month)
    now = timezone.now()
    reminded = 0
    for town, providers in missing_by_town(month).items():
        names = "、".join(p.name for p in providers)
        message = f"{town.name}尚未提交{month:%Y年%m月}对以下服务机构的月度考评：{names}。"[:300]
        note, created = Notification.objects.select_for_update().get_or_create(
            kind=NotificationKind.EVALUATION_MISSING,
            subject_key=f"{month:%Y-%m}:town:{town.pk}",
            defaults={"town": town, "message": message, "last_sent_at": now},
        )
        if not created:
            note.message = message
            note.times_sent += 1
            note.last_sent_at = now
            note.read_at = None
            note.save(update_fields=["message", "times_sent", "last_sent_at", "read_at"])
        reminded += 1
    return reminded


@transaction.atomic
def notification_mark_read(*, actor, notification):
    """Only the addressee (the town's or the provider's staff) marks its reminder read, not the bureau."""
    ensure_role(actor, Role.TOWN, Role.PROVIDER)
    notification = get_for_actor_or_404(Notification.objects.select_for_update(), actor, pk=notification.pk)
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification
