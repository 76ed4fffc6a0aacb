"""The desks (工作台) in a real browser: the bureau approves a level change and sends an exit back with a reason
from 待审定; the town sees its report's status and the reason on 我的报告; the provider finds its notice near the
deadline; the caregiver lands on 今日服务, finds a person by name and types a code from the recipient's card on a
360×740 phone. Each with screenshots."""

import datetime
import os

import pytest
from django.core.management import call_command
from django.utils import timezone

from recipients.models import ApprovalStatus, Assessment, LevelApproval, SupportExit
from services.models import ServiceStandard
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


def test_caregiver_finds_a_person_by_name_and_types_a_code_with_x(daytime, waiting, background, phone):
    page = phone
    ServiceStandard.objects.create(effective_month=datetime.date(2020, 1, 1), confirmation_mode="code")
    recipient = first_recipient_at_home()
    caregiver = User.objects.get(username="caregiver").caregiver
    others = caregiver.agreements.exclude(recipient=recipient).values_list("recipient__name", flat=True)

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
    card = page.locator(f"section.visit-card[data-recipient='{recipient.pk}']")
    code = card.get_by_label("服务对象确认码（请服务对象或监护人读出确认码卡上一个未用过的6位码）")
    code.click()
    page.keyboard.type("482915")
    assert code.input_value() == "482915"
    assert code.evaluate("field => field.checkValidity()")
    shot(page, "desk-caregiver-03-code-from-card")
