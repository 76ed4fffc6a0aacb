"""The permission matrix's world (tests/test_permission_matrix.py): one county built by factories and the real
actions, with something of every kind on each side, so that "not visible" can fail.

- side "a": 燕塔街道, provider A (its contract serves 燕塔街道), caregiver A, recipient 甲 and everything
  around them. The actors under test belong here.
- side "b": 朝城镇, provider B, caregiver B, recipient 乙 (the sentinel): agreements, visits with photos,
  a correction, a plan, flags, a confirmation card, assessments, an exit report, an evaluation, serious
  problems with photos, rectification notices, complaints, spot checks and a draw, cross-check hits, a
  half-year review, a takeover, notifications and notices, a confirmed settlement with lines, deductions and
  payments, an export job, a roster upload. None of it may reach side a.
- provider X, whose contract for 古城镇 was terminated on 2026-11-15 (its recipient 丙 was taken over by B),
  and caregiver Y of provider A, whose agreement with recipient 丁 (燕塔街道) ended on 2026-11-20 (丁 is now
  served by caregiver A). Neither may see their former recipient any more.

Every sentinel (names, the masked ID number's tail, the house part of addresses, phones) is distinctive, so a
page that shows it leaks it.
"""

import datetime
import io
from decimal import Decimal

from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image

from billing.actions import proposals_decide, settlement_compute, settlement_confirm
from billing.models import DeductionProposal, Payment, PaymentRecord, ProviderSettlement, SettlementLine
from contracts.models import AgreementStatus, ContractStatus, ProviderNotice, PurchaseContract
from recipients.models import Assessment, MonthlyRoster, RosterEntry, SupportExit
from services.models import (
    ConfirmationCard,
    PlannedVisit,
    RecipientGpsRule,
    VisitCorrection,
    VisitFlag,
    VisitPhoto,
)
from shenxian_care.models import ExportJob, Role
from shenxian_care.privacy import mask_id_number
from shenxian_care.scoping import scope_key
from shenxian_care.validators import id_check_char
from supervision import actions as supervision
from supervision.models import (
    CrossCheckBatch,
    CrossCheckHit,
    Deduction,
    Evaluation,
    HalfYearReview,
    Notification,
    SeriousProblemPhoto,
    SeriousProblemReport,
    SpotCheck,
    SpotCheckDraw,
    Takeover,
    TakeoverLine,
)
from tests.factories import (
    AgreementFactory,
    CaregiverFactory,
    ContractFactory,
    DeductionRuleFactory,
    ProviderFactory,
    RecipientFactory,
    UserFactory,
    VillageFactory,
    town,
)
from tests.services.factories import VisitFactory, local

D = datetime.date
SETTLED = D(2026, 10, 1)  # the settled (confirmed, paid) month: every provider served all of it
CONTRACT_ENDED = D(2026, 11, 15)  # provider X's last day
AGREEMENT_ENDED = D(2026, 11, 20)  # caregiver Y's last day with 丁
LAST_DAY = D(2030, 12, 31)  # the contracts in force (so the world does not age out of them)

# the actors under test
BUREAU, FINANCE, TOWN, PROVIDER, CAREGIVER = "bureau", "finance", "town", "provider", "caregiver"
NO_ROLE, INACTIVE, ENDED_PROVIDER, ENDED_CAREGIVER = "no_role", "inactive", "ended_provider", "ended_caregiver"
ACTORS = [BUREAU, FINANCE, TOWN, PROVIDER, CAREGIVER, NO_ROLE, INACTIVE, ENDED_PROVIDER, ENDED_CAREGIVER]


def id_number(birth, serial):
    first17 = f"371522{birth:%Y%m%d}{serial:03d}"
    return first17 + id_check_char(first17)


def png(name="photo.png"):
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 120, 40)).save(buffer, format="PNG")
    return ContentFile(buffer.getvalue(), name=name)


class Side(dict):
    """The objects of one side by kind (attribute access for readability)."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name, value):
        self[name] = value


def _person(*, name, place, village, birth, serial, house, phone, level="partial"):
    recipient = RecipientFactory(
        name=name,
        id_number=id_number(birth, serial),
        village=VillageFactory(town=town(place), name=village),
        address=f"{place}{village}{house}",
        phone=phone,
        level=level,
    )
    recipient.sentinels = [name, mask_id_number(recipient.id_number), recipient.id_number, house, phone]
    return recipient


def _side(key, *, place, provider_name, recipient_name, caregiver_name, birth, house, phone, bureau):
    provider = ProviderFactory(name=provider_name)
    contract = ContractFactory(provider=provider, towns=[town(place)], start_date=D(2024, 1, 1), end_date=LAST_DAY)
    DeductionRuleFactory(contract=contract, code=f"K{key.upper()}1")
    caregiver = CaregiverFactory(
        provider=provider,
        name=caregiver_name,
        user=UserFactory(username=f"m-{key}-caregiver", role=Role.CAREGIVER),
    )
    recipient = _person(
        name=recipient_name, place=place, village=f"{place[:2]}哨兵村", birth=birth, serial=1, house=house, phone=phone
    )
    agreement = AgreementFactory(
        recipient=recipient, provider=provider, contract=contract, caregiver=caregiver, level_at_signing="partial"
    )
    users = Side(
        town=UserFactory(username=f"m-{key}-town", role=Role.TOWN, town=town(place)),
        provider=UserFactory(username=f"m-{key}-provider", role=Role.PROVIDER, provider=provider),
        caregiver=caregiver.user,
    )
    return Side(
        key=key,
        town=town(place),
        village=recipient.village,
        provider=provider,
        contract=contract,
        caregiver=caregiver,
        recipient=recipient,
        agreement=agreement,
        users=users,
    )


def _visits(side, days):
    visits = [
        VisitFactory(agreement=side.agreement, started_at=local(2026, 10, day), note=f"{side.recipient.name}的服务")
        for day in days
    ]
    for visit in visits[:1]:
        VisitPhoto.objects.create(visit=visit, image=png(), content_type="image/png", size_bytes=100)
    return visits


def _records(side, *, bureau, visits):
    """Everything around one side's recipient that supervision and services keep."""
    recipient, today = side.recipient, timezone.localdate()
    side.photo = visits[0].photos.get()
    side.visit = visits[0]
    side.correction = VisitCorrection.objects.create(
        visit=visits[1], reason_code="forgot_checkout", before={}, after={}, status="pending", requested_by=bureau
    )
    side.plan = PlannedVisit.objects.create(
        provider=side.provider,
        agreement=side.agreement,
        caregiver=side.caregiver,
        recipient=recipient,
        town=side.town,
        day=today + datetime.timedelta(days=2),
        planned_time=datetime.time(9, 0),
        created_by=side.users.provider,
    )
    side.flag = VisitFlag.objects.create(
        day=today, kind="no_visit", town=side.town, provider=side.provider, recipient=recipient, days_since_visit=9
    )
    side.gps_rule = RecipientGpsRule.objects.create(recipient=recipient, reason="山区信号差", requested_by=bureau)
    side.card = ConfirmationCard.objects.create(recipient=recipient, number=1, size=20, issued_by=bureau)
    side.assessment = Assessment.objects.create(
        recipient=recipient,
        assessed_on=D(2026, 11, 2),
        **dict.fromkeys(["can_eat", "can_dress", "can_transfer", "can_toilet", "can_walk_indoors"], True),
        can_bathe=False,
        level="partial",
        created_by=side.users.town,
    )
    side.exit = SupportExit.objects.create(
        recipient=recipient,
        reason="income",
        reported_on=today,
        effective_date=today + datetime.timedelta(days=40),
        created_by=side.users.town,
    )
    # supervision: an evaluation, a verified serious problem with a photo, notices, a complaint, checks
    side.evaluation = supervision.evaluation_start(
        actor=side.users.town, town=side.town, provider=side.provider, month=SETTLED
    )
    Evaluation.objects.filter(pk=side.evaluation.pk).update(
        status="submitted", total_score=88, submitted_at=timezone.now()
    )
    side.problem = supervision.serious_problem_report(
        actor=side.users.town,
        provider=side.provider,
        occurred_on=D(2026, 10, 20),
        description=f"{recipient.name}家中无人照料",
        recipient=recipient,
    )
    SeriousProblemReport.objects.filter(pk=side.problem.pk).update(
        status="verified", decision_reason="属实", verified_on=D(2026, 10, 22)
    )
    side.problem_photo = SeriousProblemPhoto.objects.create(report=side.problem, image=png("problem.png"))
    side.complaint = supervision.complaint_log(
        actor=bureau,
        channel="family",
        town=side.town,
        provider=side.provider,
        recipient=recipient,
        content=f"{recipient.name}反映服务迟到",
        route_to="provider",
    )
    side.spot_check = supervision.spot_check_record(
        actor=side.users.town, recipient=recipient, method="onsite", result="problem", finding="未按时上门"
    )
    side.rectification = supervision.rectification_issue(
        actor=bureau,
        provider=side.provider,
        problem=f"{recipient.name}处服务不到位",
        deadline=today + datetime.timedelta(days=10),
        town=side.town,
        recipient=recipient,
        spot_check=side.spot_check,
    )
    side.draw = SpotCheckDraw.objects.create(
        drawn_on=today,
        town=side.town,
        size=1,
        seed=7,
        population=[recipient.pk],
        sample=[recipient.pk],
        drawn_by=bureau,
    )
    SpotCheck.objects.filter(pk=side.spot_check.pk).update(draw=side.draw)
    batch = CrossCheckBatch.objects.create(
        file_name=f"{side.key}.xlsx", file_sha256="0" * 64, row_count=1, imported_by=bureau
    )
    side.crosscheck_batch = batch
    side.crosscheck_hit = CrossCheckHit.objects.create(
        batch=batch, recipient=recipient, row_number=2, listed_name=recipient.name, event="death",
        event_date=D(2026, 10, 30),
    )  # fmt: skip
    side.notification = Notification.objects.create(
        kind="rectification_overdue",
        town=side.town,
        provider=side.provider,
        subject_key=f"matrix-{side.key}",
        message=f"{recipient.name}的整改已逾期",
        last_sent_at=timezone.now(),
    )
    side.notice = ProviderNotice.objects.create(
        provider=side.provider, kind="level", agreement=side.agreement, message=f"{recipient.name}等级调整"
    )
    side.review = HalfYearReview.objects.create(
        provider=side.provider,
        half="2026H1",
        period_start=D(2026, 1, 1),
        period_end=D(2026, 6, 30),
        proposal="continue",
        built_at=timezone.now(),
    )
    side.deduction = Deduction.objects.create(
        provider=side.provider,
        contract=side.contract,
        town=side.town,
        recipient=recipient,
        source="serious_problem",
        amount=Decimal("20.00"),
        reason=f"{recipient.name}处问题属实",
        verified_on=D(2026, 10, 22),
        created_by=bureau,
    )
    side.export = ExportJob.objects.create(
        requested_by=side.users.town,
        kind="visits",
        scope=scope_key(side.users.town),
        file_name=f"{side.key}-visits.xlsx",
        status="done",
        file=ContentFile(f"{recipient.name} {recipient.address}".encode(), name=f"{side.key}.xlsx"),
        size=64,
    )


def build_world():
    bureau = UserFactory(username="m-bureau", role=Role.BUREAU, is_staff=True)
    finance = UserFactory(username="m-finance", role=Role.FINANCE)
    a = _side(
        "a",
        place="燕塔街道",
        provider_name="甲方康乐服务中心",
        recipient_name="本镇甲某",
        caregiver_name="甲方护理员",
        birth=D(1941, 2, 3),
        house="甲乐巷3号",
        phone="13700001111",
        bureau=bureau,
    )
    b = _side(
        "b",
        place="朝城镇",
        provider_name="乙方哨兵服务公司",
        recipient_name="泄露哨兵乙",
        caregiver_name="乙方哨兵护理员",
        birth=D(1932, 8, 19),
        house="泄露巷99号",
        phone="13588887777",
        bureau=bureau,
    )

    # provider X: served 丙 in 古城镇 until its contract was terminated; B took 丙 over the next day
    x_provider = ProviderFactory(name="丙方已终止服务站")
    x_contract = ContractFactory(
        provider=x_provider, towns=[town("古城镇")], start_date=D(2024, 1, 1), end_date=LAST_DAY
    )
    x_caregiver = CaregiverFactory(provider=x_provider, user=UserFactory(username="m-x-caregiver", role=Role.CAREGIVER))
    former = _person(
        name="终止哨兵丙", place="古城镇", village="古城哨兵村", birth=D(1933, 4, 5), serial=2, house="旧约巷7号",
        phone="13566665555",
    )  # fmt: skip
    x_agreement = AgreementFactory(
        recipient=former, provider=x_provider, contract=x_contract, caregiver=x_caregiver, level_at_signing="partial"
    )
    x_visits = [VisitFactory(agreement=x_agreement, started_at=local(2026, 10, day)) for day in (6, 13, 20, 27)]
    x_user = UserFactory(username="m-x-provider", role=Role.PROVIDER, provider=x_provider)

    # caregiver Y of provider A: served 丁 until 2026-11-20; caregiver A serves 丁 since
    y_caregiver = CaregiverFactory(
        provider=a.provider, name="乙丁前护理员", user=UserFactory(username="m-y-caregiver", role=Role.CAREGIVER)
    )
    left = _person(
        name="换人哨兵丁", place="燕塔街道", village="燕塔哨兵村", birth=D(1934, 6, 7), serial=3, house="换人巷5号",
        phone="13544443333",
    )  # fmt: skip
    y_agreement = AgreementFactory(
        recipient=left, provider=a.provider, contract=a.contract, caregiver=y_caregiver, level_at_signing="partial"
    )
    y_visits = [VisitFactory(agreement=y_agreement, started_at=local(2026, 10, day)) for day in (7, 14, 21, 28)]

    visits_a = _visits(a, (1, 8, 15, 22))
    visits_b = _visits(b, (2, 9, 16, 23))
    _records(a, bureau=bureau, visits=visits_a)
    _records(b, bureau=bureau, visits=visits_b)

    # October: settled, confirmed and paid
    settlement = settlement_compute(actor=bureau, month=SETTLED)
    undecided = list(DeductionProposal.objects.filter(settlement=settlement).undecided().values_list("pk", flat=True))
    if undecided:
        proposals_decide(actor=bureau, settlement=settlement, proposal_ids=undecided, accept=False, reason="测试")
    settlement = settlement_confirm(actor=bureau, settlement=settlement)
    for payment in Payment.objects.filter(settlement=settlement):
        PaymentRecord.objects.create(
            payment=payment, paid_on=D(2026, 11, 10), voucher_number=f"PZ{payment.pk:04d}", amount=payment.amount,
            recorded_by=finance,
        )  # fmt: skip
    for side in (a, b):
        side.settlement = settlement
        side.provider_settlement = ProviderSettlement.objects.get(settlement=settlement, provider=side.provider)
        side.line = SettlementLine.objects.filter(settlement=settlement, provider=side.provider).first()
        side.payment = Payment.objects.filter(settlement=settlement, provider=side.provider).first()

    # the ends: X's contract terminated (its agreement with it), B takes 丙 over; Y's agreement with 丁 ends
    PurchaseContract.objects.filter(pk=x_contract.pk).update(
        status=ContractStatus.TERMINATED, terminated_on=CONTRACT_ENDED, termination_reason="一票否决：提供虚假数据"
    )
    type(x_agreement).objects.filter(pk=x_agreement.pk).update(
        status=AgreementStatus.TERMINATED, end_date=CONTRACT_ENDED, termination_reason="合同终止，接管"
    )
    b.contract.towns.add(town("古城镇"))
    taken = AgreementFactory(
        recipient=former, provider=b.provider, contract=b.contract, caregiver=b.caregiver,
        start_date=CONTRACT_ENDED + datetime.timedelta(days=1), level_at_signing="partial",
    )  # fmt: skip
    b.takeover = Takeover.objects.create(
        old_provider=x_provider, new_provider=b.provider, takeover_date=taken.start_date, executed_by=bureau
    )
    TakeoverLine.objects.create(
        takeover=b.takeover, recipient=former, town=former.town, old_agreement=x_agreement, new_agreement=taken,
        caregiver=b.caregiver,
    )  # fmt: skip
    type(y_agreement).objects.filter(pk=y_agreement.pk).update(
        status=AgreementStatus.TERMINATED, end_date=AGREEMENT_ENDED, termination_reason="更换照料护理人"
    )
    AgreementFactory(
        recipient=left, provider=a.provider, contract=a.contract, caregiver=a.caregiver,
        start_date=AGREEMENT_ENDED + datetime.timedelta(days=1), level_at_signing="partial",
    )  # fmt: skip
    # assessed after the end: nothing a former provider or caregiver may read
    after = {"can_eat": True, "can_dress": True, "can_transfer": True, "can_toilet": True}
    x_later = Assessment.objects.create(
        recipient=former, assessed_on=D(2026, 11, 25), can_walk_indoors=False, can_bathe=False, level="partial",
        created_by=bureau, **after,
    )  # fmt: skip
    y_later = Assessment.objects.create(
        recipient=left, assessed_on=D(2026, 11, 26), can_walk_indoors=False, can_bathe=False, level="partial",
        created_by=bureau, **after,
    )  # fmt: skip

    roster = MonthlyRoster.objects.create(
        month=D(2026, 11, 1), file_name="2026年11月名单.xlsx", file_sha256="1" * 64, imported_by=bureau,
    )  # fmt: skip
    RosterEntry.objects.create(roster=roster, recipient=b.recipient, town=b.town, village=b.village, level="partial")
    b.roster = roster

    b.inactive = UserFactory(username="m-b-gone", role=Role.TOWN, town=b.town, is_active=False)
    actors = {
        BUREAU: bureau,
        FINANCE: finance,
        TOWN: a.users.town,
        PROVIDER: a.users.provider,
        CAREGIVER: a.users.caregiver,
        NO_ROLE: UserFactory(username="m-nobody"),
        INACTIVE: b.inactive,
        ENDED_PROVIDER: x_user,
        ENDED_CAREGIVER: y_caregiver.user,
    }
    former_of = {
        ENDED_PROVIDER: Side(recipient=former, agreement=x_agreement, visits=x_visits, later=x_later, old=x_provider),
        ENDED_CAREGIVER: Side(recipient=left, agreement=y_agreement, visits=y_visits, later=y_later),
    }
    return Side(a=a, b=b, roster=roster, actors=actors, former=former_of, bureau=bureau, finance=finance)
