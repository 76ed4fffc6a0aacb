from django.core.management.base import BaseCommand, CommandError

from shenxian_care.backup import restore
from shenxian_care.exceptions import ApplicationError


class Command(BaseCommand):
    help = "从备份恢复数据库和上传文件（覆盖当前数据）。Restore a backup over the configured database."

    def add_arguments(self, parser):
        parser.add_argument("archive")
        parser.add_argument("--yes", action="store_true", help="确认覆盖当前数据库")

    def handle(self, *args, archive, yes, **options):
        if not yes:
            raise CommandError("恢复会覆盖当前数据库中的数据；确认请加 --yes。")
        try:
            manifest = restore(archive)
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(self.style.SUCCESS(f"已恢复 {manifest['created_at']} 的备份。"))
