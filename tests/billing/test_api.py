"""API /api/v1/settlements/...: read-only, scoped per role, fixed query counts."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from billing.actions import settlement_compute

from .conftest import add_recipients

pytestmark = pytest.mark.django_db
ENDPOINTS = ["settlements", "settlements/providers", "settlements/lines", "settlements/payments"]


def _results(client, path):
    response = client.get(f"/api/v1/{path}/")
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_finance_reads_every_endpoint_with_county_totals(api_as, finance_user, two_provider_month):
    settlement, _, _ = two_provider_month
    client = api_as(finance_user)

    (row,) = _results(client, "settlements")
    assert (row["gross"], row["net"], row["status"]) == ("1128.00", "1118.00", "confirmed")
    assert len(_results(client, "settlements/providers")) == 2
    assert len(_results(client, "settlements/lines")) == 3
    payments = _results(client, "settlements/payments")
    assert sorted(p["amount"] for p in payments) == ["303.00", "815.00"]
    # masked in the API too: the full account is only in the finance bureau's payment file (audited download)
    assert all("*" in p["account_number"] for p in payments)
    progress = client.get(f"/api/v1/settlements/{settlement.pk}/progress/").json()
    assert progress["run_state"] == "done"


def test_provider_sees_only_its_own_rows(api_as, provider_user, provider, two_provider_month):
    settlement, ours, theirs = two_provider_month
    client = api_as(provider_user)

    (row,) = _results(client, "settlements")
    assert "gross" not in row  # no county totals for a provider
    assert [p["provider"] for p in _results(client, "settlements/providers")] == [provider.pk]
    lines = _results(client, "settlements/lines")
    assert {line["recipient"] for line in lines} == {r.pk for r in ours}
    assert all("*" in line["id_number"] for line in lines)
    assert [p["amount"] for p in _results(client, "settlements/payments")] == ["815.00"]
    other_line = settlement.lines.get(recipient=theirs)
    assert client.get(f"/api/v1/settlements/lines/{other_line.pk}/").status_code == 404
    other_total = settlement.provider_totals.exclude(provider=provider).get()
    assert client.get(f"/api/v1/settlements/providers/{other_total.pk}/").status_code == 404


def test_other_provider_gets_404_on_a_month_without_it(api_as, other_provider_user, billed, bureau_user):
    billed()
    settlement = settlement_compute(actor=bureau_user, month=datetime.date(2024, 3, 1))

    client = api_as(other_provider_user)
    assert client.get(f"/api/v1/settlements/{settlement.pk}/").status_code == 404
    for path in ENDPOINTS:
        assert _results(client, path) == []


@pytest.mark.parametrize("who", ["town_user", "other_town_user", "caregiver_user"])
def test_towns_and_caregivers_see_nothing(request, api_as, who, two_provider_month):
    settlement, _, _ = two_provider_month
    client = api_as(request.getfixturevalue(who))

    for path in ENDPOINTS:
        assert _results(client, path) == []
    assert client.get(f"/api/v1/settlements/{settlement.pk}/").status_code == 404


def test_api_is_read_only(api_as, bureau_user, two_provider_month):
    settlement, _, _ = two_provider_month
    client = api_as(bureau_user)

    assert client.post("/api/v1/settlements/", {"month": "2024-04-01"}).status_code == 405
    assert client.delete(f"/api/v1/settlements/{settlement.pk}/").status_code == 405


@pytest.mark.parametrize("who", ["finance_user", "provider_user"])
def test_lists_run_a_fixed_number_of_queries(
    request, api_as, who, provider, other_provider, bureau_user, django_assert_num_queries
):
    client = api_as(request.getfixturevalue(who))
    add_recipients(provider, 1)
    add_recipients(other_provider, 1)
    settlement_compute(actor=bureau_user, month=datetime.date(2024, 3, 1))
    few = {}
    for path in ENDPOINTS:
        with CaptureQueriesContext(connection) as ctx:
            _results(client, path)
        few[path] = len(ctx.captured_queries)

    add_recipients(provider, 6)
    add_recipients(other_provider, 6)
    settlement_compute(actor=bureau_user, month=datetime.date(2024, 3, 1))

    for path in ENDPOINTS:
        with django_assert_num_queries(few[path]):
            _results(client, path)


def test_a_malformed_settlement_filter_is_a_400_with_a_chinese_message(api_as, finance_user, two_provider_month):
    client = api_as(finance_user)
    for path in ENDPOINTS[1:]:
        response = client.get(f"/api/v1/{path}/?settlement=null")
        assert response.status_code == 400
        assert "请填写有效的编号" in str(response.json()["settlement"])
    settlement, _, _ = two_provider_month
    filtered = client.get(f"/api/v1/settlements/providers/?settlement={settlement.pk}").json()["results"]
    assert len(filtered) == 2
    other = client.get(f"/api/v1/settlements/providers/?settlement={settlement.pk + 1}").json()["results"]
    assert other == []
