"""python manage.py export_settlement --month YYYY-MM --out FILE.xlsx: the finance bureau's workbook."""

from django.core.management.base import BaseCommand, CommandError

from billing.exports import build_workbook
from billing.models import Settlement

from ._month import parse_month


class Command(BaseCommand):
    help = "导出某月结算（明细、按镇汇总、按机构汇总、支付清单）为 Excel"

    def add_arguments(self, parser):
        parser.add_argument("--month", required=True, help="YYYY-MM")
        parser.add_argument("--out", required=True, help="输出文件 .xlsx")

    def handle(self, *args, month, out, **options):
        settlement = Settlement.objects.filter(month=parse_month(month)).first()
        if settlement is None:
            raise CommandError(f"{month} 尚无结算")
        # The command runs as the bureau (county-wide); the portal download is scoped per user.
        build_workbook(actor=_System(), settlement=settlement).save(out)
        self.stdout.write(f"已导出 {out}（明细 {settlement.line_count} 条）")


class _System:
    """The command-line operator: bureau scope (a superuser-like actor without a database row)."""

    is_authenticated = True
    is_active = True
    is_superuser = True
    role = "bureau"
