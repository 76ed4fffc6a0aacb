"""Something waiting on every desk of the demo county (工作台): a newly registered person's first assessment, a
town's report of a changed condition and of an exit for the bureau to decide, a report the bureau sent back to the
town, and a rectification notice near its deadline for the provider. Run after `seed_demo`; safe to run again
(each item is made once, through the same actions the portal uses)."""

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from contracts.models import Provider
from recipients import actions as registry
from recipients.models import ApprovalStatus, Assessment, Recipient, SupportExit, Town
from shenxian_care.demo import ensure_demo_database
from shenxian_care.models import User
from shenxian_care.validators import id_check_char
from supervision.actions import rectification_issue
from supervision.models import RectificationNotice

NEW_PERSON = "37152219480512036"  # the first 17 characters; the check character is computed
NOTICE = "演示：电话回访发现部分服务对象本月上门次数不足，请补足并说明原因。"
ALL_SIX = ("can_eat", "can_dress", "can_transfer", "can_toilet", "can_walk_indoors", "can_bathe")


def _answers(lost):
    return {field: index >= lost for index, field in enumerate(ALL_SIX)}


class Command(BaseCommand):
    help = "为演示数据的各角色工作台准备待办（可重复运行）。"

    def handle(self, *args, **options):
        ensure_demo_database()
        try:
            bureau = User.objects.get(username="bureau")
            town_user = User.objects.get(username="town")
            provider = Provider.objects.get(name="莘县康乐养老服务中心")
        except (User.DoesNotExist, Provider.DoesNotExist):
            raise CommandError("请先运行 seed_demo。") from None
        today = timezone.localdate()
        yanta = Town.objects.get(name="燕塔街道")
        served = Recipient.objects.in_support_on(today).filter(town=yanta, agreements__isnull=False)
        people = list(served.distinct().order_by("pk"))
        if len(people) < 2:
            raise CommandError("燕塔街道的演示人员不足。")
        # The one whose condition changed is also the one a wrong exit was reported for (sent back).
        changed, leaving, returned = people[0], people[1], people[0]
        made = []
        with transaction.atomic():
            made += self._first_assessment(bureau, yanta, today)
            if not Assessment.objects.filter(recipient=changed, created_by=town_user).exists():
                registry.assessment_create(
                    actor=town_user, recipient=changed, assessed_on=today - datetime.timedelta(days=2),
                    reported_on=today, note="演示：摔伤后行动不便，生活起居需人照料", answers=_answers(4),
                )  # fmt: skip
                made.append(f"等级变更待审定：{changed.name}")
            if not SupportExit.objects.filter(recipient=leaving).exists():
                registry.exit_report(
                    actor=town_user, recipient=leaving, reason="death", detail="演示：家属报告已去世",
                    occurred_on=today - datetime.timedelta(days=3),
                )  # fmt: skip
                made.append(f"退出待审定：{leaving.name}")
            if not SupportExit.objects.filter(recipient=returned).exists():
                wrong = registry.exit_report(
                    actor=town_user, recipient=returned, reason="moved", detail="演示：听说已迁往外县",
                    occurred_on=today - datetime.timedelta(days=5),
                )  # fmt: skip
                registry.exit_reject(actor=bureau, support_exit=wrong, reason="经核实户籍未迁出，仍在本村居住")
                made.append(f"退回镇街的报告：{returned.name}")
            if not RectificationNotice.objects.filter(problem=NOTICE).exists():
                rectification_issue(
                    actor=bureau, provider=provider, town=yanta, problem=NOTICE,
                    deadline=today + datetime.timedelta(days=2),
                )  # fmt: skip
                made.append(f"整改通知（{(today + datetime.timedelta(days=2)):%m月%d日}到期）：{provider.name}")
        pending = (
            Assessment.objects.filter(status=ApprovalStatus.PENDING).count()
            + SupportExit.objects.filter(status=ApprovalStatus.PENDING).count()
        )
        self.stdout.write(self.style.SUCCESS(f"工作台待办就绪：待审定{pending}项。" + ("；".join(["", *made]))))

    def _first_assessment(self, bureau, town, today):
        number = NEW_PERSON + id_check_char(NEW_PERSON)
        if Recipient.objects.with_id_number(number).exists():
            return []
        village = town.villages.order_by("name").first()
        person = registry.recipient_create(
            actor=bureau, name="刘桂芝", id_number=number, town=town, village=village,
            entry_date=today.replace(day=1), address=f"{town.name}{village.name}27号",
        )  # fmt: skip
        registry.assessment_create(
            actor=bureau, recipient=person, assessed_on=today, note="演示：新纳入特困供养，首次评估",
            answers=_answers(2),
        )  # fmt: skip
        return [f"初次评估待审定：{person.name}"]
