"""Journey 1, the bureau at a desk: sign in → import the month's roster (see the diff, apply) → approve a
level change → the dashboard → draw a spot check → confirm the month's settlement → export the Excel in the
background (a result page with progress, then the download)."""

import datetime
import io
import time
import uuid
from decimal import Decimal

import pytest
from django.utils import timezone
from openpyxl import Workbook

from contracts.models import Agreement
from recipients.actions import assessment_create
from recipients.imports import COLUMNS
from recipients.models import Assessment, LevelApproval, MonthlyRoster, Recipient, Village
from services.actions import visit_check_in, visit_check_out
from shenxian_care.models import ExportJob, SecurityEvent, User
from tests.excel import read_table
from tests.factories import make_id_number

from .conftest import nav_to, shot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LABELS = {"self_care": "自理", "partial": "半失能", "full": "失能"}
# a Chart.js chart on the canvas the selector names, with at least one bar
CHART_HAS_DATA = """selector => {
  const canvas = document.querySelector(selector);
  const chart = canvas && window.Chart && Chart.getChart(canvas);
  return Boolean(chart && chart.data.datasets[0].data.length > 0 && canvas.width > 0);
}"""


def this_month_roster_file():
    """This month's list: last month's people, one newcomer, and one whose level got worse."""
    from recipients.selectors import levels_on

    month = timezone.localdate().replace(day=1)
    people = list(Recipient.objects.in_support_on(month).select_related("town", "village").order_by("pk"))
    levels = levels_on([p.pk for p in people], month)
    wb = Workbook()
    ws = wb.active
    ws.append(COLUMNS)
    for i, person in enumerate(people):
        level = "失能" if i == 2 else LABELS[levels[person.pk]]
        ws.append(
            [person.name, person.id_number, person.town.name, person.village.name, level,
             person.entry_date.isoformat(), None, person.guardian_name or None, None, person.phone, person.address]
        )  # fmt: skip
    # the newcomer lives in a village the registry has (an unknown one would need the bureau's confirmation)
    village = Village.objects.filter(town__name="燕塔街道").order_by("pk").first().name
    ws.append(["新纳入", make_id_number(), "燕塔街道", village, "半失能", month.isoformat(), None, None, None,
               "13500000000", f"燕塔街道{village}1号"])  # fmt: skip
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue(), people[2]


def test_bureau_imports_the_roster_and_approves_a_level_change(demo, background, desk, tmp_path):
    page = desk
    content, worse = this_month_roster_file()
    roster_file = tmp_path / "roster-this-month.xlsx"
    roster_file.write_bytes(content)
    town_official = User.objects.get(username="town")
    reported = Recipient.objects.filter(town=town_official.town).order_by("pk").first()
    assessment_create(
        actor=town_official,
        recipient=reported,
        assessed_on=timezone.localdate(),
        answers={f: i >= 4 for i, (f, _) in enumerate(Assessment.INDICATORS)},
    )

    sign_in(page, "bureau")
    shot(page, "bureau-01-home")

    # the top navigation is in groups: Enter opens one, Tab reaches its links, Escape closes it again
    nav = page.get_by_role("navigation", name="主导航")
    nav.locator("summary", has_text="监管").focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "考评提交情况"
    shot(page, "bureau-01b-nav-group")
    page.keyboard.press("Escape")
    assert not nav.get_by_role("link", name="考评提交情况").is_visible()
    assert page.evaluate("document.activeElement.textContent") == "监管"

    # import the roster: the diff first, then apply
    nav_to(page, "档案", "月度名单导入")
    page.fill("#id_month", f"{timezone.localdate():%Y-%m}")
    page.set_input_files("#id_file", str(roster_file))
    page.click("text=上传并检查")
    # the check runs in the background: a progress bar, then the diff
    try:
        page.wait_for_selector("button:has-text('确认导入')")
    finally:
        shot(page, "bureau-02a-after-upload")
    assert page.locator("h2:has-text('新增（1）')").count() == 1
    # the roster's level differs from the approved one: a conflict for the bureau, never a re-approval
    assert page.locator("h2:has-text('等级冲突（1）')").count() == 1
    shot(page, "bureau-02-roster-diff")
    page.click("text=确认导入")
    page.wait_for_selector("text=名单已导入")
    assert MonthlyRoster.objects.filter(status="applied").count() == 3
    assert not LevelApproval.objects.filter(recipient=worse, level="full").exists()

    # approve the town's reported change in the admin
    page.goto(page.base + "/admin/recipients/assessment/")
    page.check(f"input[name=_selected_action][value='{Assessment.objects.get().pk}']")
    page.select_option("select[name=action]", "approve_from_next_month")
    page.click("button[name=index]")
    page.wait_for_selector("text=已审定")
    shot(page, "bureau-03-level-approved")
    assert Assessment.objects.get().status == "approved"


def a_caregiver_visits(*, finish):
    """The demo caregiver visits their first recipient: starts a while ago (never before local midnight) and, with
    `finish`, checks out (never in the future); otherwise the visit is still in progress."""
    user = User.objects.get(username="caregiver")
    agreement = (
        Agreement.objects.filter(caregiver=user.caregiver, recipient__exit_date__isnull=True).order_by("pk").first()
    )
    now = timezone.localtime()
    started = max(now - datetime.timedelta(minutes=50), now.replace(hour=0, minute=0, second=0, microsecond=0))
    visit, _ = visit_check_in(
        actor=user, client_id=uuid.uuid4(), recipient_id=agreement.recipient_id, started_at=started
    )
    if finish:
        ended = min(started + datetime.timedelta(minutes=35), now)
        visit_check_out(actor=user, visit_client_id=visit.client_id, ended_at=ended, service_items=["daily_cleaning"])


def test_a_dear_dashboard_shows_the_rest_at_once_and_its_month_as_soon_as_a_worker_has_computed_it(
    daytime, demo, desk, settings, monkeypatch
):
    """A city's or province's view no one had open (its last computation known to be dear) is queued for a worker:
    the page shows the live part at once, the month's figures as being computed, and picks them up by itself within
    seconds of the worker's computation."""
    from django.core.cache import cache

    from services import monitoring, tasks

    settings.DASHBOARD_MONTH_SECONDS = 60
    cache.clear()
    queued = []
    monkeypatch.setattr(tasks.dashboard_view_task, "delay", lambda *args: queued.append(args))
    bureau = User.objects.get(username="bureau")
    month = timezone.localdate().replace(day=1)
    cache.set(monitoring._cost_key(bureau, {}, month), 12.0, 3600)  # it took 12 s last time
    a_caregiver_visits(finish=True)

    page = desk
    sign_in(page, "bureau")
    page.goto(page.base + "/portal/services/dashboard/")
    page.wait_for_function(CHART_HAS_DATA, arg="#fig-today-by-town canvas", polling=100)
    assert page.locator("#dash-month-time").text_content() == "计算中…"
    assert page.locator("#dash-kpis .card", has_text="累计上门").locator(".value").text_content() == "计算中…"
    assert queued == [(bureau.pk, 0, 0, month.isoformat())]

    # the worker computes it; the page asks again within seconds and shows the month
    assert tasks.dashboard_view_task.run(*queued[0]) is True
    page.wait_for_function(
        "() => document.getElementById('dash-month-time').textContent.trim() !== '计算中…'", polling=200, timeout=10_000
    )
    assert page.locator("#dash-kpis .card", has_text="累计上门").locator(".value").text_content() == "1"
    assert "燕塔街道" in page.locator("#dashboard").text_content()
    cache.clear()


def last_month():
    return (timezone.localdate().replace(day=1) - datetime.timedelta(days=1)).replace(day=1)


def test_bureau_watches_draws_a_spot_check_confirms_the_month_and_downloads(daytime, demo, background, desk, tmp_path):

    from billing.models import Settlement
    from supervision.models import SpotCheckDraw

    page = desk
    sign_in(page, "bureau")

    # the dashboard: live figures by town and provider, as charts over tables of the same figures
    a_caregiver_visits(finish=True)
    page.clock.install()  # the 30-second refresh, below, without waiting 30 seconds
    page.goto(page.base + "/portal/services/dashboard/")
    page.wait_for_function(CHART_HAS_DATA, arg="#fig-today-by-town canvas", polling=100)
    page.wait_for_function(CHART_HAS_DATA, arg="#fig-provider-compliance canvas", polling=100)
    assert "燕塔街道" in page.content()
    assert page.locator("#fig-today-by-town canvas[role=img][aria-label]").is_visible()
    shot(page, "bureau-04-dashboard")
    # the caregiver starts the next visit; the next refresh brings it into the same chart, not a new one
    page.evaluate("window.firstChart = Chart.getChart(document.querySelector('#fig-today-by-town canvas'))")
    a_caregiver_visits(finish=False)
    page.clock.run_for(31_000)
    page.wait_for_function(
        """() => {
          const chart = Chart.getChart(document.querySelector('#fig-today-by-town canvas'));
          return chart === window.firstChart && chart.data.datasets[0].data.reduce((a, b) => a + b, 0) === 2;
        }""",
        polling=100,
    )

    # a reproducible spot check of five recipients across the county
    page.goto(page.base + "/portal/supervision/spot-checks/draw/")
    page.fill("#id_size", "5")
    page.fill("#id_seed", "20261128")
    page.click("button:has-text('抽样')")
    page.wait_for_url("**/spot-checks/draws/**")
    draw = SpotCheckDraw.objects.get()
    assert draw.seed == 20261128 and len(draw.sample) == 5
    shot(page, "bureau-05-spot-check-draw")

    # last month's settlement: computed in the background with progress, then confirmed
    month = last_month()
    page.goto(page.base + "/portal/billing/")
    page.fill("#id_month", f"{month:%Y-%m}")
    page.click("button:has-text('计算结算草稿')")
    page.wait_for_selector("text=已开始计算")
    # the worker creates the month's row when it starts computing
    deadline = time.monotonic() + 120
    while not Settlement.objects.filter(month=month).exists() and time.monotonic() < deadline:
        time.sleep(0.5)
    settlement = Settlement.objects.get(month=month)
    page.goto(page.base + f"/portal/billing/{settlement.pk}/")
    page.wait_for_selector("button:has-text('确认并冻结')", timeout=120_000)
    # spend by care level: a chart whose tooltips read the money as the table does (¥1,234.56)
    page.wait_for_function(CHART_HAS_DATA, arg="#fig-levels canvas")
    tooltips = page.evaluate(
        """() => {
          const chart = Chart.getChart(document.querySelector('#fig-levels canvas'));
          const label = chart.options.plugins.tooltip.callbacks.label;
          return chart.data.datasets[0].data.map((raw, dataIndex) => label({ raw, dataIndex }));
        }"""
    )
    rows = page.locator("#fig-levels tbody tr").all()
    assert tooltips == [
        f"{row.locator('td').nth(2).inner_text()}（{row.locator('td').nth(1).inner_text()}人）" for row in rows
    ]
    assert any(tooltip.startswith("¥") and "," in tooltip for tooltip in tooltips)
    shot(page, "bureau-06-settlement-draft")
    # 确认并冻结 asks first (portal/confirm.js, data-confirm): cancelling sends nothing
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    page.click("button:has-text('确认并冻结')")
    page.wait_for_timeout(500)
    assert asked == ["确认后本月结算冻结，不能再修改。确定确认？"]
    settlement.refresh_from_db()
    assert settlement.status == "draft"
    # deductions the month's evidence proposes are decided first, here waived with a reason on the record
    if settlement.proposals.filter(status="proposed").exists():
        page.click("text=去决定")
        for box in page.locator("input[name=ids]").all():
            box.check()
        page.fill("input[name=reason]", "已电话核实，缺少的上门已补登")
        page.click("button:has-text('免予扣款所选')")
        page.wait_for_selector("text=免予扣款。")
        shot(page, "bureau-06b-proposals-waived")
        page.goto(page.base + f"/portal/billing/{settlement.pk}/")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button:has-text('确认并冻结')")
    page.wait_for_selector("text=已确认")
    settlement.refresh_from_db()
    assert settlement.status == "confirmed" and settlement.net > 0
    shot(page, "bureau-07-settlement-confirmed")

    # the Excel exports for the finance bureau: built in the background, the result page shows its progress
    # and then the download link (never a page frozen while the workbook is written)
    page.click("button:has-text('导出全部（Excel）')")
    page.wait_for_url("**/portal/exports/*/")
    shot(page, "bureau-08-export-result")
    link = page.get_by_role("link", name=f"下载 {month:%Y年%m月}结算.xlsx")
    link.wait_for(timeout=120_000)
    shot(page, "bureau-09-export-ready")
    with page.expect_download() as download_info:
        link.click()
    assert download_info.value.suggested_filename == f"{month:%Y年%m月}结算.xlsx"
    path = tmp_path / "settlement.xlsx"
    download_info.value.save_as(path)
    job = ExportJob.objects.get()
    assert (job.requested_by.username, job.status) == ("bureau", "done")
    assert SecurityEvent.objects.filter(kind="export", user=job.requested_by, detail__job=job.pk).exists()
    detail = read_table(path.read_bytes())  # under its title rows, above its sign-off lines
    assert {"姓名", "身份证号", "镇(街道)", "自理能力", "天数", "标准(元/月)", "金额(元)"} <= set(detail.header)
    assert detail.total[0] == "合计"
    assert isinstance(detail.total[-1], float | int)  # numbers as numbers
    assert Decimal(str(detail.total[-1])) == settlement.gross  # the total row is the month's gross
    assert all("*" in str(row[2]) for row in detail.body)  # ID numbers masked
