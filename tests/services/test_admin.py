import datetime
import re

import pytest

from services.models import RecipientGpsRule, ServiceStandard, VisitStatus
from tests.factories import RecipientFactory

from .factories import VisitFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "model", ["servicestandard", "recipientgpsrule", "visit", "visitcorrection", "plannedvisit", "visitflag"]
)
def test_changelists_open(admin_client, model):
    VisitFactory()
    assert admin_client.get(f"/admin/services/{model}/").status_code == 200


def test_bureau_edits_the_standard_in_the_admin(admin_client):
    response = admin_client.post(
        "/admin/services/servicestandard/add/",
        {
            "effective_month": "2026-01-01",
            "visits_self_care": 4,
            "visits_partial": 10,
            "visits_full": 20,
            "minimum_minutes": 40,
            "radius_m": 500,
            "late_logging_hours": 48,
            "plan_grace_minutes": 60,
            "overdue_days": 7,
            "confirmation_mode": "code",
            "note": "2026年标准",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert ServiceStandard.objects.get().visits_partial == 10


def test_gps_rule_added_and_approved_in_the_admin(admin_client):
    recipient = RecipientFactory()
    response = admin_client.post(
        "/admin/services/recipientgpsrule/add/",
        {"recipient": recipient.pk, "gps_exempt": "on", "radius_m": "", "reason": "住处无信号"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    rule = RecipientGpsRule.objects.get()
    admin_client.post("/admin/services/recipientgpsrule/", {"action": "approve", "_selected_action": [rule.pk]})
    rule.refresh_from_db()
    assert rule.status == "approved"


def test_admin_action_rejects_exceptions(admin_client):
    visit = VisitFactory(
        status=VisitStatus.EXCEPTION,
        exception_reasons=["too_far"],
        started_at=datetime.datetime(2025, 3, 3, 9, tzinfo=datetime.UTC),
    )
    admin_client.post("/admin/services/visit/", {"action": "reject", "_selected_action": [visit.pk]})
    visit.refresh_from_db()
    assert visit.status == "rejected"
    assert visit.review_reason == "后台批量驳回"


def test_the_visit_lists_date_bar_drills_down_by_the_calendar(admin_client):
    from tests.services.factories import local

    # given visits in two years
    old = VisitFactory(started_at=local(2024, 11, 2))
    new = VisitFactory(started_at=local(2025, 3, 3))
    url = "/admin/services/visit/"

    # then the bar offers every year since the first visit, every month of a year, every day of a month
    page = admin_client.get(url).content.decode()
    assert "?visit_date__year=2024" in page and "?visit_date__year=2025" in page
    page = admin_client.get(f"{url}?visit_date__year=2024").content.decode()
    assert re.findall(r"visit_date__month=(\d+)", page) == [str(m) for m in range(1, 13)]
    response = admin_client.get(f"{url}?visit_date__year=2025&visit_date__month=3")
    assert re.findall(r"visit_date__day=(\d+)", response.content.decode()) == [str(d) for d in range(1, 32)]
    assert list(response.context["cl"].result_list) == [new]
    response = admin_client.get(f"{url}?visit_date__year=2024&visit_date__month=11&visit_date__day=2")
    assert list(response.context["cl"].result_list) == [old]
