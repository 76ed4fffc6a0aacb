import datetime
from urllib.parse import quote

import pytest

from services.models import VisitStatus
from services.reports import compliance_rows, totals_of
from tests.excel import read_table
from tests.factories import AgreementFactory, RecipientFactory, VillageFactory, town

from .factories import VisitFactory, local

pytestmark = pytest.mark.django_db
MARCH = datetime.date(2025, 3, 1)


def _recipient_in(town_name, level="partial", **kw):
    return RecipientFactory(village=VillageFactory(town=town(town_name)), level=level, **kw)


@pytest.fixture
def march(provider):
    """燕塔: a 半失能 recipient with 6 visits (one rejected), a 失能 recipient who entered on 16 March, none.
    朝城: a 自理 recipient with 4 visits of 40 minutes."""
    yanta = AgreementFactory(provider=provider, recipient=_recipient_in("燕塔街道"))
    for day in range(1, 7):
        VisitFactory(agreement=yanta, started_at=local(2025, 3, day), minutes=50)
    VisitFactory(agreement=yanta, started_at=local(2025, 3, 9), status=VisitStatus.REJECTED, exception_reasons=["x"])
    late = AgreementFactory(
        provider=provider, recipient=_recipient_in("燕塔街道", "full", entry_date=datetime.date(2025, 3, 16))
    )
    chaocheng = AgreementFactory(recipient=_recipient_in("朝城镇", "self_care"))
    for day in range(1, 5):
        VisitFactory(agreement=chaocheng, started_at=local(2025, 3, day), minutes=40)
    return yanta, late, chaocheng


def test_per_recipient_rows(bureau_user, march):
    yanta, late, chaocheng = march
    rows = {row.key: row for row in compliance_rows(actor=bureau_user, month=MARCH)}
    assert (rows[yanta.pk].required_visits, rows[yanta.pk].visits, rows[yanta.pk].minutes) == (8, 6, 300)
    assert rows[yanta.pk].required_minutes == 8 * 30
    assert rows[yanta.pk].compliance_percent == "75.0%"
    assert rows[yanta.pk].id_number_masked.count("*") == 10
    # 16 of 31 days at 16 a month: 8.26 → 8
    assert (rows[late.pk].days, rows[late.pk].required_visits, rows[late.pk].visits) == (16, 8, 0)
    assert rows[chaocheng.pk].compliance_percent == "100.0%"


def test_town_rows_add_up(bureau_user, march):
    rows = {row.label: row for row in compliance_rows(actor=bureau_user, month=MARCH, group="town")}
    assert (rows["燕塔街道"].recipients, rows["燕塔街道"].required_visits, rows["燕塔街道"].visits) == (2, 16, 6)
    assert rows["燕塔街道"].compliance_percent == "37.5%"
    total = totals_of(rows.values())
    assert (total.required_visits, total.visits, total.met_visits) == (20, 10, 10)


def test_a_town_sees_only_its_rows(town_user, march):
    rows = compliance_rows(actor=town_user, month=MARCH, group="provider")
    assert [row.recipients for row in rows] == [2]
    assert {row.town for row in compliance_rows(actor=town_user, month=MARCH)} == {"燕塔街道"}


def test_report_page_and_export(client_as, bureau_user, march, exported):
    client = client_as(bureau_user)
    page = client.get("/portal/services/report/?month=2025-03&group=town")
    assert page.status_code == 200
    assert "37.5%" in page.content.decode()
    assert 'action="/portal/services/report/export/"' in page.content.decode()
    export = exported(client, "/portal/services/report/export/", {"month": "2025-03", "group": "recipient"})
    assert quote("2025年03月服务达标月报_按服务对象.xlsx") in export.response["Content-Disposition"]
    table = read_table(export.content)
    assert table.header[:4] == ("镇（街道）", "村（居）委会", "服务对象", "身份证号")
    assert "应上门次数" in table.header
    id_numbers = [r[3] for r in table.body]
    assert len(id_numbers) == 3 and all("**********" in n for n in id_numbers)
    assert table.total[0] == "合计"


@pytest.mark.parametrize("group", ["recipient", "caregiver", "provider", "town"])
def test_report_page_query_count_is_fixed(client_as, bureau_user, march, assert_fixed_queries, group):
    def add_rows():
        for _ in range(5):
            VisitFactory(agreement=AgreementFactory(recipient=_recipient_in("朝城镇")), started_at=local(2025, 3, 2))

    client = client_as(bureau_user)
    assert_fixed_queries(lambda: client.get(f"/portal/services/report/?month=2025-03&group={group}"), add_rows)


def test_report_is_not_for_finance_or_caregivers(client_as, finance_user, caregiver_user):
    assert client_as(finance_user).get("/portal/services/report/").status_code == 403
    assert client_as(caregiver_user).get("/portal/services/report/").status_code == 403


def test_export_is_recorded_as_a_security_event(client_as, bureau_user, march, exported):
    from shenxian_care.models import SecurityEvent

    exported(client_as(bureau_user), "/portal/services/report/export/", {"month": "2025-03", "group": "recipient"})
    event = SecurityEvent.objects.get(user=bureau_user, kind="export")
    assert event.detail["what"] == "服务达标月报"
    assert event.detail["summary"]["rows"] == 3
    # the filters the file was built with stay in the trail after the job itself is cleaned up
    assert (event.detail["params"]["month"], event.detail["params"]["group"]) == ("2025-03-01", "recipient")


def test_a_town_exports_only_its_own_rows(client_as, town_user, march, exported):
    # the town's filter of another town is not one it may choose: ignored, and the export is still its own
    asked = {"month": "2025-03", "group": "recipient", "town": str(town("朝城镇").pk)}
    export = exported(client_as(town_user), "/portal/services/report/export/", asked)
    assert export.job.params == {"month": "2025-03-01", "group": "recipient", "filters": {}}
    assert {r[0] for r in read_table(export.content).body} == {"燕塔街道"}


def test_the_export_is_started_by_a_post_only(client_as, bureau_user, caregiver_user):
    assert client_as(bureau_user).get("/portal/services/report/export/").status_code == 405
    assert client_as(caregiver_user).post("/portal/services/report/export/").status_code == 403


def test_every_group_is_the_sum_of_its_recipients_rows_named_and_ordered(bureau_user):
    from tests.factories import CaregiverFactory, ProviderFactory

    # given two providers (乙 named after 甲 in the alphabet of names) in two towns, one caregiver working in both
    first, second = ProviderFactory(name="甲服务中心"), ProviderFactory(name="乙服务中心")
    busy = CaregiverFactory(provider=first, name="忙护理")
    quiet = CaregiverFactory(provider=second, name="静护理")
    yanta, chaocheng = town("燕塔街道"), town("朝城镇")
    made = [
        AgreementFactory(provider=first, caregiver=busy, recipient=_recipient_in("朝城镇", "full")),
        AgreementFactory(provider=first, caregiver=busy, recipient=_recipient_in("燕塔街道", "self_care")),
        AgreementFactory(provider=second, caregiver=quiet, recipient=_recipient_in("燕塔街道", "partial")),
        AgreementFactory(
            provider=second,
            caregiver=quiet,
            recipient=_recipient_in("朝城镇", "partial", entry_date=datetime.date(2025, 3, 11)),
        ),
    ]
    for i, agreement in enumerate(made):
        for day in range(1, 3 + 3 * i):
            VisitFactory(agreement=agreement, started_at=local(2025, 3, 10 + day), minutes=35 + i)

    people = compliance_rows(actor=bureau_user, month=MARCH)
    figures = ("recipients", "days", "required_visits", "required_minutes", "visits", "minutes", "met_visits")

    def summed(key):
        sums = {}
        for row in people:
            target = sums.setdefault(row.extra[key], dict.fromkeys(figures, 0))
            for name in figures:
                target[name] += getattr(row, name)
        return sums

    for group, key in (("town", "town_id"), ("provider", "provider_id"), ("caregiver", "caregiver_id")):
        rows = compliance_rows(actor=bureau_user, month=MARCH, group=group)
        assert {row.key: {name: getattr(row, name) for name in figures} for row in rows} == summed(key), group
    # the town nearer the county seat first; 21 days of 朝城's late entrant: 8 × 21 ÷ 31 = 5.42 → 5 required
    towns = compliance_rows(actor=bureau_user, month=MARCH, group="town")
    in_order = sorted((yanta, chaocheng), key=lambda t: (t.sort_order, t.pk))
    assert [row.label for row in towns] == [t.name for t in in_order]
    assert [row.town for row in towns] == [t.name for t in in_order]
    late = next(row for row in people if row.days == 21)
    assert (late.required_visits, late.level) == (5, "partial")
    # providers by name
    assert [row.label for row in compliance_rows(actor=bureau_user, month=MARCH, group="provider")] == sorted(
        ["甲服务中心", "乙服务中心"]
    )
    # caregivers under their first town's order, each named with their provider
    caregivers = compliance_rows(actor=bureau_user, month=MARCH, group="caregiver")
    assert {(row.label, row.provider, row.town) for row in caregivers} == {
        ("忙护理", "甲服务中心", in_order[0].name),
        ("静护理", "乙服务中心", in_order[0].name),
    }
    assert [row.label for row in caregivers] == sorted(["忙护理", "静护理"])
