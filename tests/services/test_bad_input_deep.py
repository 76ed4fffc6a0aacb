"""Bad input that gets past validation into Python's numbers and dates, the JSON parser or the database (found by an
outside sweep of every write): a clear Chinese 400 that changes nothing, never a 500 or an English message."""

import json
import re
import uuid

import pytest
from django.apps import apps
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from services.models import Visit

pytestmark = pytest.mark.django_db
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def rows():
    return {m._meta.label: m._default_manager.count() for m in apps.get_models() if m._meta.managed}


@pytest.fixture
def raw_api():
    """An API client that answers a 500 as a response (as a phone sees it) instead of raising it in the test."""

    def signed_in(user):
        client = APIClient(raise_request_exception=False)
        client.force_authenticate(user=user)
        return client

    return signed_in


def refused(response, status=400):
    assert response.status_code == status, (response.status_code, response.content[:300])
    detail = response.json()["detail"] if response["Content-Type"].startswith("application/json") else ""
    assert CHINESE.search(detail or response.content.decode()), response.content[:300]
    return detail


def post_raw(client, url, body):
    return client.post(url, body, content_type="application/json")


def test_a_body_nested_thousands_deep_is_refused(raw_api, caregiver_user):
    before = rows()
    detail = refused(post_raw(raw_api(caregiver_user), "/api/v1/visits/sync/", "[" * 5000 + "]" * 5000))
    assert "嵌套" in detail or "JSON" in detail
    assert rows() == before


def test_a_number_past_infinity_where_an_id_is_expected_is_refused(raw_api, town_user):
    before = rows()
    refused(post_raw(raw_api(town_user), "/api/v1/assessments/", '{"recipient": 1e309, "assessed_on": "2026-11-02"}'))
    assert rows() == before


def test_a_lone_surrogate_in_a_choice_is_refused_not_a_500_while_the_error_is_written(raw_api, bureau_user):
    # DRF's error repeats the value sent, and a lone surrogate cannot be written out as UTF-8
    response = post_raw(raw_api(bureau_user), "/api/v1/supervision/complaints/", '{"channel": "\\ud800"}')
    assert response.status_code == 400 and CHINESE.search(response.content.decode(errors="replace"))


def test_a_check_in_in_the_year_1_is_refused(raw_api, caregiver_user, agreement):
    body = {"client_id": str(uuid.uuid4()), "recipient": agreement.recipient_id, "started_at": "0001-01-01T00:00:00"}
    refused(raw_api(caregiver_user).post("/api/v1/visits/check-in/", body, format="json"))
    assert not Visit.objects.exists()


def test_what_is_not_json_and_no_body_at_all_are_answered_in_chinese(raw_api, caregiver_user):
    api = raw_api(caregiver_user)
    assert "JSON" in refused(post_raw(api, "/api/v1/visits/sync/", "{"))
    no_body = post_raw(api, "/api/v1/visits/sync/", "null")
    assert no_body.status_code == 400 and "未提供数据" in json.dumps(no_body.json(), ensure_ascii=False)


def test_an_object_one_may_not_see_is_not_found_in_chinese(raw_api, finance_user, caregiver_user):
    # a detail action as a role that may not see the object: DRF's get_object_or_404 said "No Assessment matches the
    # given query."
    from tests.factories import RecipientFactory

    recipient = RecipientFactory()
    for user, url in (
        (finance_user, f"/api/v1/recipients/{recipient.pk}/reveal-id-number/"),
        (caregiver_user, f"/api/v1/recipients/{recipient.pk}/"),
    ):
        response = raw_api(user).get(url) if url.endswith(f"{recipient.pk}/") else raw_api(user).post(url)
        assert response.status_code == 404, (url, response.status_code)
        assert CHINESE.search(response.json()["detail"]), response.json()


def test_a_portal_form_with_a_position_of_nan_is_refused_in_chinese(caregiver_user, agreement):
    client = Client(raise_request_exception=False)
    client.force_login(caregiver_user)
    url = reverse("services:caregiver_check_in", args=[agreement.recipient_id])
    response = client.post(url, {"client_id": str(uuid.uuid4()), "latitude": "NaN", "longitude": "NaN"})
    assert response.status_code in (200, 302, 400)
    assert not Visit.objects.exists()


@pytest.mark.parametrize("path", ["/portal/supervision/deductions/", "/api/v1/visits/sync/"])
def test_a_value_the_database_cannot_hold_is_answered_400_in_chinese_wherever_it_was_sent(rf, bureau_user, path):
    """A NUL byte or a text longer than its column, found by the database inside a write (whose transaction it rolls
    back): the portal's error page, or the API's JSON, in Chinese; any other fault stays a 500."""
    from django.db import DataError

    from shenxian_care.middleware import BadInputMiddleware

    request = rf.post(path)
    request.user = bureau_user
    middleware = BadInputMiddleware(lambda r: None)
    response = middleware.process_exception(request, DataError("value too long for type character varying(200)"))
    assert response.status_code == 400
    text = response.content.decode()
    assert "未保存" in text
    if path.startswith("/api/"):
        assert json.loads(text) == {"detail": "内容过长或含有无法保存的字符，未保存。"}
    assert middleware.process_exception(request, ValueError("a real fault")) is None
    assert middleware.process_exception(request, KeyError("x")) is None
