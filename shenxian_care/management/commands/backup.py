from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from shenxian_care.backup import backup
from shenxian_care.exceptions import ApplicationError


class Command(BaseCommand):
    help = "备份数据库和上传文件到一个 .tar.gz 文件。Back up the database and uploaded files."

    def add_arguments(self, parser):
        parser.add_argument("--out", default=None, help="默认 backups/shenxian-YYYYmmdd-HHMMSS.tar.gz")

    def handle(self, *args, out, **options):
        out = out or f"backups/shenxian-{timezone.localtime():%Y%m%d-%H%M%S}.tar.gz"
        try:
            backup(out)
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(self.style.SUCCESS(f"已备份到 {out}"))
