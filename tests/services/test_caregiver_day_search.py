"""The caregiver's day is searched by name through its FilterSet: a bad value is named, never a 500 or a guess."""

import pytest
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator

from services.filters import CaregiverDayFilter
from services.selectors import caregiver_day
from tests.factories import AgreementFactory, RecipientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(caregiver):
    for name in ("陈久未", "王从未", "陈小红"):
        AgreementFactory(provider=caregiver.provider, caregiver=caregiver, recipient=RecipientFactory(name=name))


def test_the_name_search_is_a_filterset_parameter():
    assert set(CaregiverDayFilter.base_filters) == {"q"}
    assert CaregiverDayFilter({"q": "陈"}).is_valid()
    assert not CaregiverDayFilter({"q": "陈" * 33}).is_valid()


def test_search_by_name_through_the_page(client_as, caregiver_user, people):
    client = client_as(caregiver_user)
    page = client.get(reverse("services:caregiver_day"), {"q": " 陈 "}).content.decode()
    assert "陈久未" in page and "陈小红" in page and "王从未" not in page
    assert 'name="q" value="陈"' in page
    assert [r["name"] for r in caregiver_day(actor=caregiver_user, filters={"q": "王"})] == ["王从未"]


@pytest.mark.parametrize(
    "q, message",
    [("陈" * 40, "查询内容过长（最多 32 个字符）。"), ("陈\x00", "查询内容含有不允许的空字符。")],
)
def test_a_bad_search_is_named_in_chinese_and_the_whole_day_is_shown(client_as, caregiver_user, people, q, message):
    response = client_as(caregiver_user).get(reverse("services:caregiver_day"), {"q": q})
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page
    assert all(name in page for name in ("陈久未", "王从未", "陈小红"))


def test_the_api_takes_the_same_search_and_lists_it_in_the_schema(api_as, caregiver_user, people):
    api = api_as(caregiver_user)
    names = [row["name"] for row in api.get("/api/v1/visits/today/", {"q": "陈"}).json()]
    assert sorted(names) == sorted(["陈久未", "陈小红"])
    response = api.get("/api/v1/visits/today/", {"q": "陈" * 40})
    assert response.status_code == 400
    assert "查询内容过长" in response.content.decode()
    schema = SchemaGenerator().get_schema(request=None, public=True)
    assert "q" in {p["name"] for p in schema["paths"]["/api/v1/visits/today/"]["get"]["parameters"]}
