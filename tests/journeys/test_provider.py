"""Journey 4, provider staff at their office: a rectification notice (整改通知) has been issued to them → they
find it and answer it in the portal → it shows as answered; then they read their own settlement of last month
(only their figures, never the other provider's) and open the month's detail."""

import datetime
import re

import pytest
from django.utils import timezone

from billing.actions import proposals_decide, settlement_compute, settlement_confirm
from billing.models import ProviderSettlement
from contracts.models import Provider
from shenxian_care.models import User
from shenxian_care.money import format_yuan
from supervision import actions as supervision_actions
from supervision.models import RectificationNotice, RectificationStatus

from .conftest import nav_to, shot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ANSWER = "已约谈照料护理人，调整排班，自本周起每周上门两次，并补做了上门服务记录。"


def previous_month(day):
    return (day.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)


def test_provider_answers_a_rectification_notice_and_reads_its_settlement(demo, background, desk):
    page = desk
    today = timezone.localdate()
    month = previous_month(today)
    bureau = User.objects.get(username="bureau")
    staff = User.objects.get(username="provider")
    own = staff.provider
    other = Provider.objects.exclude(pk=own.pk).get()
    notice = supervision_actions.rectification_issue(
        actor=bureau,
        provider=own,
        town=User.objects.get(username="town").town,
        problem="电话回访发现部分服务对象本月上门次数不足，请核实原因并限期整改。",
        deadline=today + datetime.timedelta(days=7),
    )
    # last month settled the way `manage.py settle --month YYYY-MM --confirm` does it
    draft = settlement_compute(actor=bureau, month=month)
    undecided = list(draft.proposals.filter(status="proposed").values_list("pk", flat=True))
    if undecided:  # the month's evidence proposals, waived on the record as the bureau must before confirming
        proposals_decide(actor=bureau, settlement=draft, proposal_ids=undecided, accept=False, reason="已核实")
    settlement = settlement_confirm(actor=bureau, settlement=draft)
    mine = ProviderSettlement.objects.get(settlement=settlement, provider=own)
    theirs = ProviderSettlement.objects.get(settlement=settlement, provider=other)
    assert mine.gross > 0 and theirs.gross > 0

    sign_in(page, "provider")
    page.wait_for_selector("h1")
    shot(page, "provider-01-home")

    # the notice: the home page says one is waiting; find it, answer it
    page.get_by_role("link", name="整改通知（1件待答复）").click()
    page.wait_for_url("**/portal/supervision/rectifications/")
    row = page.get_by_role("row").filter(has_text=notice.number)
    assert "待整改" in row.inner_text()
    shot(page, "provider-02-notices")
    row.get_by_role("link", name=notice.number).click()
    page.wait_for_selector(f"h1:has-text('{notice.number}')")
    assert page.get_by_text("电话回访发现部分服务对象本月上门次数不足").count() == 1
    page.get_by_label("答复").fill(ANSWER)
    shot(page, "provider-03-notice-answer")
    page.get_by_role("button", name="提交整改情况").click()
    page.wait_for_selector("text=整改情况已提交，等待县民政局核查。")
    assert page.get_by_text("已反馈，待核查").count() == 1
    assert page.get_by_text(ANSWER).count() == 1
    assert page.get_by_role("button", name="提交整改情况").count() == 0
    shot(page, "provider-04-notice-answered")
    nav_to(page, "监管", "整改通知")
    assert "已反馈，待核查" in page.get_by_role("row").filter(has_text=notice.number).inner_text()
    page.get_by_role("link", name="首页").click()
    page.get_by_role("main").get_by_role("link", name="整改通知", exact=True).wait_for()

    notice.refresh_from_db()
    assert notice.status == RectificationStatus.ANSWERED
    assert (notice.answer, notice.answered_by) == (ANSWER, staff)
    assert RectificationNotice.objects.get(pk=notice.pk).answered_at is not None

    # the settlement: only their own provider's figures
    page.get_by_role("link", name="本机构结算").first.click()
    page.wait_for_url("**/portal/billing/")
    month_label = f"{month.year}年{month.month}月"
    page.get_by_role("link", name=month_label).wait_for()
    listing = page.content()
    assert other.name not in listing
    for amount in (theirs.gross, theirs.net, settlement.gross, settlement.net):
        assert format_yuan(amount) not in listing
    shot(page, "provider-05-settlements")

    page.get_by_role("link", name=month_label).click()
    page.wait_for_url(re.compile(rf".*/portal/billing/{settlement.pk}/$"))
    page.wait_for_selector(f"h1:has-text('{month_label}结算')")
    detail = page.content()
    assert own.name in detail and other.name not in detail
    for amount in (mine.gross, mine.deductions_applied, mine.net):
        assert format_yuan(amount) in detail
    assert re.search(r"¥\d{1,3}(,\d{3})*\.\d{2}", format_yuan(mine.gross))
    assert format_yuan(settlement.gross) not in detail and format_yuan(theirs.gross) not in detail
    assert f"/ {settlement.progress_total} 人" not in detail  # the county's head count is not theirs either
    provider_row = page.get_by_role("row").filter(has_text=own.name).first.inner_text()
    assert format_yuan(mine.gross) in provider_row and format_yuan(mine.net) in provider_row
    shot(page, "provider-06-settlement-detail")
