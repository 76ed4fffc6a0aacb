"""Last month's settlement draft in the demo county, as the monthly beat would have made it on the 1st: computed
through the same task, with the month's evidence deductions proposed (扣款建议) for the bureau to decide before
confirming. Run after `seed_demo`, `seed_demo_visits` and `seed_demo_desk`; a month already drafted is left alone."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from billing.models import Settlement
from billing.tasks import settlement_draft_previous_month_task
from shenxian_care.demo import ensure_demo_database
from shenxian_care.months import previous_month


class Command(BaseCommand):
    help = "为演示数据计算上月结算草稿（如每月1日定时任务所做；可重复运行）。"

    def handle(self, *args, **options):
        ensure_demo_database()
        month = previous_month(timezone.localdate())
        settlement = Settlement.objects.filter(month=month).first()
        if settlement is None:
            result = settlement_draft_previous_month_task()
            if "error" in result:
                raise CommandError(result["error"])
            settlement = Settlement.objects.get(pk=result["settlement"])
        undecided = settlement.proposals.undecided().count()
        self.stdout.write(
            f"{month:%Y年%m月}结算{settlement.get_status_display()}：应付 {settlement.gross} 元，"
            f"待决定的扣款建议 {undecided} 条（门户 → 结算）。"
        )
