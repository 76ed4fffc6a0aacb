"""A realistic demo county: the 24 towns, villages, two providers with contracts, caregivers, a few hundred
recipients at all three levels, signed agreements, and one login per role. The roster of the month before
today is imported through the real import, so that month can be settled at once.

Repeatable: a second run finds everything in place and adds nothing.
"""

import datetime
import io
import math
import os
import random
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from openpyxl import Workbook

from contracts import actions as contract_actions
from contracts.models import Agreement, Caregiver, DeductionBasis, DeductionRule, Provider, PurchaseContract
from recipients import actions as recipient_actions
from recipients.imports import COLUMNS
from recipients.models import MonthlyRoster, Recipient, RosterStatus, Town
from shenxian_care.demo import ensure_demo_database
from shenxian_care.models import Role, User
from shenxian_care.months import previous_month
from shenxian_care.validators import credit_check_char, id_check_char

# The published password of the demo logins, printed by `make run` (see SECURITY.md).
PASSWORD = "Shenxian-Demo-2026"  # noqa: S105  # nosec B105
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = ["秀英", "桂兰", "玉兰", "凤英", "建国", "国庆", "德胜", "长山", "淑珍", "金花", "春生", "保国", "玉珍", "振华"]
VILLAGE_NAMES = ["东街村", "西街村", "南关村", "北关村", "王庄村", "李庄村", "张楼村", "前屯村", "后屯村", "河沿村"]
LEVELS = ["自理"] * 5 + ["半失能"] * 3 + ["失能"] * 2

LOGINS = [
    ("bureau", Role.BUREAU, "县民政局 王科长"),
    ("finance", Role.FINANCE, "县财政局 李会计"),
    ("town", Role.TOWN, "燕塔街道 赵主任"),
    ("provider", Role.PROVIDER, "康乐养老服务中心 孙经理"),
    ("caregiver", Role.CAREGIVER, "照料护理人 周秀英"),
]


def _id_number(rng, birth_year_range=(1935, 1975), area="371522"):
    birth = datetime.date(rng.randint(*birth_year_range), rng.randint(1, 12), rng.randint(1, 28))
    first17 = f"{area}{birth:%Y%m%d}{rng.randint(0, 999):03d}"
    return first17 + id_check_char(first17)


def _credit_code(body16):
    first17 = body16 + "X"
    return first17 + credit_check_char(first17)


class Command(BaseCommand):
    help = "载入演示数据（可重复运行，不会重复添加）。Load the demo county; safe to run again."

    def add_arguments(self, parser):
        parser.add_argument("--recipients", type=int, default=360)

    def handle(self, *args, recipients, **options):
        ensure_demo_database()
        today = timezone.localdate()
        month = previous_month(today)
        with transaction.atomic():
            users = self._users()
            providers = self._providers(users["bureau"], month)
            caregivers = self._caregivers(users["bureau"], providers)
        rows = self._roster_rows(recipients)
        for roster_month in (previous_month(month), month):
            self._import_roster(users["bureau"], roster_month, rows, final=roster_month == month)
        with transaction.atomic():
            self._locate_homes(users["bureau"])
            self._agreements(users, providers, caregivers, previous_month(month))
        self.stdout.write(self.style.SUCCESS(self._summary(month)))

    def _user(self, username, role, label, **scope):
        person = label.split(" ")[1]
        user, created = User.objects.get_or_create(
            username=username,
            defaults={
                "role": role,
                "is_staff": role == Role.BUREAU,
                "last_name": person[:1],
                "first_name": person[1:],
                **scope,
            },
        )
        if created:
            user.set_password(PASSWORD)
            user.save(update_fields=["password"])
        return user

    def _users(self):
        yanta = Town.objects.get(name="燕塔街道")
        return {
            username: self._user(username, role, label, **({"town": yanta} if role == Role.TOWN else {}))
            for username, role, label in LOGINS
            if role != Role.PROVIDER
        }

    def _providers(self, bureau, month):
        towns = list(Town.objects.order_by("sort_order"))
        specs = [
            ("莘县康乐养老服务中心", "52371522MJD6A1K0", towns[:12], "SXGM-2026-001", "provider"),
            ("莘县颐和居家养老服务有限公司", "91371522MA3C4PR1", towns[12:], "SXGM-2026-002", "caregivers"),
        ]
        providers = []
        for name, body, served, number, payee in specs:
            provider = Provider.objects.filter(name=name).first() or contract_actions.provider_create(
                actor=bureau,
                name=name,
                credit_code=_credit_code(body),
                legal_representative="孙立新" if payee == "provider" else "高爱民",
                contact_name="孙经理",
                contact_phone="0635-7321234",
                address="莘县燕塔街道振兴路88号",
                bank_name="莘县农村商业银行",
                bank_account_name=name,
                bank_account_number="9150001234567890" if payee == "provider" else "9150007654321098",
            )
            if not PurchaseContract.objects.filter(number=number).exists():
                contract = contract_actions.contract_create(
                    actor=bureau,
                    provider=provider,
                    number=number,
                    towns=served,
                    signed_on=datetime.date(2025, 12, 20),
                    start_date=datetime.date(2026, 1, 1),
                    end_date=datetime.date(2027, 12, 31),
                    planned_recipients=180,
                    payee_mode=payee,
                    quality_terms="按莘县特困人员照料服务标准提供上门服务，接受县民政局和镇（街道）监督考评。",
                )
                for code, text, amount, basis, threshold in [
                    ("K01", "未按约定频次上门服务，经查证属实（每人次）", "50.00", DeductionBasis.PROBLEM, None),
                    ("K02", "服务记录与实际不符，经查证属实（每人次）", "200.00", DeductionBasis.PROBLEM, None),
                    ("K03", "严重服务质量问题，经查证属实（每起）", "1000.00", DeductionBasis.PROBLEM, None),
                    # Pay tied to the evidence (根据评估考核结果): proposed by the settlement, decided by the bureau.
                    ("K04", "每缺少一次标准上门服务（每人次）", "10.00", DeductionBasis.MISSED_VISIT, None),
                    ("K05", "镇（街道）月度考评低于60分（每镇每月）", "300.00", DeductionBasis.LOW_EVALUATION, "60"),
                ]:
                    DeductionRule.objects.create(
                        contract=contract, code=code, description=text, amount=amount, basis=basis, threshold=threshold
                    )
            providers.append(provider)
        username, role, label = next(login for login in LOGINS if login[1] == Role.PROVIDER)
        self._user(username, role, label, provider=providers[0])
        return providers

    def _caregivers(self, bureau, providers):
        rng = random.Random(7)  # noqa: S311 - demo data, not security
        caregivers = {}
        for provider in providers:
            served = Town.objects.filter(contracts__provider=provider).order_by("sort_order")
            for town in served:
                for i in range(2):
                    surname = SURNAMES[(town.sort_order * 3 + i) % len(SURNAMES)]
                    name = f"{surname}{GIVEN[(town.sort_order + i) % len(GIVEN)]}"
                    # Draw every random value whether or not it is used, so reruns see the same people.
                    id_number = _id_number(rng, (1966, 1990))
                    phone = f"139{town.sort_order:02d}{i:02d}{rng.randint(1000, 9999)}"
                    account = f"62179{rng.randint(10**12, 10**13 - 1)}"
                    caregiver = Caregiver.objects.with_id_number(id_number).first()
                    if caregiver is None:
                        login = "caregiver" if (town.name == "燕塔街道" and i == 0) else None
                        caregiver = contract_actions.caregiver_create(
                            actor=bureau,
                            provider=provider,
                            name="周秀英" if login else name,
                            id_number=id_number,
                            phone=phone,
                            hired_on=datetime.date(2026, 1, 1),
                            home_town=town,
                            bank_name="莘县农村商业银行",
                            bank_account_number=account,
                        )
                        if login:
                            caregiver.user = User.objects.get(username="caregiver")
                            caregiver.save(update_fields=["user"])
                    caregivers.setdefault(town.pk, []).append(caregiver)
        return caregivers

    def _roster_rows(self, count):
        rng = random.Random(2026)  # noqa: S311 - demo data, not security
        towns = list(Town.objects.order_by("sort_order"))
        rows = []
        for i in range(count):
            town = towns[i % len(towns)]
            name = f"{SURNAMES[rng.randrange(len(SURNAMES))]}{GIVEN[rng.randrange(len(GIVEN))]}"
            level = LEVELS[rng.randrange(len(LEVELS))]
            no_capacity = level == "失能" and rng.random() < 0.3
            rows.append(
                {
                    "姓名": name,
                    "身份证号": _id_number(rng),
                    "镇(街道)": town.name,
                    "村(居)": VILLAGE_NAMES[rng.randrange(len(VILLAGE_NAMES))],
                    "自理能力": level,
                    "纳入日期": datetime.date(rng.randint(2019, 2025), rng.randint(1, 12), 1),
                    "退出日期": None,
                    "监护人": f"{name[0]}建军" if no_capacity else None,
                    "监护人身份证号": _id_number(rng, (1965, 1985)) if no_capacity else None,
                    "联系电话": f"135{rng.randint(10**7, 10**8 - 1)}",
                    "住址": f"{town.name}{i % 10 + 1}号",
                }
            )
        return rows

    def _import_roster(self, bureau, month, rows, final):
        if MonthlyRoster.objects.filter(month=month, status=RosterStatus.APPLIED).exists():
            return
        month_rows = [dict(r) for r in rows]
        if final:
            # Last month's list differs a little from the month before: one leaves, one gets worse.
            month_rows[-1]["退出日期"] = month + datetime.timedelta(days=19)
            month_rows[-2]["自理能力"] = "失能" if month_rows[-2]["自理能力"] != "失能" else "半失能"
        wb = Workbook(write_only=True)
        ws = wb.create_sheet("名单")
        ws.append(COLUMNS)
        for r in month_rows:
            ws.append([r[c] for c in COLUMNS])
        buffer = io.BytesIO()
        wb.save(buffer)
        roster = recipient_actions.roster_preview(
            actor=bureau, month=month, file_name=f"{month:%Y年%m月}特困人员名单.xlsx", content=buffer.getvalue()
        )
        recipient_actions.roster_apply(actor=bureau, roster=roster)
        if final:
            # The bureau records that the people without civil capacity have guardians (from the file).
            for r in month_rows:
                if r["监护人"]:
                    Recipient.objects.with_id_number(r["身份证号"]).update(civil_capacity="none")

    def _locate_homes(self, bureau):
        """The bureau registers where each home stands (check-ins are verified against it): the towns lie around
        the county seat, the homes of a village close together."""
        centre_lat, centre_lng = Decimal("36.234"), Decimal("115.671")
        for recipient in Recipient.objects.filter(home_latitude__isnull=True).select_related("town", "village"):
            rng = random.Random(recipient.pk)  # noqa: S311 - demo data, not security
            angle = 2 * math.pi * recipient.town.sort_order / 24
            reach = Decimal("0.04") + Decimal(recipient.town.sort_order % 4) * Decimal("0.03")
            village = random.Random(recipient.village_id)  # noqa: S311 - demo data, not security
            step = Decimal("0.0001")
            lat = centre_lat + reach * Decimal(str(round(math.sin(angle), 6))) + village.randint(-90, 90) * step
            lng = centre_lng + reach * Decimal(str(round(math.cos(angle), 6))) + village.randint(-90, 90) * step
            recipient_actions.recipient_update(
                actor=bureau,
                recipient=recipient,
                home_latitude=(lat + rng.randint(-15, 15) * step / 10).quantize(Decimal("0.000001")),
                home_longitude=(lng + rng.randint(-15, 15) * step / 10).quantize(Decimal("0.000001")),
            )

    def _agreements(self, users, providers, caregivers, start):
        bureau = users["bureau"]
        served_in_town = {}
        for recipient in Recipient.objects.select_related("town", "village").order_by("pk"):
            # Round robin within each town, so every caregiver (the demo login too) has someone to visit.
            turn = served_in_town[recipient.town_id] = served_in_town.get(recipient.town_id, -1) + 1
            if Agreement.objects.filter(recipient=recipient).exists():
                continue
            options = caregivers.get(recipient.town_id)
            if not options or not recipient.in_support_on(start):
                continue
            caregiver = options[turn % len(options)]
            draft = contract_actions.agreement_create(
                actor=bureau,
                provider=caregiver.provider,
                recipient=recipient,
                caregiver=caregiver,
                start_date=start,
                village_signatory=f"{recipient.village.name}主任",
                provider_signed_on=start,
            )
            contract_actions.agreement_sign_as_town(actor=bureau, agreement=draft, signed_on=start)

    def _summary(self, month):
        lines = [
            f"演示数据就绪：{Recipient.objects.count()}名特困人员，{Agreement.objects.count()}份四方协议，"
            f"名单已导入至{month:%Y年%m月}。",
            "",
            f"登录（密码均为 {PASSWORD}）：",
        ]
        for username, _role, label in LOGINS:
            lines.append(f"  {username:<10} {label}")
        # `make run HOST=0.0.0.0:8080` serves there: print the address it serves (Makefile passes HOST on).
        host = os.environ.get("HOST") or "127.0.0.1:8000"
        if host.startswith("0.0.0.0:"):  # all interfaces: this machine reaches it on localhost
            host = "127.0.0.1:" + host.split(":", 1)[1]
        lines.append(f"  打开 http://{host}/ ；后台管理 /admin/ ；API 文档 /api/docs/")
        return "\n".join(lines)
