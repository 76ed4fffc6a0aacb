import datetime

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
