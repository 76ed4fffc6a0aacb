"""The demo county's service visits: last month in full and this month up to now, logged through the same action
a phone's queue uses (verified, audited), so that the dashboard, the compliance report and the exception queue
have something to show after `make run`. Run after `seed_demo`; safe to run again (each visit has a fixed client
id, and a visit already received is left as it is)."""

import datetime
import random
import uuid
from collections import defaultdict
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from contracts.models import Agreement
from recipients.models import Recipient
from recipients.selectors import with_level_on
from services import actions
from services.models import ServiceItem, Visit
from services.standards import standard_on
from shenxian_care.demo import ensure_demo_database
from shenxian_care.models import Role, User
from shenxian_care.months import month_end, previous_month

NAMESPACE = uuid.UUID("6f1c9a52-3d55-4f0e-9b7e-5e8d0c7a1a10")
# A caregiver's visits of a day start at these times (Beijing time), one after another.
SLOTS = [datetime.time(8, 0), datetime.time(9, 40), datetime.time(11, 10), datetime.time(14, 30), datetime.time(16, 0)]
ITEMS = [
    [ServiceItem.DAILY_CLEANING, ServiceItem.EMOTIONAL_SUPPORT],
    [ServiceItem.DAILY_CARE, ServiceItem.PERSONAL_HYGIENE],
    [ServiceItem.DAILY_CARE, ServiceItem.WALKING_AID, ServiceItem.EMOTIONAL_SUPPORT],
    [ServiceItem.MEDICAL_ESCORT],
]
NOTES = [
    "打扫院子和屋内，陪老人聊天。",
    "洗头、剪指甲，整理床铺。",
    "扶老人在院里走了两圈，量了血压。",
    "陪同到镇卫生院复查。",
]


CHECK_IN = {"client_id", "recipient", "started_at", "latitude", "longitude", "accuracy_m"}


class Command(BaseCommand):
    help = "载入演示服务记录（上月及本月至今，可重复运行）。Demo visits for last month and this month so far."

    def handle(self, *args, **options):
        ensure_demo_database()
        now = timezone.localtime()
        month = previous_month(now.date())
        self.users = {}
        plan = self._plan(month, now)
        self.stdout.write(f"正在写入演示服务记录（{month:%Y年%m月}至今；每条都经过核验和审计）……")
        ids = [item["client_id"] for items in plan.values() for item in items]
        have = set()
        for i in range(0, len(ids), 500):
            have.update(Visit.objects.filter(client_id__in=ids[i : i + 500]).values_list("client_id", flat=True))
        # What each phone sent, and when: the check-in as the caregiver taps it, the check-out as the visit ends;
        # now and then a day in a village without signal goes up in the evening, marked as synced late.
        sends = []
        for (caregiver, day), items in plan.items():
            offline = random.Random(f"{caregiver}-{day}").random() < 0.05  # noqa: S311 - demo data, not security
            evening = max(item["_end"] for item in items) + datetime.timedelta(hours=3)
            for item in items:
                if item["client_id"] in have:
                    continue
                body = {k: v for k, v in item.items() if not k.startswith("_")}
                if offline:
                    sends.append((min(evening, now), caregiver, body | {"offline": True}))
                    continue
                check_in = {k: v for k, v in body.items() if k in CHECK_IN}
                sends.append((item["started_at"] + datetime.timedelta(minutes=1), caregiver, check_in))
                if "ended_at" in body:
                    sends.append((min(body["ended_at"] + datetime.timedelta(minutes=2), now), caregiver, body))
        # Each phone's sends, in the order they arrived, go through the phones' own batch action 200 at a time, each
        # send recorded and verified at its own moment as if it had come alone (the rules read only the caregiver's
        # own visits, so phones need not be interleaved): one request's queries for 200 sends, not for one. Within a
        # batch the new records go first, then the check-outs of records already received, so that every visit
        # leaves the audit trail a phone leaves (created at check-in, changed at check-out).
        by_phone = defaultdict(list)
        for arrived, caregiver, body in sorted(sends, key=lambda send: (send[0], send[1])):
            by_phone[caregiver].append((arrived, body))
        with transaction.atomic():  # seeding is not a race: one commit
            for caregiver, queue in by_phone.items():
                for i in range(0, len(queue), actions.SYNC_MAX_ITEMS):
                    chunk = queue[i : i + actions.SYNC_MAX_ITEMS]
                    seen, new, finishing = set(), [], []
                    for arrived, body in chunk:
                        (finishing if body["client_id"] in seen else new).append((arrived, body))
                        seen.add(body["client_id"])
                    for part in (new, finishing):
                        if part:
                            self._send(caregiver, part)
        made = len({body["client_id"] for _arrived, _caregiver, body in sends})
        actions.visit_flag_overdue()  # today's daily check, as the nightly task would have run it
        total = Visit.objects.count()
        self.stdout.write(self.style.SUCCESS(f"演示服务记录：新增 {made} 条，已有 {len(have)} 条，共 {total} 条。"))

    def _send(self, caregiver, sends):
        results = actions.visit_sync(
            actor=self.users[caregiver],
            items=[body for _arrived, body in sends],
            received_at=[arrived for arrived, _body in sends],
        )
        for _visit, outcome, message in results:
            if outcome in ("error", "conflict"):
                raise SystemExit(f"演示服务记录未能写入：{message}")

    def _caregiver_user(self, caregiver):
        """Every caregiver signs in on a phone; the demo's other caregivers get an account with no password."""
        if caregiver.pk not in self.users:
            if caregiver.user_id is None:
                user, _ = User.objects.get_or_create(
                    username=f"caregiver{caregiver.pk}", defaults={"role": Role.CAREGIVER, "first_name": caregiver.name}
                )
                user.set_unusable_password()
                user.save()
                caregiver.user = user
                caregiver.save(update_fields=["user"])
            self.users[caregiver.pk] = caregiver.user
        return self.users[caregiver.pk]

    def _plan(self, month, now):
        """{(caregiver, day): [items]}: each recipient's monthly standard spread over the month, no overlaps."""
        today = now.date()
        agreements = list(
            Agreement.objects.in_force_between(month, today)
            .select_related("caregiver__user", "recipient")
            .order_by("pk")
        )
        recipients = Recipient.objects.filter(pk__in=[a.recipient_id for a in agreements])
        levels = dict(with_level_on(recipients, today).values_list("pk", "level_today"))
        short_provider = min((a.caregiver.provider_id for a in agreements), default=None)
        plan = defaultdict(list)
        busy = defaultdict(set)  # (caregiver, day) -> slots taken
        this_month = today.replace(day=1)
        for first in (month, this_month):
            last = month_end(first)
            days = (last - first).days + 1
            standard = standard_on(first)
            # positions in the list, not database ids, pick the days and times: the same demo on any database
            for n, agreement in enumerate(agreements):
                recipient, caregiver = agreement.recipient, agreement.caregiver
                if recipient.home_latitude is None or not recipient.in_support_on(first):
                    continue
                self._caregiver_user(caregiver)
                rng = random.Random(f"{n}-{first}")  # noqa: S311 - demo data, not security
                wanted = standard.visits_for(levels.get(recipient.pk)) or 4
                # one provider's caregivers fall a little short now and then: the compliance report shows it
                if caregiver.provider_id == short_provider and rng.random() < 0.3:
                    wanted -= 1
                for k in range(wanted):
                    day = first + datetime.timedelta(days=(k * days // wanted + n) % days)
                    taken = busy[(caregiver.pk, day)]
                    # the day's rounds start at different times of day, one after another
                    free = [n % len(SLOTS) for n in range(n, n + len(SLOTS))]
                    free = [n for n in free if n not in taken]
                    if not free or not agreement.in_force_on(day) or not recipient.in_support_on(day):
                        continue
                    slot = free[0]
                    start = timezone.make_aware(datetime.datetime.combine(day, SLOTS[slot]))
                    minutes = rng.choice([40, 45, 50, 60, 75]) if rng.random() > 0.03 else 20  # a few too short
                    end = start + datetime.timedelta(minutes=minutes)
                    if start > now:
                        continue
                    taken.add(slot)
                    far = rng.random() < 0.04  # checked in 2 km from the registered home
                    lat = recipient.home_latitude + (Decimal("0.018") if far else Decimal(rng.randint(-4, 4)) / 10000)
                    lng = recipient.home_longitude + Decimal(rng.randint(-4, 4)) / 10000
                    item = {
                        "client_id": uuid.uuid5(NAMESPACE, f"{agreement.pk}/{day}/{k}"),
                        "recipient": recipient.pk,
                        "started_at": start,
                        "latitude": lat,
                        "longitude": lng,
                        "accuracy_m": rng.choice([8, 12, 20, 35]),
                        "_end": min(end, now),
                    }
                    if end <= now:  # under way now: checked in, not yet out
                        choice = rng.randrange(len(ITEMS))
                        item.update(
                            ended_at=end,
                            service_items=[str(i) for i in ITEMS[choice]],
                            note=NOTES[choice],
                            checkout_latitude=lat,
                            checkout_longitude=lng,
                        )
                    plan[(caregiver.pk, day)].append(item)
        return plan
