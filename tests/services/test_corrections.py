import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from services import actions
from services.models import CorrectionStatus, PlannedVisit, RecipientGpsRule, VisitCorrection, VisitStatus
from shenxian_care.exceptions import ApplicationError
from tests.factories import AgreementFactory, RecipientFactory, VillageFactory, town

from .factories import VisitFactory, local

pytestmark = pytest.mark.django_db


@pytest.fixture
def visit(provider):
    return VisitFactory(agreement=AgreementFactory(provider=provider), started_at=local(2025, 3, 3, 9), minutes=45)


def test_items_and_note_are_corrected_at_once_and_kept(provider_user, visit):
    correction = actions.visit_correct(
        actor=provider_user, visit=visit, reason_code="wrong_items", changes={"service_items": ["daily_care"]}
    )
    visit.refresh_from_db()
    assert correction.status == CorrectionStatus.APPLIED
    assert visit.service_items == ["daily_care"]
    assert correction.before == {"service_items": ["daily_cleaning"]}
    assert correction.after == {"service_items": ["daily_care"]}
    assert correction.requested_by == provider_user


def test_times_wait_for_the_bureau_and_are_verified_again(provider_user, bureau_user, visit):
    new_end = local(2025, 3, 3, 9, 20)
    correction = actions.visit_correct(
        actor=provider_user, visit=visit, reason_code="forgot_checkout", changes={"ended_at": new_end}
    )
    visit.refresh_from_db()
    assert correction.status == CorrectionStatus.PENDING
    assert visit.duration_minutes == 45  # unchanged until approved

    actions.visit_correction_decide(actor=bureau_user, correction=correction, approve=True, note="核实")
    visit.refresh_from_db()
    assert visit.ended_at == new_end
    assert visit.duration_minutes == 20
    assert visit.status == VisitStatus.EXCEPTION
    assert "too_short" in visit.exception_reasons
    with pytest.raises(ApplicationError):
        actions.visit_correction_decide(actor=bureau_user, correction=correction, approve=True)


def test_a_rejected_correction_changes_nothing(provider_user, bureau_user, visit):
    correction = actions.visit_correct(
        actor=provider_user,
        visit=visit,
        reason_code="gps_drift",
        changes={"checkin_latitude": "36.300000", "checkin_longitude": "115.700000"},
    )
    actions.visit_correction_decide(actor=bureau_user, correction=correction, approve=False, note="无依据")
    visit.refresh_from_db()
    assert str(visit.checkin_latitude) == "36.234000"
    assert VisitCorrection.objects.get().status == CorrectionStatus.REJECTED


def test_a_reason_code_is_required(provider_user, visit):
    with pytest.raises(ApplicationError):
        actions.visit_correct(actor=provider_user, visit=visit, reason_code="", changes={"note": "x"})
    with pytest.raises(ApplicationError):
        actions.visit_correct(actor=provider_user, visit=visit, reason_code="other", changes={"note": "x"})
    assert VisitCorrection.objects.count() == 0


def test_only_the_visits_provider_corrects(other_provider_user, town_user, caregiver_user, bureau_user, visit):
    with pytest.raises(Http404):
        actions.visit_correct(actor=other_provider_user, visit=visit, reason_code="wrong_items", changes={"note": "x"})
    for user in (town_user, caregiver_user, bureau_user):
        with pytest.raises(PermissionDenied):
            actions.visit_correct(actor=user, visit=visit, reason_code="wrong_items", changes={"note": "x"})


def test_correction_and_review_through_the_pages(client_as, provider_user, bureau_user, visit):
    url = f"/portal/services/visits/{visit.client_id}/"
    client = client_as(provider_user)
    missing = client.post(url, {"action": "correct", "reason_code": "", "note": "补充记录"})
    assert missing.status_code == 400
    assert "补充记录" in missing.content.decode()
    assert client.post(url, {"action": "correct", "reason_code": "wrong_items", "note": "补充记录"}).status_code == 302

    VisitFactory._meta.model.objects.filter(pk=visit.pk).update(status="exception", exception_reasons=["too_far"])
    bureau = client_as(bureau_user)
    assert bureau.post(url, {"action": "review", "decision": "accept", "reason": ""}).status_code == 400
    assert bureau.post(url, {"action": "review", "decision": "accept", "reason": "山区信号差"}).status_code == 302
    visit.refresh_from_db()
    assert (visit.status, visit.review_reason, visit.note) == ("accepted", "山区信号差", "补充记录")


def test_visit_detail_is_scoped(client_as, other_provider_user, other_town_user, visit):
    url = f"/portal/services/visits/{visit.client_id}/"
    assert client_as(other_provider_user).get(url).status_code == 404
    assert client_as(other_town_user).get(url).status_code == 404


def test_exception_queue_query_count_and_scope(client_as, town_user, assert_fixed_queries):
    VisitFactory(status=VisitStatus.EXCEPTION, exception_reasons=["too_far"])
    client = client_as(town_user)

    def add_rows():
        for _ in range(5):
            VisitFactory(status=VisitStatus.EXCEPTION, exception_reasons=["too_far"])

    assert_fixed_queries(lambda: client.get("/portal/services/exceptions/"), add_rows)
    # all in 燕塔街道 (the factory default); one in 朝城镇 must not show
    VisitFactory(
        status=VisitStatus.EXCEPTION,
        exception_reasons=["too_short"],
        agreement=AgreementFactory(recipient=RecipientFactory(village=VillageFactory(town=town("朝城镇")))),
    )
    html = client.get("/portal/services/exceptions/").content.decode()
    assert html.count("<td>签到位置超出规定范围</td>") == 6
    assert "<td>服务时长不足</td>" not in html


def test_gps_rule_is_requested_and_approved(provider_user, bureau_user, visit):
    rule = actions.gps_rule_request(
        actor=provider_user, recipient=visit.recipient, reason="住处在山坳，无信号", gps_exempt=True
    )
    with pytest.raises(PermissionDenied):
        actions.gps_rule_decide(actor=provider_user, rule=rule, approve=True)
    actions.gps_rule_decide(actor=bureau_user, rule=rule, approve=True, note="同意")
    assert RecipientGpsRule.objects.get().status == "approved"


def test_monthly_plan_page(client_as, provider_user, provider):
    agreement = AgreementFactory(provider=provider)
    client = client_as(provider_user)
    assert client.get("/portal/services/plan/?month=2025-03").status_code == 200
    bad = client.post(
        "/portal/services/plan/",
        {"month": "2025-03", "agreement": agreement.pk, "days": "1,40", "planned_time": "09:30"},
    )
    assert bad.status_code == 400
    assert "1,40" in bad.content.decode()
    ok = client.post(
        "/portal/services/plan/",
        {"month": "2025-03", "agreement": agreement.pk, "days": "3,10，17", "planned_time": "09:30"},
    )
    assert ok.status_code == 302
    assert sorted(p.day.day for p in PlannedVisit.objects.all()) == [3, 10, 17]
    assert PlannedVisit.objects.first().planned_time == datetime.time(9, 30)


def test_plan_for_another_providers_agreement_is_404(client_as, other_provider_user, provider):
    agreement = AgreementFactory(provider=provider)
    response = client_as(other_provider_user).post(
        "/portal/services/plan/", {"month": "2025-03", "agreement": agreement.pk, "days": "3"}
    )
    assert response.status_code == 404


def test_gps_rule_request_page(client_as, town_user, other_town_user, visit):
    id_number = visit.recipient.id_number
    other = client_as(other_town_user).post(
        "/portal/services/gps-rules/", {"id_number": id_number, "gps_exempt": "on", "reason": "无信号"}
    )
    assert other.status_code == 400  # not in 朝城镇's territory
    client = client_as(town_user)
    missing = client.post("/portal/services/gps-rules/", {"id_number": id_number, "reason": "山区"})
    assert missing.status_code == 400
    assert "山区" in missing.content.decode()
    ok = client.post("/portal/services/gps-rules/", {"id_number": id_number, "radius_m": "800", "reason": "山区"})
    assert ok.status_code == 302
    assert RecipientGpsRule.objects.get().radius_m == 800
    assert visit.recipient.name in client.get("/portal/services/gps-rules/").content.decode()
    assert visit.recipient.name not in client_as(other_town_user).get("/portal/services/gps-rules/").content.decode()
