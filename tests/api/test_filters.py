"""Every list's query parameters are checked: a bad value answers 400 with a Chinese message, never a 500,
and the schema lists every filter."""

import re

import pytest
from django.core.management import call_command

from tests.factories import AgreementFactory, RecipientFactory

LISTS = {
    "/api/v1/recipients/": ["town", "village", "level", "q", "in_support"],
    "/api/v1/villages/": ["town"],
    "/api/v1/assessments/": ["status", "recipient"],
    "/api/v1/caregivers/": ["provider", "is_active"],
    "/api/v1/agreements/": ["status", "town", "provider", "caregiver", "recipient"],
    "/api/v1/visits/": ["town", "provider", "status", "date", "month"],
    "/api/v1/supervision/evaluations/": ["status", "town", "provider", "month"],
    "/api/v1/supervision/serious-problems/": ["status", "town", "provider", "category"],
    "/api/v1/supervision/rectifications/": ["status", "provider", "town", "source"],
    "/api/v1/supervision/complaints/": ["status", "town", "provider", "channel", "priority", "route_to"],
    "/api/v1/supervision/spot-checks/": ["method", "result", "town", "provider", "draw"],
    "/api/v1/supervision/reviews/": ["half", "status", "provider", "proposal", "decision", "veto"],
    "/api/v1/supervision/cross-check-hits/": ["batch", "status"],
}
CASES = [(url, name) for url, names in LISTS.items() for name in names]
FREE_TEXT = {"q": 32, "half": 6}  # any text up to this length may be searched for
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def _messages(body):
    if isinstance(body, dict):
        return [m for v in body.values() for m in _messages(v)]
    if isinstance(body, list):
        return [m for v in body for m in _messages(v)]
    return [str(body)]


@pytest.fixture
def bureau_api(api_as, bureau_user):
    AgreementFactory(recipient=RecipientFactory(name="过滤测试"))
    return api_as(bureau_user)


@pytest.mark.django_db
@pytest.mark.parametrize(("url", "name"), CASES)
@pytest.mark.parametrize("value", ["abc", "a\x00b", "99999999999999999999", "-1", "2026-13-45"])
def test_a_bad_filter_value_answers_400_in_chinese(bureau_api, url, name, value):
    response = bureau_api.get(url, {name: value})
    if name in FREE_TEXT and "\x00" not in value and len(value) <= FREE_TEXT[name]:
        assert response.status_code == 200
        return
    assert response.status_code == 400, (url, name, value, response.status_code)
    messages = _messages(response.json())
    assert messages and all(CHINESE.search(m) for m in messages), messages


@pytest.mark.django_db
def test_a_very_long_search_is_refused(bureau_api):
    response = bureau_api.get("/api/v1/recipients/", {"q": "张" * 500})
    assert response.status_code == 400
    assert "过长" in response.json()["q"][0]


@pytest.mark.django_db
def test_filters_still_filter_within_the_users_scope(api_as, town_user, other_town_user):
    # given a recipient with an agreement in each of two towns
    mine = AgreementFactory(recipient=RecipientFactory(name="本镇人员"))
    theirs = AgreementFactory(recipient=RecipientFactory(name="外镇人员", town=other_town_user.town))
    api = api_as(town_user)
    # when the town official filters by their own town, by the other town, and by name
    own = api.get("/api/v1/recipients/", {"town": town_user.town_id}).json()["results"]
    other = api.get("/api/v1/recipients/", {"town": other_town_user.town_id}).json()["results"]
    by_name = api.get("/api/v1/recipients/", {"q": "外镇"}).json()["results"]
    agreements = api.get("/api/v1/agreements/", {"provider": theirs.provider_id}).json()["results"]
    # then only their own town's records are ever listed
    assert [r["id"] for r in own] == [mine.recipient_id]
    assert other == [] and by_name == []
    assert [a["id"] for a in agreements] == ([mine.pk] if mine.provider_id == theirs.provider_id else [])


@pytest.mark.django_db
def test_search_by_the_last_four_id_digits_and_level(api_as, bureau_user):
    recipient = RecipientFactory(name="尾号查询", level="full")
    api = api_as(bureau_user)
    found = api.get("/api/v1/recipients/", {"q": recipient.id_number[-4:]}).json()["results"]
    assert recipient.pk in [r["id"] for r in found]
    full = api.get("/api/v1/recipients/", {"level": "full"}).json()["results"]
    assert recipient.pk in [r["id"] for r in full]
    assert recipient.pk not in [
        r["id"] for r in api.get("/api/v1/recipients/", {"level": "self_care"}).json()["results"]
    ]


@pytest.mark.django_db
def test_the_visit_month_filter_takes_a_month(api_as, bureau_user):
    assert api_as(bureau_user).get("/api/v1/visits/", {"month": "2026-10"}).status_code == 200
    assert api_as(bureau_user).get("/api/v1/visits/", {"month": "2026-10-01"}).status_code == 200


@pytest.mark.django_db
def test_the_missing_evaluations_month_is_checked(api_as, bureau_user):
    api = api_as(bureau_user)
    assert api.get("/api/v1/supervision/evaluations/missing/", {"month": "2026-10-01"}).status_code == 200
    for bad in ("", "abc", "9999-01-01", "0001-01-01"):
        response = api.get("/api/v1/supervision/evaluations/missing/", {"month": bad})
        assert response.status_code == 400, bad
        assert CHINESE.search(_messages(response.json())[0])


@pytest.mark.django_db
def test_the_schema_lists_every_filter(tmp_path):
    import yaml

    call_command("spectacular", "--file", str(tmp_path / "schema.yaml"))
    paths = yaml.safe_load((tmp_path / "schema.yaml").read_text())["paths"]
    for url, names in LISTS.items():
        listed = {p["name"] for p in paths[url]["get"].get("parameters", []) if p["in"] == "query"}
        assert set(names) <= listed, (url, set(names) - listed)
