"""What waits on the desk (shenxian_care.desk) from the registry: reported changes to decide, reports sent back."""

from django.urls import reverse

from shenxian_care.desk import DeskItem
from shenxian_care.models import Role

from . import selectors
from .models import ApprovalStatus


def items(*, actor, role, today):
    if role == Role.BUREAU:
        url = reverse("recipients:approval_list")
        pending = ApprovalStatus.PENDING
        return [
            DeskItem(
                "审定",
                "自理能力评估待审定",
                selectors.assessment_list(actor=actor, status=pending, kind="first").count(),
                f"{url}?kind=first",
            ),
            DeskItem(
                "审定",
                "等级变更待审定",
                selectors.assessment_list(actor=actor, status=pending, kind="change").count(),
                f"{url}?kind=change",
            ),
            DeskItem(
                "审定", "退出供养待审定", selectors.exit_list(actor=actor, status=pending).count(), f"{url}?kind=exit"
            ),
        ]
    if role == Role.TOWN:
        returned = selectors.reports_returned_count(actor=actor)
        url = reverse("recipients:report_list") + "?status=rejected"
        return [DeskItem("审定", "被退回的报告（待修正重报）", returned, url, urgent=True)]
    return []
