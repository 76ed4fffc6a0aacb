"""截至今日: the current month's figures are judged against what is due by today, not the whole month (issue 14).

The rule is `services.selectors.due_through`; the worked examples are its docstring's, with domain.md's placeholder
standard (4 / 8 / 16 visits a month for 自理 / 半失能 / 失能) in December 2026 (31 days)."""

import datetime

import pytest
import time_machine

from services.exports import compliance_workbook
from services.reports import compliance_rows, totals_of
from services.selectors import due_through, judged_to_date, required_from_days
from tests.excel import read_table
from tests.factories import AgreementFactory, RecipientFactory

from .factories import VisitFactory, local

DECEMBER = datetime.date(2026, 12, 1)
NOVEMBER = datetime.date(2026, 11, 1)
JANUARY = datetime.date(2027, 1, 1)
SECOND = datetime.date(2026, 12, 2)
SIXTEENTH = datetime.date(2026, 12, 16)


def test_the_current_month_is_due_through_today_an_ended_month_whole_and_a_month_to_come_not_at_all():
    assert due_through(DECEMBER, SECOND) == SECOND
    assert due_through(DECEMBER, datetime.date(2026, 12, 31)) == datetime.date(2026, 12, 31)
    assert due_through(NOVEMBER, SECOND) == datetime.date(2026, 11, 30)
    assert due_through(JANUARY, SECOND) == datetime.date(2026, 12, 31)  # no day of January: nothing due
    assert judged_to_date(DECEMBER, SECOND) and judged_to_date(JANUARY, SECOND)
    assert not judged_to_date(NOVEMBER, SECOND)
    assert not judged_to_date(DECEMBER, datetime.date(2026, 12, 31))  # the last day judges the whole month


@pytest.mark.parametrize(
    ("today", "due"),
    [
        (SECOND, (0, 1, 1)),  # 4 × 2 ÷ 31 = 0.26, 8 × 2 ÷ 31 = 0.52, 16 × 2 ÷ 31 = 1.03
        (SIXTEENTH, (2, 4, 8)),  # 2.06, 4.13, 8.26
        (datetime.date(2027, 1, 5), (4, 8, 16)),  # December has ended: the whole month
    ],
)
def test_the_docstrings_worked_example(today, due):
    days = (due_through(DECEMBER, today) - DECEMBER).days + 1
    assert tuple(required_from_days(n, days, 31) for n in (4, 8, 16)) == due


@pytest.fixture
def december(db, provider):
    """Three recipients served since before December, one of each level; the 失能 one visited on 1 December, the
    半失能 one on 1 and 2 December; and a 失能 recipient who left support on 10 November (only in November)."""
    rows = {}
    for level in ("self_care", "partial", "full"):
        rows[level] = AgreementFactory(provider=provider, recipient=RecipientFactory(level=level))
    VisitFactory(agreement=rows["full"], started_at=local(2026, 12, 1, 9), minutes=40)
    VisitFactory(agreement=rows["partial"], started_at=local(2026, 12, 1, 14), minutes=40)
    VisitFactory(agreement=rows["partial"], started_at=local(2026, 12, 2, 8), minutes=40)
    for day in range(2, 30, 2):  # 14 visits in November to the 失能 one
        VisitFactory(agreement=rows["full"], started_at=local(2026, 11, day, 9), minutes=40)
    return rows


def test_the_report_of_the_current_month_counts_the_visits_due_by_today(bureau_user, december):
    # when December is judged on 2 December
    rows = {r.key: r for r in compliance_rows(actor=bureau_user, month=DECEMBER, today=SECOND)}

    # then each recipient owes two days' share of the month: 0, 1 and 1 visits
    figures = {level: (rows[a.pk].days, rows[a.pk].required_visits, rows[a.pk].visits) for level, a in december.items()}
    assert figures == {"self_care": (2, 0, 0), "partial": (2, 1, 2), "full": (2, 1, 1)}
    assert [rows[december[level].pk].compliance_percent for level in ("self_care", "partial", "full")] == [
        "100.0%",
        "100.0%",
        "100.0%",
    ]
    assert rows[december["full"].pk].required_minutes == 30  # one visit due × the standard's 30 minutes

    # and on the 16th the same visits are short: 2 + 4 + 8 due, 0 + 2 + 1 met
    total = totals_of(compliance_rows(actor=bureau_user, month=DECEMBER, group="provider", today=SIXTEENTH))
    assert (total.required_visits, total.visits, total.met_visits, total.shortfall) == (14, 3, 3, 11)
    assert total.compliance_percent == "21.4%"


def test_an_ended_month_is_judged_whole_whatever_the_day(bureau_user, december):
    rows = {r.key: r for r in compliance_rows(actor=bureau_user, month=NOVEMBER, today=SECOND)}
    full = rows[december["full"].pk]
    assert (full.days, full.required_visits, full.visits, full.met_visits) == (30, 16, 14, 14)
    assert full.compliance_percent == "87.5%"
    # the same as judged a year later
    later = {r.key: r for r in compliance_rows(actor=bureau_user, month=NOVEMBER, today=datetime.date(2027, 12, 1))}
    assert [(r.required_visits, r.met_visits) for r in rows.values()] == [
        (r.required_visits, r.met_visits) for r in later.values()
    ]


def test_a_month_to_come_has_nothing_due_yet(bureau_user, december):
    rows = compliance_rows(actor=bureau_user, month=JANUARY, today=SECOND)
    assert [(r.days, r.required_visits) for r in rows] == [(0, 0)] * 3


@time_machine.travel(local(2026, 12, 2, 10), tick=False)
def test_the_report_page_says_so_and_uses_todays_date(client_as, bureau_user, december):
    client = client_as(bureau_user)
    page = client.get("/portal/services/report/?month=2026-12&group=provider").content.decode()
    assert "截至今日" in page and "12月2日" in page
    # 0 + 1 + 1 due, all met: the month's 28 visits due would have said 10.7%
    assert "100.0%" in page and "10.7%" not in page
    november = client.get("/portal/services/report/?month=2026-11&group=provider").content.decode()
    assert "截至今日" not in november
    january = client.get("/portal/services/report/?month=2027-01&group=provider").content.decode()
    assert "该月尚未开始，截至今日暂无应上门次数。" in january


@time_machine.travel(local(2026, 12, 2, 10), tick=False)
def test_the_dashboard_and_its_json_judge_this_month_to_date(client_as, bureau_user, december):
    client = client_as(bureau_user)
    data = client.get("/portal/services/dashboard.json").json()
    assert (data["due_through"], data["to_date"]) == ("2026-12-02", True)
    assert data["compliance_title"] == "服务机构本月达标率（截至今日）"
    [row] = data["provider_compliance"]
    assert (row["required"], row["visits"], row["met"], row["percent"]) == (2, 3, 2, "100.0%")
    assert "服务机构本月达标率（截至今日）" in client.get("/portal/services/dashboard/").content.decode()

    # last month, looked at on the same day, is the whole month: 4 + 8 + 16 due (the 失能 one's 14 visits met 14)
    data = client.get("/portal/services/dashboard.json?month=2026-11").json()
    assert (data["due_through"], data["to_date"]) == ("2026-11-30", False)
    assert data["compliance_title"] == "服务机构2026年11月达标率"
    [row] = data["provider_compliance"]
    assert (row["required"], row["met"]) == (28, 14)


@time_machine.travel(local(2026, 12, 2, 10), tick=False)
def test_the_export_of_the_current_month_is_titled_to_date(client_as, bureau_user, december, exported):
    export = exported(client_as(bureau_user), "/portal/services/report/export/", {"month": "2026-12", "group": "town"})
    table = read_table(export.content)
    assert "截至2026年12月02日" in table.titles[0][0]
    assert table.total[2] == 2  # 应上门次数: 0 + 1 + 1


def test_an_ended_months_workbook_has_no_to_date_title():
    workbook = compliance_workbook([], month=NOVEMBER, group="town")
    assert "截至" not in read_table(workbook).titles[0][0]
