from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from shenxian_care.exceptions import ApplicationError
from supervision.actions import review_build
from supervision.dates import half_ended_before


class Command(BaseCommand):
    help = "生成各服务机构的半年评估（如 --half 2026H1）；重复运行只会更新未决定的评估，不会重复生成。"

    def add_arguments(self, parser):
        parser.add_argument("--half", help="半年度，如 2026H1；默认为最近结束的半年度")

    def handle(self, *args, half=None, **options):
        half = half or half_ended_before(timezone.localdate())
        try:
            counts = review_build(half=half)
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(
            f"{half.upper()}半年评估：新生成{counts['created']}份，更新{counts['updated']}份，"
            f"已决定未改动{counts['decided']}份。"
        )
