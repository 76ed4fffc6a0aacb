"""Every role sees only what it may, through pages, the API and the admin: another town's or provider's
object is a 404, never its data."""

import datetime

import pytest
from django.urls import reverse

from tests.factories import AgreementFactory, CaregiverFactory, ContractFactory, RecipientFactory, VillageFactory, town


@pytest.fixture
def county(provider, other_provider, caregiver):
    """燕塔街道 is served by `provider`, 朝城镇 by `other_provider`; one recipient and agreement in each."""
    yanta, chaocheng = town("燕塔街道"), town("朝城镇")
    ContractFactory(provider=provider, towns=[yanta])
    ContractFactory(provider=other_provider, towns=[chaocheng])
    mine = RecipientFactory(village=VillageFactory(town=yanta, name="东关村"), name="燕塔甲")
    theirs = RecipientFactory(village=VillageFactory(town=chaocheng, name="南街村"), name="朝城乙")
    my_agreement = AgreementFactory(recipient=mine, provider=provider, caregiver=caregiver)
    their_agreement = AgreementFactory(
        recipient=theirs, provider=other_provider, caregiver=CaregiverFactory(provider=other_provider)
    )
    return {"mine": mine, "theirs": theirs, "my_agreement": my_agreement, "their_agreement": their_agreement}


def api_ids(client, url):
    response = client.get(url)
    assert response.status_code == 200
    body = response.json()
    return {row["id"] for row in (body["results"] if isinstance(body, dict) else body)}


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["town_user", "provider_user"])
def test_list_shows_only_own_town_or_provider(request, county, api_as, client_as, who):
    user = request.getfixturevalue(who)
    assert api_ids(api_as(user), "/api/v1/recipients/") == {county["mine"].pk}
    assert api_ids(api_as(user), "/api/v1/agreements/") == {county["my_agreement"].pk}
    page = client_as(user).get(reverse("recipients:recipient_list")).content.decode()
    assert "燕塔甲" in page and "朝城乙" not in page


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["town_user", "provider_user"])
def test_another_towns_or_providers_objects_are_404_everywhere(request, county, api_as, client_as, who):
    user = request.getfixturevalue(who)
    theirs, their_agreement = county["theirs"], county["their_agreement"]
    api = api_as(user)
    assert api.get(f"/api/v1/recipients/{theirs.pk}/").status_code == 404
    assert api.get(f"/api/v1/agreements/{their_agreement.pk}/").status_code == 404
    assert api.post(f"/api/v1/agreements/{their_agreement.pk}/sign/", {}).status_code == 404
    assert api.post(f"/api/v1/recipients/{theirs.pk}/reveal-id-number/").status_code == 404
    page = client_as(user)
    for url in (
        reverse("recipients:recipient_detail", args=[theirs.pk]),
        reverse("contracts:agreement_detail", args=[their_agreement.pk]),
        reverse("contracts:agreement_print", args=[their_agreement.pk]),
    ):
        response = page.get(url)
        assert response.status_code == 404
        assert theirs.name not in response.content.decode()


@pytest.mark.django_db
def test_provider_cannot_draft_with_another_providers_caregiver_or_for_them(
    county, provider_user, other_provider, api_as
):
    their_caregiver = county["their_agreement"].caregiver
    response = api_as(provider_user).post(
        "/api/v1/agreements/",
        {"recipient": county["mine"].pk, "caregiver": their_caregiver.pk, "start_date": "2026-12-01"},
        format="json",
    )
    assert response.status_code == 404
    response = api_as(provider_user).post(
        "/api/v1/agreements/",
        {
            "recipient": county["mine"].pk,
            "caregiver": county["my_agreement"].caregiver.pk,
            "start_date": "2026-12-01",
            "provider": other_provider.pk,
        },
        format="json",
    )
    assert response.status_code == 404


@pytest.mark.django_db
def test_caregiver_sees_only_assigned_recipients(county, caregiver_user, api_as):
    assert api_ids(api_as(caregiver_user), "/api/v1/recipients/") == {county["mine"].pk}
    assert api_as(caregiver_user).get(f"/api/v1/recipients/{county['theirs'].pk}/").status_code == 404
    assert api_ids(api_as(caregiver_user), "/api/v1/caregivers/") == {caregiver_user.caregiver.pk}


@pytest.mark.django_db
def test_finance_reads_contracts_but_not_the_registry(county, finance_user, api_as, client_as):
    assert api_ids(api_as(finance_user), "/api/v1/recipients/") == set()
    assert len(api_ids(api_as(finance_user), "/api/v1/contracts/")) == 2
    assert client_as(finance_user).get(reverse("recipients:recipient_list")).status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["town_user", "provider_user", "caregiver_user", "finance_user"])
def test_only_bureau_staff_get_into_the_admin(request, county, client, who):
    user = request.getfixturevalue(who)
    user.is_staff = True  # even if someone ticked the box by mistake
    user.save()
    client.force_login(user)
    for url in (
        "/admin/recipients/recipient/",
        f"/admin/recipients/recipient/{county['theirs'].pk}/change/",
        "/admin/contracts/agreement/",
    ):
        response = client.get(url)
        assert response.status_code in (302, 403, 404)
        assert "朝城乙" not in response.content.decode()


@pytest.mark.django_db
def test_bureau_admin_lists_and_searches(county, bureau_user, client):
    client.force_login(bureau_user)
    response = client.get("/admin/recipients/recipient/", {"q": "朝城乙"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "朝城乙" in body
    assert county["theirs"].id_number not in body  # masked in the list


@pytest.mark.django_db
def test_full_id_number_is_shown_on_request_and_recorded(county, town_user, api_as):
    from auditlog.models import LogEntry

    response = api_as(town_user).post(f"/api/v1/recipients/{county['mine'].pk}/reveal-id-number/")
    assert response.json() == {"id_number": county["mine"].id_number}
    entry = LogEntry.objects.get(action=LogEntry.Action.ACCESS, object_pk=str(county["mine"].pk))
    assert entry.actor == town_user


@pytest.mark.django_db
def test_lists_never_carry_full_id_numbers(county, bureau_user, api_as):
    body = api_as(bureau_user).get("/api/v1/recipients/").content.decode()
    assert county["mine"].id_number not in body and county["mine"].id_number[-4:] in body


@pytest.mark.django_db
def test_anonymous_gets_nothing(county, client, api_client):
    assert api_client.get("/api/v1/recipients/").status_code in (401, 403)
    assert client.get(reverse("recipients:recipient_list")).status_code == 302


def _many(n, provider, caregiver):
    for i in range(n):
        r = RecipientFactory(name=f"多{i}", level="partial")
        AgreementFactory(recipient=r, provider=provider, caregiver=caregiver, start_date=datetime.date(2026, 1, 1))


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/recipients/",
        "/api/v1/agreements/",
        "/api/v1/caregivers/",
        "/portal/recipients/",
        "/portal/contracts/agreements/",
        "/portal/contracts/caregivers/",
    ],
)
def test_lists_run_a_fixed_number_of_queries(
    url, provider, caregiver, bureau_user, client, django_assert_max_num_queries
):
    ContractFactory(provider=provider)
    client.force_login(bureau_user)
    _many(1, provider, caregiver)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    _many(12, provider, caregiver)
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert client.get(url).status_code == 200
