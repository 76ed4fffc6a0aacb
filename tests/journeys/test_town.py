"""Journey 2, a town official at an office PC: sign in → sees only their own town → fills and submits the
monthly evaluation (考评) of the provider serving the town → reports a serious quality problem with a photo."""

import datetime
import re
from decimal import Decimal

import pytest
from django.utils import timezone
from PIL import Image, ImageDraw

from contracts.models import Provider
from recipients.models import Recipient
from shenxian_care.models import User
from supervision.models import Evaluation, EvaluationStatus, ProblemStatus, SeriousProblemReport

from .conftest import nav_to, shot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


SCORES = {"A1": "28", "A2": "27", "A3": "18", "A4": "9", "A5": "10"}


def previous_month(day):
    return (day.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)


def site_photo(path):
    """A small real JPEG, as a phone camera would send."""
    image = Image.new("RGB", (320, 240), (200, 190, 170))
    ImageDraw.Draw(image).rectangle((40, 60, 280, 200), fill=(90, 80, 70))
    image.save(path, "JPEG", quality=85)
    return path


def test_town_official_evaluates_the_month_and_reports_a_serious_problem(demo, background, desk, tmp_path):
    page = desk
    official = User.objects.get(username="town")
    town = official.town
    assert town.name == "燕塔街道"
    provider = Provider.objects.get(name="莘县康乐养老服务中心")
    elsewhere = Recipient.objects.exclude(town=town).order_by("pk").first()
    month = previous_month(timezone.localdate())

    sign_in(page, "town")
    page.wait_for_selector("h1")
    shot(page, "town-01-home")

    # only their own town: the recipient list, and another town's recipient is not found
    nav_to(page, "档案", "本镇特困人员")
    page.wait_for_selector("h1:has-text('燕塔街道')")
    towns_shown = page.locator("tbody tr td:nth-child(4)").all_inner_texts()
    own = Recipient.objects.in_support_on(timezone.localdate()).filter(town=town).count()
    assert own > 0 and len(towns_shown) == own
    assert page.get_by_text(f"共 {own} 人").count() == 1
    assert set(towns_shown) == {"燕塔街道"}
    assert elsewhere.name not in page.locator("tbody").inner_text()
    shot(page, "town-02-own-recipients")
    response = page.goto(f"{page.base}/portal/recipients/{elsewhere.pk}/")
    assert response.status == 404
    assert elsewhere.name not in page.content()
    shot(page, "town-03-other-town-404")

    # the monthly evaluation of the provider serving the town: start, score, submit (then locked)
    page.goto(page.base + "/portal/")
    nav_to(page, "监管", "月度考评")
    page.wait_for_url("**/portal/supervision/evaluations/")
    page.get_by_label("服务机构").select_option(label=provider.name)
    assert page.get_by_label("考评月份").input_value() == f"{month:%Y-%m}"
    shot(page, "town-04-evaluation-list")
    page.get_by_role("button", name="开始 / 继续考评").click()
    page.wait_for_url(re.compile(r".*/portal/supervision/evaluations/\d+/$"))
    page.wait_for_selector(f"h1:has-text('{month.year}年{month.month}月')")
    for code, score in SCORES.items():
        page.get_by_role("spinbutton", name=re.compile(f"^{code} ")).fill(score)
    # every point taken off needs its reason (扣分说明); A5 has full marks and needs none
    for code, note in {
        "A1": "个别对象上门次数不足",
        "A2": "两户卫生打扫不彻底",
        "A3": "一名照料护理人未按时提交记录",
        "A4": "电话回访一户反映态度生硬",
    }.items():
        page.get_by_label(f"{code} 扣分说明").fill(note)
    page.get_by_label("总体评价").fill("本月服务总体到位，个别对象上门次数偏少，已当面提醒。")
    shot(page, "town-05-evaluation-form")
    page.get_by_role("button", name="提交（提交后锁定）").click()
    page.wait_for_selector("text=考评已提交，已锁定。")
    assert page.get_by_role("button", name="提交（提交后锁定）").count() == 0
    shot(page, "town-06-evaluation-submitted")

    evaluation = Evaluation.objects.get(town=town, provider=provider, month=month)
    assert evaluation.status == EvaluationStatus.SUBMITTED and evaluation.is_locked
    assert evaluation.submitted_by == official and evaluation.submitted_at is not None
    assert {s.item.code: s.score for s in evaluation.scores.select_related("item")} == {
        code: Decimal(score) for code, score in SCORES.items()
    }
    assert str(evaluation.total_score) == "92.00"  # weights 30/30/20/10/10 = 100: 28 + 27 + 18 + 9 + 10
    assert page.locator("text=92.00").count() >= 1

    # a serious quality problem, at once, with a photo from the site
    photo = site_photo(tmp_path / "site-photo.jpg")
    victim = Recipient.objects.filter(town=town).order_by("pk").first()
    nav_to(page, "监管", "报告严重问题")
    page.wait_for_url("**/portal/supervision/problems/new/")
    page.get_by_label("服务机构").select_option(label=provider.name)
    page.get_by_label("问题类别").select_option(label="服务质量问题")
    page.get_by_label("发生日期").fill(f"{timezone.localdate():%Y-%m-%d}")
    page.get_by_label(re.compile("涉及特困人员")).select_option(value=str(victim.pk))
    page.get_by_label("问题及证据说明").fill("照料护理人连续两周未上门，老人卧床无人照料，屋内卫生很差。")
    page.get_by_label(re.compile("现场照片")).set_input_files(str(photo))
    shot(page, "town-07-problem-form")
    page.get_by_role("button", name="报告县民政局").click()
    page.wait_for_selector("text=已报告县民政局，等待查证。")
    page.wait_for_selector("img[alt^='现场照片']")
    # the photo is really shown (served through the report's scope), not a broken image
    page.wait_for_function("() => document.querySelector(\"img[alt^='现场照片']\").naturalWidth === 320")
    shot(page, "town-08-problem-reported")

    report = SeriousProblemReport.objects.get()
    assert (report.town, report.provider, report.recipient) == (town, provider, victim)
    assert report.status == ProblemStatus.REPORTED and report.reported_by == official
    assert report.contract is not None
    photos = list(report.photos.all())
    assert len(photos) == 1
    with photos[0].image.open("rb") as stored, Image.open(stored) as image:
        assert (image.format, image.size) == ("JPEG", (320, 240))
