"""Rectification notices (整改通知) and complaints (投诉)."""

import datetime

from django.db import transaction
from django.utils import timezone

from services.models import VisitStatus
from shenxian_care.exceptions import ApplicationError
from shenxian_care.models import Role
from shenxian_care.permissions import ensure_role
from shenxian_care.scoping import actor_role
from shenxian_care.validators import require_plausible_date

from ..models import (
    OPEN_RECTIFICATION,
    Complaint,
    ComplaintPriority,
    ComplaintRoute,
    ComplaintStatus,
    Notification,
    NotificationKind,
    ProblemCategory,
    RectificationNotice,
    RectificationSource,
    RectificationStatus,
)

# Placeholder handling times until the bureau sets its own: urgent complaints in 2 days, others in 7.
COMPLAINT_DAYS = {ComplaintPriority.URGENT: 2, ComplaintPriority.NORMAL: 7}


def _next_number(model, prefix, day):
    prefix = f"{prefix}{day:%Y%m}"
    last = model.objects.filter(number__startswith=prefix).order_by("-number").values_list("number", flat=True)
    seq = int(last[0][len(prefix) :]) + 1 if last else 1
    return f"{prefix}{seq:04d}"


@transaction.atomic
def rectification_issue(
    *,
    actor,
    provider,
    problem: str,
    deadline: datetime.date,
    town=None,
    recipient=None,
    spot_check=None,
    serious_problem=None,
    complaint=None,
    visit=None,
    source=None,
):
    """The bureau issues a notice to a provider, from a spot check, a town report, a complaint or other."""
    ensure_role(actor, Role.BUREAU)
    today = timezone.localdate()
    if not (problem or "").strip():
        raise ApplicationError("请填写存在问题及整改要求。", field="problem")
    if deadline is None or deadline < today:
        raise ApplicationError("整改期限不能早于今天。", field="deadline")
    require_plausible_date(deadline, field="deadline")
    if source is None:
        if spot_check is not None:
            source = RectificationSource.SPOT_CHECK
        elif serious_problem is not None:
            source = RectificationSource.SERIOUS_PROBLEM
        elif complaint is not None:
            source = RectificationSource.COMPLAINT
        elif visit is not None:
            source = RectificationSource.VISIT_EXCEPTION
        else:
            source = RectificationSource.OTHER
    if visit is not None:
        if visit.status not in (VisitStatus.EXCEPTION, VisitStatus.REJECTED):
            raise ApplicationError("该服务记录没有异常，不能据此下发整改通知。", field="visit")
        recipient = recipient or visit.recipient
        town = town or visit.town
    for origin in (spot_check, serious_problem, complaint, visit):
        if origin is not None and origin.provider_id != provider.pk:
            raise ApplicationError("整改通知的服务机构与来源记录不一致。", field="provider")
    # Serialise numbering: two notices issued at once must not get the same number.
    list(RectificationNotice.objects.select_for_update().filter(issued_on__gte=today.replace(day=1)).values("pk"))
    return RectificationNotice.objects.create(
        number=_next_number(RectificationNotice, "ZG", today),
        provider=provider,
        town=town,
        recipient=recipient,
        source=source,
        spot_check=spot_check,
        serious_problem=serious_problem,
        complaint=complaint,
        visit=visit,
        problem=problem.strip(),
        issued_on=today,
        deadline=deadline,
        issued_by=actor,
    )


@transaction.atomic
def rectification_answer(*, actor, notice, answer: str):
    """The provider reports what it has done (also after the deadline: it stays counted as overdue)."""
    ensure_role(actor, Role.PROVIDER)
    notice = RectificationNotice.objects.select_for_update().get(pk=notice.pk)
    if notice.provider_id != actor.provider_id:
        raise ApplicationError("只能答复本机构的整改通知。")
    if notice.status not in (*OPEN_RECTIFICATION, RectificationStatus.OVERDUE):
        raise ApplicationError("该整改通知当前不需要答复。")
    if not (answer or "").strip():
        raise ApplicationError("请填写整改情况。", field="answer")
    notice.answer = answer.strip()
    notice.answered_by = actor
    notice.answered_at = timezone.now()
    notice.status = RectificationStatus.ANSWERED
    notice.save()
    return notice


@transaction.atomic
def rectification_accept(*, actor, notice, reason: str = ""):
    ensure_role(actor, Role.BUREAU)
    notice = RectificationNotice.objects.select_for_update().get(pk=notice.pk)
    if notice.status != RectificationStatus.ANSWERED:
        raise ApplicationError("只有已答复的整改通知可以核查通过。")
    notice.status = RectificationStatus.ACCEPTED
    notice.review_reason = (reason or "整改到位").strip()[:300]
    notice.reviewed_by = actor
    notice.reviewed_at = timezone.now()
    notice.save()
    return notice


@transaction.atomic
def rectification_send_back(*, actor, notice, reason: str, deadline: datetime.date | None = None):
    """Not rectified: back to the provider, optionally with a new deadline."""
    ensure_role(actor, Role.BUREAU)
    if not (reason or "").strip():
        raise ApplicationError("请填写退回理由。", field="reason")
    notice = RectificationNotice.objects.select_for_update().get(pk=notice.pk)
    if notice.status != RectificationStatus.ANSWERED:
        raise ApplicationError("只有已答复的整改通知可以退回。")
    if deadline is not None:
        if deadline < timezone.localdate():
            raise ApplicationError("新的整改期限不能早于今天。", field="deadline")
        require_plausible_date(deadline, field="deadline")
        notice.deadline = deadline
    notice.status = RectificationStatus.RETURNED
    notice.review_reason = reason.strip()[:300]
    notice.reviewed_by = actor
    notice.reviewed_at = timezone.now()
    notice.times_returned += 1
    notice.save()
    return notice


@transaction.atomic
def rectification_mark_overdue(*, today: datetime.date | None = None) -> int:
    """System action (daily task): open notices past their deadline become overdue, and the provider gets a
    reminder in the portal. Idempotent: a notice already overdue, answered or accepted is left alone; returns
    how many were marked this run."""
    today = today or timezone.localdate()
    notices = list(
        RectificationNotice.objects.select_for_update(skip_locked=True)
        .filter(status__in=OPEN_RECTIFICATION, deadline__lt=today)
        .only("pk", "number", "deadline", "provider_id", "overdue_on")
    )
    ids = [n.pk for n in notices]
    RectificationNotice.objects.filter(pk__in=ids, overdue_on__isnull=True).update(overdue_on=today)
    marked = RectificationNotice.objects.filter(pk__in=ids).update(status=RectificationStatus.OVERDUE)
    now = timezone.now()
    Notification.objects.bulk_create(
        [
            Notification(
                kind=NotificationKind.RECTIFICATION_OVERDUE,
                provider_id=n.provider_id,
                subject_key=f"notice:{n.pk}:{n.deadline:%Y-%m-%d}",
                message=f"整改通知{n.number}已超过整改期限（{n.deadline:%Y年%m月%d日}），请尽快整改并反馈。",
                last_sent_at=now,
            )
            for n in notices
        ],
        ignore_conflicts=True,
    )
    return marked


@transaction.atomic
def complaint_log(
    *,
    actor,
    channel,
    town,
    content: str,
    route_to,
    provider=None,
    recipient=None,
    priority=ComplaintPriority.NORMAL,
    received_on: datetime.date | None = None,
    due_date: datetime.date | None = None,
    complainant_name="",
    complainant_phone="",
):
    """The bureau logs a complaint and routes it to the town or to the provider."""
    ensure_role(actor, Role.BUREAU)
    received_on = received_on or timezone.localdate()
    if not (content or "").strip():
        raise ApplicationError("请填写投诉内容。", field="content")
    if route_to not in ComplaintRoute.values:
        raise ApplicationError("请选择转办对象。", field="route_to")
    if route_to == ComplaintRoute.PROVIDER and provider is None:
        raise ApplicationError("转服务机构办理的投诉必须指定服务机构。", field="provider")
    if recipient is not None and recipient.town_id != town.pk:
        raise ApplicationError("涉及的特困人员不属于该镇（街道）。", field="recipient")
    require_plausible_date(received_on, field="received_on")
    require_plausible_date(due_date, field="due_date")
    due_date = due_date or received_on + datetime.timedelta(days=COMPLAINT_DAYS[ComplaintPriority(priority)])
    if due_date < received_on:
        raise ApplicationError("办理期限不能早于受理日期。", field="due_date")
    list(Complaint.objects.select_for_update().filter(received_on__gte=received_on.replace(day=1)).values("pk"))
    return Complaint.objects.create(
        number=_next_number(Complaint, "TS", received_on),
        channel=channel,
        priority=priority,
        received_on=received_on,
        due_date=due_date,
        complainant_name=complainant_name,
        complainant_phone=complainant_phone,
        town=town,
        provider=provider,
        recipient=recipient,
        content=content.strip(),
        route_to=route_to,
        logged_by=actor,
    )


@transaction.atomic
def complaint_answer(*, actor, complaint, answer: str):
    """Whoever it was routed to answers: the town (own town) or the provider (own provider)."""
    ensure_role(actor, Role.TOWN, Role.PROVIDER)
    complaint = Complaint.objects.select_for_update().get(pk=complaint.pk)
    role = actor_role(actor)
    routed_here = (
        complaint.route_to == ComplaintRoute.TOWN and role == Role.TOWN and complaint.town_id == actor.town_id
    ) or (
        complaint.route_to == ComplaintRoute.PROVIDER
        and role == Role.PROVIDER
        and complaint.provider_id == actor.provider_id
    )
    if not routed_here:
        raise ApplicationError("该投诉未转交给您办理。")
    if complaint.status == ComplaintStatus.CLOSED:
        raise ApplicationError("该投诉已办结。")
    if not (answer or "").strip():
        raise ApplicationError("请填写办理答复。", field="answer")
    complaint.answer = answer.strip()
    complaint.answered_by = actor
    complaint.answered_at = timezone.now()
    complaint.status = ComplaintStatus.ANSWERED
    complaint.save()
    return complaint


@transaction.atomic
def complaint_close(
    *,
    actor,
    complaint,
    founded: bool,
    note: str = "",
    rectification_deadline: datetime.date | None = None,
    raise_serious_problem: bool = False,
    problem_category=ProblemCategory.QUALITY,
):
    """The bureau closes the complaint. A founded one can raise a rectification notice (with a deadline)
    and/or a serious-problem report for verification."""
    ensure_role(actor, Role.BUREAU)
    complaint = (
        Complaint.objects.select_for_update(of=("self",)).select_related("provider", "town").get(pk=complaint.pk)
    )
    if complaint.status == ComplaintStatus.CLOSED:
        raise ApplicationError("该投诉已办结。")
    if complaint.status != ComplaintStatus.ANSWERED:
        raise ApplicationError("该投诉尚未答复，不能办结。")
    if (rectification_deadline or raise_serious_problem) and not founded:
        raise ApplicationError("投诉不属实，不能据此下发整改通知或报告严重问题。")
    if (rectification_deadline or raise_serious_problem) and complaint.provider is None:
        raise ApplicationError("该投诉未涉及服务机构。")
    complaint.founded = founded
    complaint.close_note = (note or "").strip()[:300]
    complaint.closed_by = actor
    complaint.closed_at = timezone.now()
    complaint.status = ComplaintStatus.CLOSED
    complaint.save()
    if rectification_deadline is not None:
        rectification_issue(
            actor=actor,
            provider=complaint.provider,
            town=complaint.town,
            recipient=complaint.recipient,
            problem=f"投诉{complaint.number}经核实属实：{complaint.content}",
            deadline=rectification_deadline,
            complaint=complaint,
        )
    if raise_serious_problem:
        # Imported here: problems.py imports this module (a verified problem issues a notice).
        from .problems import serious_problem_report

        serious_problem_report(
            actor=actor,
            provider=complaint.provider,
            town=complaint.town,
            recipient=complaint.recipient,
            occurred_on=complaint.received_on,
            description=f"投诉{complaint.number}经核实属实：{complaint.content}",
            category=problem_category,
            source_complaint=complaint,
        )
    return complaint
