"""python manage.py settle --month YYYY-MM [--confirm] [--by USERNAME]: compute (and confirm) a month by hand."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from billing.actions import settlement_compute, settlement_confirm
from shenxian_care.exceptions import ApplicationError

from ._month import parse_month


class Command(BaseCommand):
    help = "计算某月结算草稿（--confirm 同时确认冻结）"

    def add_arguments(self, parser):
        parser.add_argument("--month", required=True, help="YYYY-MM")
        parser.add_argument("--confirm", action="store_true", help="计算后确认（冻结）")
        parser.add_argument("--by", help="以该县民政局用户的名义（记录为计算人/确认人）")

    def handle(self, *args, month, confirm, by=None, **options):
        actor = None
        if by:
            try:
                actor = get_user_model().objects.get(username=by)
            except get_user_model().DoesNotExist:
                raise CommandError(f"用户 {by} 不存在") from None
        try:
            settlement = settlement_compute(actor=actor, month=parse_month(month))
            if confirm:
                settlement = settlement_confirm(actor=actor, settlement=settlement)
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(
            f"{settlement.month:%Y-%m} {settlement.get_status_display()}：明细 {settlement.line_count} 条，"
            f"应付 {settlement.gross}，扣款 {settlement.deductions_applied}，实付 {settlement.net}"
        )
