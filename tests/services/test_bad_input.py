"""Bad input from a phone or a form gets a clear answer in Chinese, never a 500."""

import datetime
import uuid

import pytest
from django.utils import timezone

from services.models import Visit, VisitPhoto

from .images import png_declaring

pytestmark = pytest.mark.django_db


def _body(recipient, **changes):
    return {
        "client_id": str(uuid.uuid4()),
        "recipient": recipient.pk,
        "started_at": (timezone.now() - datetime.timedelta(minutes=50)).isoformat(),
        "latitude": float(recipient.home_latitude),
        "longitude": float(recipient.home_longitude),
        "accuracy_m": 12,
        **changes,
    }


def _errors(response):
    return str(response.json())


def test_an_absurd_accuracy_is_refused_on_check_in_and_sync(api_as, caregiver_user, agreement):
    api = api_as(caregiver_user)
    check_in = api.post("/api/v1/visits/check-in/", _body(agreement.recipient, accuracy_m=10**12), format="json")
    sync = api.post("/api/v1/visits/sync/", {"visits": [_body(agreement.recipient, accuracy_m=10**12)]}, format="json")

    assert check_in.status_code == 400 and "accuracy_m" in check_in.json()
    assert sync.status_code == 400
    assert Visit.objects.count() == 0


@pytest.mark.parametrize(
    "moment",
    ["9999-06-01T08:00:00+08:00", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00+08:00", "2071-05-01T08:00:00+08:00"],
)
def test_a_check_in_years_away_is_refused_with_a_message(api_as, caregiver_user, agreement, moment):
    api = api_as(caregiver_user)
    check_in = api.post("/api/v1/visits/check-in/", _body(agreement.recipient, started_at=moment), format="json")
    emergency = api.post(
        "/api/v1/visits/emergency/",
        {**_body(agreement.recipient, started_at=moment), "what": "摔倒", "called": "120"},
        format="json",
    )
    sync = api.post("/api/v1/visits/sync/", {"visits": [_body(agreement.recipient, started_at=moment)]}, format="json")

    assert check_in.status_code == 400, check_in.content
    assert emergency.status_code == 400, emergency.content
    assert sync.status_code in (200, 400), sync.content
    if sync.status_code == 200:
        assert sync.json()[0]["outcome"] == "error" and "日期" in sync.json()[0]["detail"]
    assert "started_at" in check_in.json() or "日期" in _errors(check_in)
    assert Visit.objects.count() == 0


def test_a_check_out_years_away_is_refused(api_as, caregiver_user, agreement):
    api = api_as(caregiver_user)
    body = _body(agreement.recipient)
    api.post("/api/v1/visits/check-in/", body, format="json")
    response = api.post(
        f"/api/v1/visits/{body['client_id']}/check-out/",
        {"ended_at": "9999-06-01T08:00:00+08:00", "service_items": ["daily_cleaning"]},
        format="json",
    )
    assert response.status_code == 400
    assert "超出合理范围" in response.json()["detail"]
    assert Visit.objects.get().ended_at is None


@pytest.mark.parametrize("accuracy", ["abc", "inf", "-5", "1e12", "nan"])
def test_the_check_in_page_refuses_a_bad_accuracy(client_as, caregiver_user, agreement, accuracy):
    client = client_as(caregiver_user)
    response = client.post(
        f"/portal/services/caregiver/check-in/{agreement.recipient_id}/",
        {"client_id": str(uuid.uuid4()), "latitude": "36.2341", "longitude": "115.671", "accuracy": accuracy},
    )
    assert response.status_code == 400
    assert "定位精度" in response.content.decode()
    assert Visit.objects.count() == 0


def test_the_check_in_page_takes_a_fractional_accuracy(client_as, caregiver_user, agreement):
    client = client_as(caregiver_user)
    response = client.post(
        f"/portal/services/caregiver/check-in/{agreement.recipient_id}/",
        {"client_id": str(uuid.uuid4()), "latitude": "36.2341", "longitude": "115.671", "accuracy": "12.7"},
    )
    assert response.status_code == 302
    assert Visit.objects.get().checkin_accuracy_m == 12


def test_the_check_in_page_refuses_an_impossible_time(client_as, caregiver_user, agreement):
    client = client_as(caregiver_user)
    response = client.post(
        f"/portal/services/caregiver/check-in/{agreement.recipient_id}/",
        {"client_id": str(uuid.uuid4()), "started_at": "2026-13-45T08:00:00"},
    )
    assert response.status_code == 400
    assert "时间格式不正确" in response.content.decode()


@pytest.mark.parametrize("size", [(20000, 20000), (10000, 10000)])
def test_a_decompression_bomb_photo_is_refused(api_as, caregiver_user, agreement, size):
    # given an open visit, and a small PNG that declares 400 (or 100) million pixels
    api = api_as(caregiver_user)
    body = _body(agreement.recipient)
    api.post("/api/v1/visits/check-in/", body, format="json")
    bomb = png_declaring(*size)
    # when it is uploaded as the visit's photo
    response = api.post(f"/api/v1/visits/{body['client_id']}/photos/", {"image": bomb}, format="multipart")
    # then it is refused with a message, and nothing is stored
    assert response.status_code == 400
    assert "像素过多" in response.json()["detail"]
    assert VisitPhoto.objects.count() == 0


@pytest.mark.parametrize("radius", ["99999999999999999999", "20000"])
def test_a_gps_rule_radius_past_ten_kilometres_is_refused(client_as, town_user, agreement, radius):
    from services.models import RecipientGpsRule

    response = client_as(town_user).post(
        "/portal/services/gps-rules/",
        {"id_number": agreement.recipient.id_number, "radius_m": radius, "reason": "山区"},
    )
    assert response.status_code == 400
    assert "1至10000米" in response.content.decode()
    assert not RecipientGpsRule.objects.exists()


def test_the_compliance_report_takes_an_absurd_page_number(client_as, bureau_user):
    response = client_as(bureau_user).get(
        "/portal/services/report/", {"group": "recipient", "page": "99999999999999999999", "month": "2026-10"}
    )
    assert response.status_code == 200


def test_the_dashboard_filters_only_by_what_the_viewer_may_choose(client_as, town_user, other_town_user):
    client = client_as(town_user)
    own = client.get("/portal/services/dashboard/", {"town": town_user.town_id, "month": "2026-10"})
    other = client.get("/portal/services/dashboard/", {"town": other_town_user.town_id, "month": "2026-13"})
    assert own.context["filters"] == {"town": town_user.town_id}
    assert other.context["filters"] == {}


@pytest.mark.parametrize(
    ("moment", "message"), [("2026-13-45T08:00", "时间格式不正确"), ("9999-06-01T08:00", "超出合理范围")]
)
def test_a_correction_to_an_impossible_time_is_refused_when_asked(client_as, provider_user, provider, moment, message):
    from services.models import VisitCorrection
    from tests.factories import AgreementFactory

    from .factories import VisitFactory

    visit = VisitFactory(agreement=AgreementFactory(provider=provider))
    response = client_as(provider_user).post(
        f"/portal/services/visits/{visit.client_id}/",
        {"action": "correct", "reason_code": "device_fault", "started_at": moment},
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not VisitCorrection.objects.exists()


@pytest.mark.parametrize(
    ("month", "days", "message"),
    [("2025-03", "99999999999999999999", "日期不正确"), ("9999-12", "3", "超出合理范围")],
)
def test_a_plan_with_an_impossible_day_or_month_is_refused(client_as, provider_user, provider, month, days, message):
    from services.models import PlannedVisit
    from tests.factories import AgreementFactory

    agreement = AgreementFactory(provider=provider)
    response = client_as(provider_user).post(
        "/portal/services/plan/", {"month": month, "agreement": agreement.pk, "days": days, "planned_time": "09:30"}
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not PlannedVisit.objects.exists()
