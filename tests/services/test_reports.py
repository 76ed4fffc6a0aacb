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
