"""python manage.py import_roster FILE.xlsx --month 2026-10 [--dry-run] [--user bureau] [--confirm villages|shrink]"""

import datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from recipients.actions import roster_apply, roster_discard, roster_preview
from recipients.selectors import roster_confirmations
from shenxian_care.exceptions import ApplicationError
from shenxian_care.models import Role, User


class Command(BaseCommand):
    help = "导入月度名单：逐行检查，全部通过才导入，并显示与上月的对比。Import the month's roster."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--month", required=True, help="YYYY-MM")
        parser.add_argument("--user", help="以哪位县民政局工作人员的名义导入（默认：第一位）")
        parser.add_argument("--dry-run", action="store_true", help="只检查和对比，不写入名册")
        parser.add_argument(
            "--confirm",
            action="append",
            default=[],
            choices=["villages", "shrink"],
            help="已核对后确认：villages 新建名单中的村（居），shrink 名单比上月少10%%以上（可重复）",
        )

    def handle(self, *args, file, month, user, dry_run, confirm=(), **options):
        try:
            month_start = datetime.datetime.strptime(month, "%Y-%m").date()
        except ValueError:
            raise CommandError("--month 格式应为 YYYY-MM，例如 2026-10。") from None
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"找不到文件：{file}")
        actor = self._actor(user)
        try:
            roster = roster_preview(actor=actor, month=month_start, file_name=path.name, content=path.read_bytes())
        except ApplicationError as exc:
            for error in exc.extra.get("errors", []):
                self.stderr.write(f"第{error['row']}行 [{error['column']}] {error['message']}")
            raise CommandError(exc.message) from None
        diff = roster.diff
        self.stdout.write(
            f"{month_start:%Y年%m月}名单共{diff['total']}人：新增{len(diff['new'])}，退出{len(diff['exited'])}，"
            f"等级冲突{len(diff['level_conflicts'])}，迁移镇（街道）{len(diff['moved_town'])}，"
            f"上月有本月缺{len(diff['missing'])}，无变化{diff['unchanged']}。"
        )
        if dry_run:
            roster_discard(actor=actor, roster=roster)
            self.stdout.write("仅检查（--dry-run），未写入名册。")
            return
        missing = [c for c in roster_confirmations(roster) if c["key"] not in set(confirm)]
        if missing:
            roster_discard(actor=actor, roster=roster)
            for c in missing:
                self.stderr.write(f"{c['message']}（核对后加 --confirm {c['key']} 重新运行）")
            raise CommandError("名单需要确认，未写入名册。")
        applied = roster_apply(actor=actor, roster=roster)
        if applied.pk != roster.pk:
            self.stdout.write("与已导入的本月名单完全相同，未作任何改动。")
        else:
            self.stdout.write(self.style.SUCCESS("已导入。"))

    def _actor(self, username):
        users = User.objects.filter(is_active=True, role=Role.BUREAU)
        actor = users.filter(username=username).first() if username else users.order_by("pk").first()
        if actor is None:
            raise CommandError("没有可用的县民政局工作人员账号（--user）。")
        return actor
