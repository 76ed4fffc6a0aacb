"""The top navigation in groups (档案 / 服务 / 监管 / 结算): every role keeps every link it had, sees only pages
it may open (the permission matrix's rules), and the groups are <details> disclosures that need no script."""

import pytest
from django.urls import resolve
from lxml import html

from tests.test_permission_matrix import LANDS, PAGES

pytestmark = pytest.mark.django_db

# role → (groups in order, every link in order as (group or None for a top-level link, text, href))
EXPECTED = {
    "bureau": (
        ["档案", "服务", "监管"],
        [
            (None, "首页", "/portal/"),
            ("档案", "特困人员", "/portal/recipients/"),
            ("档案", "待审定（评估、等级、退出）", "/portal/recipients/approvals/"),
            ("档案", "月度名单导入", "/portal/recipients/roster/"),
            ("档案", "四方协议", "/portal/contracts/agreements/"),
            ("服务", "服务监管", "/portal/services/dashboard/"),
            ("服务", "服务达标月报", "/portal/services/report/"),
            ("服务", "异常记录", "/portal/services/exceptions/"),
            ("服务", "定位特别设置", "/portal/services/gps-rules/"),
            ("服务", "确认码卡", "/portal/services/cards/"),
            ("监管", "考评提交情况", "/portal/supervision/evaluations/missing/"),
            ("监管", "问题查证", "/portal/supervision/problems/?status=reported"),
            ("监管", "抽查", "/portal/supervision/spot-checks/"),
            ("监管", "整改通知", "/portal/supervision/rectifications/"),
            ("监管", "投诉", "/portal/supervision/complaints/"),
            ("监管", "数据比对", "/portal/supervision/cross-check/"),
            ("监管", "半年评估", "/portal/supervision/reviews/"),
            ("监管", "合同终止", "/portal/supervision/termination/"),
            ("监管", "扣款更正", "/portal/supervision/deductions/"),
            (None, "结算", "/portal/billing/"),
            (None, "我的导出", "/portal/exports/"),
            (None, "后台管理", "/admin/"),
        ],
    ),
    "finance": (
        [],
        [
            (None, "首页", "/portal/"),
            (None, "结算", "/portal/billing/"),
            (None, "我的导出", "/portal/exports/"),
        ],
    ),
    "town": (
        ["档案", "服务", "监管"],
        [
            (None, "首页", "/portal/"),
            ("档案", "本镇特困人员", "/portal/recipients/"),
            ("档案", "我的报告", "/portal/recipients/reports/"),
            ("档案", "协议签订", "/portal/contracts/agreements/"),
            ("服务", "服务监管", "/portal/services/dashboard/"),
            ("服务", "服务达标月报", "/portal/services/report/"),
            ("服务", "异常记录", "/portal/services/exceptions/"),
            ("服务", "定位特别设置", "/portal/services/gps-rules/"),
            ("服务", "确认码卡", "/portal/services/cards/"),
            ("监管", "月度考评", "/portal/supervision/evaluations/"),
            ("监管", "报告严重问题", "/portal/supervision/problems/new/"),
            ("监管", "现场检查", "/portal/supervision/spot-checks/"),
            ("监管", "投诉", "/portal/supervision/complaints/"),
            (None, "我的导出", "/portal/exports/"),
        ],
    ),
    "provider": (
        ["档案", "服务", "监管"],
        [
            (None, "首页", "/portal/"),
            ("档案", "服务对象", "/portal/recipients/"),
            ("档案", "四方协议", "/portal/contracts/agreements/"),
            ("档案", "照料护理人", "/portal/contracts/caregivers/"),
            ("档案", "名单变动", "/portal/contracts/notices/"),
            ("服务", "服务监管", "/portal/services/dashboard/"),
            ("服务", "服务达标月报", "/portal/services/report/"),
            ("服务", "异常记录", "/portal/services/exceptions/"),
            ("服务", "月度服务计划", "/portal/services/plan/"),
            ("服务", "定位特别设置", "/portal/services/gps-rules/"),
            ("监管", "整改通知", "/portal/supervision/rectifications/"),
            ("监管", "投诉", "/portal/supervision/complaints/"),
            ("监管", "考评结果", "/portal/supervision/evaluations/"),
            (None, "本机构结算", "/portal/billing/"),
            (None, "我的导出", "/portal/exports/"),
        ],
    ),
    "caregiver": ([], [(None, "首页", "/portal/"), (None, "今日服务", "/portal/services/caregiver/")]),
}


def main_nav(client, path="/portal/"):
    page = html.fromstring(client.get(path, follow=True).content.decode())
    (nav,) = page.xpath("//nav[@aria-label='主导航']")
    return nav


def links_of(nav):
    def group(a):
        summary = a.xpath("ancestor::details[1]/summary")
        return summary[0].text_content().strip() if summary else None

    return [(group(a), a.text_content().strip(), a.get("href")) for a in nav.iter("a")]


@pytest.mark.parametrize("role", EXPECTED)
def test_each_role_keeps_its_links_in_groups(role, request, client_as):
    nav = main_nav(client_as(request.getfixturevalue(f"{role}_user")))
    groups, links = EXPECTED[role]
    assert [s.text_content().strip() for s in nav.xpath(".//details[@class='nav-group']/summary")] == groups
    assert links_of(nav) == links
    # a group is worth opening: more than one link in each
    for details in nav.xpath(".//details"):
        assert len(details.xpath(".//a")) > 1


@pytest.mark.parametrize("role", EXPECTED)
def test_every_link_is_a_page_the_role_may_open(role, request, client_as):
    client = client_as(request.getfixturevalue(f"{role}_user"))
    for _group, text, href in links_of(main_nav(client)):
        if href == "/admin/":
            assert role == "bureau"
            continue
        name = resolve(href.split("?")[0]).view_name
        assert role in PAGES[name] or (name, role) in LANDS, f"{role} is shown {text} ({name})"
        assert client.get(href, follow=True).status_code == 200, text


def test_the_group_of_the_page_shown_is_marked(client_as, bureau_user):
    nav = main_nav(client_as(bureau_user), "/portal/supervision/complaints/")
    assert [s.text for s in nav.xpath(".//details[contains(@class, 'current')]/summary")] == ["监管"]
