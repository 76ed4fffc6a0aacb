"""What waits on the desk (shenxian_care.desk) from supervision: overdue notices, evaluations, cross-check hits."""

from django.urls import reverse

from shenxian_care.desk import DeskItem
from shenxian_care.models import Role

from . import selectors
from .dates import previous_month
from .models import CrossCheckHit, CrossCheckHitStatus, RectificationNotice, RectificationStatus


def items(*, actor, role, today):
    month = previous_month(today)  # towns evaluate the month just ended
    if role == Role.BUREAU:
        overdue = RectificationNotice.objects.for_actor(actor).filter(status=RectificationStatus.OVERDUE)
        hits = CrossCheckHit.objects.for_actor(actor).filter(status=CrossCheckHitStatus.FLAGGED)
        return [
            DeskItem(
                "监管",
                "逾期未整改的整改通知",
                overdue.count(),
                reverse("supervision:rectification_list") + "?status=overdue",
                urgent=True,
            ),
            DeskItem(
                "监管",
                f"{month:%Y年%m月}考评未提交（镇街×机构）",
                selectors.evaluation_missing_count(actor=actor, month=month),
                reverse("supervision:evaluation_missing") + f"?month={month:%Y-%m}",
            ),
            DeskItem("监管", "数据比对待核实的疑点", hits.count(), reverse("supervision:crosscheck")),
        ]
    if role == Role.TOWN:
        return [
            DeskItem(
                "监管",
                f"{month:%Y年%m月}待填报的考评",
                selectors.evaluation_missing_count(actor=actor, month=month),
                reverse("supervision:evaluation_list"),
                urgent=True,
            )
        ]
    if role == Role.PROVIDER:
        return [
            DeskItem(
                "监管",
                "待答复的整改通知",
                selectors.rectification_awaiting_answer(actor=actor).count(),
                reverse("supervision:rectification_list"),
                urgent=True,
            )
        ]
    return []
