"""What waits on the desk (shenxian_care.desk) from billing: a month to settle or confirm, months to pay."""

from django.urls import reverse

from shenxian_care.desk import DeskItem
from shenxian_care.models import Role
from shenxian_care.months import previous_month

from .models import Settlement, SettlementStatus


def items(*, actor, role, today):
    url = reverse("billing:settlement_list")
    if role == Role.BUREAU:
        month = previous_month(today)
        unsettled = 0 if Settlement.objects.filter(month=month).exists() else 1
        drafts = Settlement.objects.filter(status=SettlementStatus.DRAFT).count()
        return [
            DeskItem("结算", f"{month:%Y年%m月}尚未计算结算", unsettled, url),
            DeskItem("结算", "待确认的结算（草稿）", drafts, url),
        ]
    if role == Role.FINANCE:
        confirmed = Settlement.objects.for_actor(actor).filter(status=SettlementStatus.CONFIRMED).count()
        return [DeskItem("结算", "已确认、待登记支付的月份", confirmed, url, urgent=True)]
    return []
