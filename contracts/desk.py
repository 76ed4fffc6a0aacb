"""What waits on the desk (shenxian_care.desk) from contracts and agreements."""

import datetime

from django.urls import reverse

from shenxian_care.desk import DeskItem
from shenxian_care.models import Role

from . import selectors
from .models import Agreement, AgreementStatus

CONTRACT_WARNING_DAYS = 60


def items(*, actor, role, today):
    agreements = reverse("contracts:agreement_list")
    if role == Role.BUREAU:
        last = today + datetime.timedelta(days=CONTRACT_WARNING_DAYS)
        ending = reverse("admin:contracts_purchasecontract_changelist") + (
            f"?status__exact=active&end_date__gte={today.isoformat()}&end_date__lte={last.isoformat()}"
        )
        return [
            DeskItem(
                "协议",
                f"{CONTRACT_WARNING_DAYS}天内到期的购买服务合同",
                selectors.contracts_ending_within(CONTRACT_WARNING_DAYS, today).count(),
                ending,
                urgent=True,
            )
        ]
    drafts = Agreement.objects.for_actor(actor).filter(status=AgreementStatus.DRAFT)
    if role == Role.TOWN:
        return [DeskItem("协议", "待本镇（街道）签订的协议", drafts.count(), f"{agreements}?status=draft")]
    if role == Role.PROVIDER:
        return [
            DeskItem(
                "协议",
                "在供养但尚无协议的人员（待起草签订）",
                selectors.recipients_needing_agreement(actor=actor, day=today).count(),
                reverse("contracts:agreement_create"),
                urgent=True,
            ),
            DeskItem("协议", "已起草、待镇（街道）签订的协议", drafts.count(), f"{agreements}?status=draft"),
        ]
    return []
