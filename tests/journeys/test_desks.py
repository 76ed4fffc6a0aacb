"""The desks (工作台) in a real browser: the bureau approves a level change and sends an exit back with a reason
from 待审定, and clears exceptions in a batch; the town sees its report's status and the reason on 我的报告; the
provider finds its notice near the deadline; finance records a payment of a confirmed month; the caregiver lands on
今日服务, finds a person by name and confirms a visit with a code from the recipient's card on a 360×740 phone.
Each with screenshots."""

import datetime
import os
import time
import uuid

import pytest
from django.core.management import call_command
from django.utils import timezone

from billing.actions import proposals_decide, settlement_compute, settlement_confirm
from recipients.models import ApprovalStatus, Assessment, LevelApproval, SupportExit
from services.actions import confirmation_card_issue, visit_sync
from services.models import ServiceStandard, Visit
from shenxian_care.models import User
from supervision.models import RectificationNotice

from .conftest import shot, sign_in
from .test_caregiver import first_recipient_at_home

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def waiting(demo):
    call_command("seed_demo_desk", stdout=open(os.devnull, "w"))  # noqa: SIM115


def desk_link(page, label):
    return page.locator("section[aria-labelledby='desk-title'] a", has_text=label)


def test_bureau_approves_a_level_change_and_sends_an_exit_back(waiting, background, desk):
    page = desk
    change = Assessment.objects.get(status=ApprovalStatus.PENDING, created_by__username="town")
    leaving = SupportExit.objects.get(status=ApprovalStatus.PENDING)

    sign_in(page, "bureau")
    assert "1 等级变更待审定" in " ".join(desk_link(page, "等级变更待审定").inner_text().split())
    shot(page, "desk-bureau-01-home")

    # one by one: the level change, from the first of next month
    desk_link(page, "等级变更待审定").click()
    page.wait_for_selector("h1:has-text('待审定：等级变更')")
    shot(page, "desk-bureau-02-level-changes")
    page.locator("tr", has_text=change.recipient.name).get_by_role("link", name="逐项审定").click()
    page.wait_for_selector("h1:has-text('审定自理能力评估')")
    page.get_by_label("审定通过").check()
    page.get_by_label("评估次月1日").check()
    shot(page, "desk-bureau-03-approve-one")
    with page.expect_navigation():
        page.get_by_role("button", name="提交审定").click()
    page.get_by_text(f"{change.recipient.name}：已审定通过。").wait_for()

    # several at once (here the one exit), sent back with a reason
    exits = page.locator("form", has=page.locator("legend", has_text="对勾选的退出申请"))
    exits.locator("tr", has_text=leaving.recipient.name).get_by_role("checkbox").check()
    exits.get_by_label("不予审定（退回）").check()
    exits.get_by_label("审定意见（退回时必填）").fill("死亡证明未附，请补充后重新报告")
    shot(page, "desk-bureau-04-reject-several")
    with page.expect_navigation():
        exits.get_by_role("button", name="提交审定").click()
    page.get_by_text("已退回1项。").wait_for()
    shot(page, "desk-bureau-05-done")

    change.refresh_from_db()
    leaving.refresh_from_db()
    first_of_next = (timezone.localdate().replace(day=1) + datetime.timedelta(days=32)).replace(day=1)
    assert change.status == "approved" and change.effective_date == first_of_next
    assert LevelApproval.objects.filter(assessment=change, effective_date=first_of_next).exists()
    assert (leaving.status, leaving.decision_reason) == ("rejected", "死亡证明未附，请补充后重新报告")
    leaving.recipient.refresh_from_db()
    assert leaving.recipient.exit_date is None


def test_town_sees_what_it_reported_and_why_one_was_sent_back(waiting, background, desk):
    page = desk
    sign_in(page, "town")
    link = desk_link(page, "被退回的报告")
    assert " ".join(link.inner_text().split()).startswith("1 ")
    shot(page, "desk-town-01-home")
    link.click()
    page.wait_for_selector("h1:has-text('我的报告')")
    assert page.get_by_text("经核实户籍未迁出，仍在本村居住").count() == 1
    assert page.get_by_text("已退回").count() >= 1
    shot(page, "desk-town-02-returned")
    page.get_by_role("link", name="全部", exact=True).click()
    page.wait_for_selector("h1:has-text('我的报告')")
    assert page.locator("tbody").get_by_text("待审定").count() >= 2  # the level change and the exit, still waiting
    shot(page, "desk-town-03-all-reports")


def test_provider_finds_the_notice_near_its_deadline(waiting, background, desk):
    page = desk
    sign_in(page, "provider")
    link = desk_link(page, "待答复的整改通知")
    assert " ".join(link.inner_text().split()).startswith("1 ")
    shot(page, "desk-provider-01-home")
    link.click()
    page.wait_for_selector("h1")
    notice = RectificationNotice.objects.get()
    deadline = notice.deadline
    row = page.locator("tr", has_text=notice.number).inner_text()
    assert f"{deadline.year}年{deadline.month}月{deadline.day}日" in row
    shot(page, "desk-provider-02-notices")


def test_caregiver_finds_a_person_by_name_and_confirms_with_a_code_from_the_card(daytime, waiting, background, phone):
    """The code is one of the recipient's printed card (six random digits): the ID-tail code, whose X a numeric
    keypad could not type, is gone, so the field keeps the phone's numeric keypad."""
    page = phone
    ServiceStandard.objects.create(effective_month=datetime.date(2020, 1, 1), confirmation_mode="code")
    recipient = first_recipient_at_home()
    _card, codes = confirmation_card_issue(actor=User.objects.get(username="town"), recipient=recipient)
    caregiver = User.objects.get(username="caregiver").caregiver
    others = caregiver.agreements.exclude(recipient=recipient).values_list("recipient__name", flat=True)
    # the phone's clock starts an hour ago, so the visit ends in the past (times are the phone's own)
    page.clock.install(time=timezone.now() - datetime.timedelta(hours=1))

    sign_in(page, "caregiver")
    page.wait_for_url("**/portal/services/caregiver/")
    shot(page, "desk-caregiver-01-today")

    page.get_by_label("按姓名查找").fill(recipient.name)
    card = page.locator(f"section.visit-card[data-recipient='{recipient.pk}']")
    assert card.is_visible()
    for name in set(others) - {recipient.name}:
        assert not page.locator("section.visit-card", has_text=name).first.is_visible()
    shot(page, "desk-caregiver-02-found")

    with page.expect_navigation(timeout=60_000):
        card.get_by_role("button", name="签到（开始服务）").click()
    page.clock.fast_forward("35:00")
    card = page.locator(f"section.visit-card[data-recipient='{recipient.pk}']")
    card.get_by_label("生活照料").check()
    code = card.get_by_label("服务对象确认码（请服务对象或监护人读出确认码卡上一个未用过的6位码）")
    assert code.get_attribute("inputmode") == "numeric"
    code.click()
    page.keyboard.type(codes[0])
    assert code.input_value() == codes[0]
    assert code.evaluate("field => field.checkValidity()")
    shot(page, "desk-caregiver-03-code-from-card")
    with page.expect_navigation(timeout=60_000):
        card.get_by_role("button", name="签退（结束服务）").click()
    page.wait_for_selector("section[aria-label='服务记录']", timeout=60_000)
    shot(page, "desk-caregiver-04-confirmed")
    visit = Visit.objects.get(recipient=recipient)
    deadline = time.monotonic() + 30  # the confirmation goes up right after the check-out
    while visit.confirmed_at is None and time.monotonic() < deadline:
        time.sleep(0.5)
        visit.refresh_from_db()
    assert (visit.status, visit.confirmation_method) == ("verified", "code")
    assert visit.confirmed_at is not None


def test_the_bureau_clears_exceptions_in_a_batch(waiting, background, desk):
    # given: the demo caregiver's phone sent four visits of yesterday, three checked in 2 km from home, one short
    caregiver = User.objects.get(username="caregiver")
    recipient = first_recipient_at_home()
    yesterday = timezone.localtime().replace(hour=9, minute=0, second=0, microsecond=0) - datetime.timedelta(days=1)
    far = float(recipient.home_latitude) + 0.018

    def sent(start, minutes=45, latitude=far):
        return {
            "client_id": str(uuid.uuid4()),
            "recipient": recipient.pk,
            "started_at": start,
            "ended_at": start + datetime.timedelta(minutes=minutes),
            "latitude": latitude,
            "longitude": float(recipient.home_longitude),
            "service_items": ["daily_care"],
        }

    starts = [yesterday + datetime.timedelta(hours=h) for h in (0, 2, 4, 6)]
    visit_sync(
        actor=caregiver,
        items=[
            *(sent(start) for start in starts[:3]),
            sent(starts[3], minutes=15, latitude=float(recipient.home_latitude)),
        ],
    )
    far_ones = list(Visit.objects.filter(exception_reasons=["too_far"]).order_by("started_at"))
    assert len(far_ones) == 3

    page = desk
    sign_in(page, "bureau")
    desk_link(page, "待复核的异常服务记录").click()
    page.wait_for_selector("h1:has-text('异常待审核的服务记录')")
    page.get_by_label("异常原因").select_option(label="签到位置超出规定范围")
    with page.expect_navigation():
        page.get_by_role("button", name="筛选").click()
    rows = page.locator("#clear-exceptions tbody tr")
    assert rows.count() == 3
    first = " ".join(rows.first.inner_text().split())
    assert f"{far_ones[-1].checkin_distance_m}米" in first
    assert f"{timezone.localtime(far_ones[-1].started_at):%Y-%m-%d %H:%M}" in first
    shot(page, "desk-bureau-06-exceptions")

    for box in page.locator("#clear-exceptions input[name=ids]").all():
        box.check()
    page.get_by_label("认可（计入服务）").check()
    page.get_by_label("审核意见（必填，同一意见适用于所勾选的每条记录）").fill(
        "村里新盖房屋，住址坐标待更新，已电话回访核实"
    )
    shot(page, "desk-bureau-07-exceptions-ticked")
    with page.expect_navigation():
        page.get_by_role("button", name="提交审核").click()
    page.get_by_text("已认可 3 条异常记录。").wait_for()
    shot(page, "desk-bureau-08-exceptions-cleared")

    assert {v.status for v in Visit.objects.filter(pk__in=[v.pk for v in far_ones])} == {"accepted"}
    assert Visit.objects.get(exception_reasons=["too_short"]).status == "exception"  # not chosen, still waiting


def test_finance_records_a_payment_of_a_confirmed_month(waiting, background, desk):
    # given: last month settled and confirmed by the bureau (its proposed deductions waived)
    bureau = User.objects.get(username="bureau")
    month = (timezone.localdate().replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    settlement = settlement_compute(actor=bureau, month=month)
    proposed = list(settlement.proposals.filter(status="proposed").values_list("pk", flat=True))
    if proposed:
        proposals_decide(actor=bureau, settlement=settlement, proposal_ids=proposed, accept=False, reason="演示")
    settlement = settlement_confirm(actor=bureau, settlement=settlement)
    payment = settlement.payments.order_by("provider__name", "payee_name").first()

    page = desk
    sign_in(page, "finance")
    link = desk_link(page, "已确认、待登记支付的月份")
    assert " ".join(link.inner_text().split()).startswith("1 ")
    shot(page, "desk-finance-01-home")
    link.click()
    page.get_by_role("link", name=f"{month.year}年{month.month}月").first.click()
    page.get_by_role("link", name="支付清单与支付登记").click()
    page.wait_for_selector("h1:has-text('支付清单')")
    row = page.locator("tr", has_text=payment.payee_name).first
    row.get_by_label("凭证号").fill("记-2026-0158")
    shot(page, "desk-finance-02-payment-form")
    with page.expect_navigation():
        row.get_by_role("button", name="登记").click()
    page.get_by_text(f"已登记{payment.payee_name}的支付（凭证号 记-2026-0158）。").wait_for()
    shot(page, "desk-finance-03-payment-recorded")

    payment.refresh_from_db()
    assert payment.paid == payment.amount
    assert payment.records.get().voucher_number == "记-2026-0158"
