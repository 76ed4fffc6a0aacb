"""The same client id sent again: an identical resend is a retry (the first record, 200); different content is a
conflict (409 with the record saved and what was sent), so that a phone bug cannot hide."""

import datetime
import uuid
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from services.models import Visit

from .factories import VisitFactory

pytestmark = pytest.mark.django_db


def _check_in(recipient, **changes):
    return {
        "client_id": str(uuid.uuid4()),
        "recipient": recipient.pk,
        "started_at": (timezone.now() - datetime.timedelta(minutes=50)).replace(microsecond=0).isoformat(),
        "latitude": float(recipient.home_latitude),
        "longitude": float(recipient.home_longitude),
        "accuracy_m": 12,
        **changes,
    }


def test_an_identical_check_in_resend_is_a_retry_even_in_another_time_zone(api_as, caregiver_user, agreement):
    api = api_as(caregiver_user)
    body = _check_in(agreement.recipient)
    first = api.post("/api/v1/visits/check-in/", body, format="json")
    moment = datetime.datetime.fromisoformat(body["started_at"]).astimezone(ZoneInfo("UTC")).isoformat()
    again = api.post("/api/v1/visits/check-in/", {**body, "started_at": moment, "offline": True}, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()


@pytest.mark.parametrize(
    "change",
    [
        {"started_at": (timezone.now() - datetime.timedelta(minutes=20)).replace(microsecond=0).isoformat()},
        {"accuracy_m": 500},
        {"latitude": 36.5},
    ],
)
def test_a_check_in_resent_with_other_content_is_a_conflict_with_both_records(
    api_as, caregiver_user, agreement, change
):
    api = api_as(caregiver_user)
    body = _check_in(agreement.recipient)
    first = api.post("/api/v1/visits/check-in/", body, format="json")
    conflict = api.post("/api/v1/visits/check-in/", {**body, **change}, format="json")

    assert conflict.status_code == 409, conflict.content
    answer = conflict.json()
    assert answer["field"] == "client_id" and "内容不同" in answer["detail"]
    assert answer["existing"] == first.json()
    assert answer["sent"] == {**body, **change}
    visit = Visit.objects.get()
    assert visit.started_at == datetime.datetime.fromisoformat(body["started_at"])  # unchanged


def test_a_check_in_resent_for_another_recipient_is_a_conflict(api_as, caregiver, caregiver_user, agreement):
    from tests.factories import AgreementFactory

    other = AgreementFactory(provider=caregiver.provider, caregiver=caregiver).recipient
    api = api_as(caregiver_user)
    body = _check_in(agreement.recipient)
    api.post("/api/v1/visits/check-in/", body, format="json")
    conflict = api.post("/api/v1/visits/check-in/", {**body, "recipient": other.pk}, format="json")
    assert conflict.status_code == 409
    assert conflict.json()["existing"]["recipient"] == agreement.recipient.pk


def test_a_check_out_resent_with_other_content_is_a_conflict(api_as, caregiver_user, agreement):
    api = api_as(caregiver_user)
    body = _check_in(agreement.recipient)
    api.post("/api/v1/visits/check-in/", body, format="json")
    out = {
        "ended_at": (timezone.now() - datetime.timedelta(minutes=5)).isoformat(),
        "service_items": ["daily_cleaning"],
        "note": "打扫院子",
    }
    url = f"/api/v1/visits/{body['client_id']}/check-out/"
    first = api.post(url, out, format="json")
    same = api.post(url, {**out, "note": " 打扫院子 ", "offline": True}, format="json")
    other = api.post(url, {**out, "note": "重发"}, format="json")

    assert (first.status_code, same.status_code, other.status_code) == (200, 200, 409)
    assert other.json()["existing"]["note"] == "打扫院子" and other.json()["sent"]["note"] == "重发"
    assert Visit.objects.get().note == "打扫院子"


def test_an_emergency_resent_with_other_content_is_a_conflict(api_as, caregiver_user, agreement):
    api = api_as(caregiver_user)
    body = {**_check_in(agreement.recipient), "what": "摔倒", "called": "120"}
    body.pop("accuracy_m")
    first = api.post("/api/v1/visits/emergency/", body, format="json")
    same = api.post("/api/v1/visits/emergency/", body, format="json")
    other = api.post("/api/v1/visits/emergency/", {**body, "what": "晕倒"}, format="json")
    as_check_in = api.post("/api/v1/visits/check-in/", body, format="json")

    assert (first.status_code, same.status_code, other.status_code) == (201, 200, 409)
    assert as_check_in.status_code == 409  # the id names an emergency, not a visit
    assert Visit.objects.get().emergency_what == "摔倒"


def test_sync_answers_409_naming_the_conflicting_item_and_records_the_others(api_as, caregiver_user, agreement):
    api = api_as(caregiver_user)
    body = _check_in(agreement.recipient)
    api.post("/api/v1/visits/check-in/", body, format="json")
    changed = {**body, "started_at": (timezone.now() - datetime.timedelta(minutes=30)).isoformat()}
    new = _check_in(agreement.recipient, started_at=(timezone.now() - datetime.timedelta(hours=5)).isoformat())

    response = api.post("/api/v1/visits/sync/", {"visits": [changed, new]}, format="json")
    identical = api.post("/api/v1/visits/sync/", {"visits": [body, new]}, format="json")

    assert response.status_code == 409, response.content
    conflict, created = response.json()
    assert conflict["outcome"] == "conflict" and "内容不同" in conflict["detail"]
    saved = Visit.objects.get(client_id=body["client_id"]).started_at
    assert datetime.datetime.fromisoformat(conflict["existing"]["started_at"]) == saved
    assert conflict["sent"]["started_at"] == changed["started_at"]
    assert created["outcome"] == "created"
    assert identical.status_code == 200
    assert [r["outcome"] for r in identical.json()] == ["existing", "existing"]


def test_sync_conflicts_on_a_finished_visits_other_check_out(api_as, caregiver_user, agreement):
    api = api_as(caregiver_user)
    body = _check_in(agreement.recipient)
    out = {"client_id": body["client_id"], "ended_at": timezone.now().isoformat(), "service_items": ["daily_care"]}
    first = api.post("/api/v1/visits/sync/", {"visits": [body, out]}, format="json")
    again = api.post("/api/v1/visits/sync/", {"visits": [out]}, format="json")
    other = api.post("/api/v1/visits/sync/", {"visits": [{**out, "service_items": ["walking_aid"]}]}, format="json")
    assert [r["outcome"] for r in first.json()] == ["created", "finished"]
    assert (again.status_code, again.json()[0]["outcome"]) == (200, "existing")
    assert (other.status_code, other.json()[0]["outcome"]) == (409, "conflict")


def test_a_visit_recorded_before_digests_were_kept_is_retried_as_before(api_as, caregiver, caregiver_user, agreement):
    visit = VisitFactory(caregiver=caregiver, provider=caregiver.provider, recipient=agreement.recipient)
    assert visit.checkin_digest == ""
    body = _check_in(agreement.recipient, client_id=str(visit.client_id))
    response = api_as(caregiver_user).post("/api/v1/visits/check-in/", body, format="json")
    assert response.status_code == 200


def test_the_check_out_form_posted_twice_without_script_is_not_a_conflict(client_as, caregiver_user, agreement):
    client = client_as(caregiver_user)
    client_id = str(uuid.uuid4())
    client.post(f"/portal/services/caregiver/check-in/{agreement.recipient_id}/", {"client_id": client_id})
    url = f"/portal/services/caregiver/visits/{client_id}/check-out/"
    first = client.post(url, {"service_items": ["daily_care"]})
    second = client.post(url, {"service_items": ["daily_care"]})
    assert (first.status_code, second.status_code) == (302, 302)
    assert Visit.objects.get().service_items == ["daily_care"]
