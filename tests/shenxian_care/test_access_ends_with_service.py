"""Access ends when service ends: a provider whose contract has ended and a caregiver whose agreement has ended no
longer list or open their former recipients (nor assessments made after the end), by the same in-force windows
billing pays by. Real objects, not missing ids."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from contracts.actions import agreement_terminate
from contracts.models import Caregiver, ContractStatus, PurchaseContract
from recipients.actions import assessment_create
from recipients.models import Assessment
from shenxian_care.models import Role
from tests.factories import AgreementFactory, ContractFactory, RecipientFactory, UserFactory, town

pytestmark = pytest.mark.django_db
TODAY = datetime.date.today()
ABLE = {field: True for field, _ in Assessment.INDICATORS}


@pytest.fixture
def served(provider, caregiver):
    contract = ContractFactory(provider=provider, towns=[town("燕塔街道")])
    return AgreementFactory(
        provider=provider, contract=contract, caregiver=caregiver, recipient=RecipientFactory(level="full")
    )


def _terminate_contracts(provider, last_day):
    PurchaseContract.objects.filter(provider=provider).update(
        status=ContractStatus.TERMINATED, terminated_on=last_day, termination_reason="一票否决：提供虚假数据"
    )


def _sees(client, recipient):
    listed = client.get("/api/v1/recipients/").json()["results"]
    detail = client.get(f"/api/v1/recipients/{recipient.pk}/")
    return any(r["id"] == recipient.pk for r in listed), detail.status_code


def test_a_provider_sees_its_recipient_while_its_contract_is_in_force(served, provider_user, api_as):
    assert _sees(api_as(provider_user), served.recipient) == (True, 200)


def test_a_terminated_provider_no_longer_sees_its_former_recipients(
    served, provider_user, bureau_user, api_as, client_as
):
    _terminate_contracts(provider_user.provider, TODAY - datetime.timedelta(days=1))
    later = assessment_create(actor=bureau_user, recipient=served.recipient, assessed_on=TODAY, answers=ABLE)

    api = api_as(provider_user)
    assert _sees(api, served.recipient) == (False, 404)
    assert api.get(f"/api/v1/assessments/{later.pk}/").status_code == 404
    assert all(a["id"] != later.pk for a in api.get("/api/v1/assessments/").json()["results"])
    portal = client_as(provider_user)
    assert portal.get(reverse("recipients:recipient_detail", args=[served.recipient.pk])).status_code == 404
    assert served.recipient.name not in portal.get(reverse("recipients:recipient_list")).content.decode()


def test_the_contract_still_in_force_until_its_last_day(served, provider_user, api_as):
    _terminate_contracts(provider_user.provider, TODAY)  # today is its last day
    assert _sees(api_as(provider_user), served.recipient) == (True, 200)


def test_a_caregiver_whose_agreement_ended_no_longer_sees_the_recipient(served, caregiver_user, provider_user, api_as):
    api = api_as(caregiver_user)
    assert _sees(api, served.recipient) == (True, 200)

    agreement_terminate(
        actor=provider_user, agreement=served, last_day=TODAY - datetime.timedelta(days=1), reason="更换照料护理人"
    )

    assert _sees(api, served.recipient) == (False, 404)
    assert api.get("/api/v1/agreements/").json()["results"] == []
    assert api.get("/api/v1/visits/today/").json() == []


def test_a_caregiver_marked_as_left_sees_nobody(served, caregiver_user, api_as, client_as):
    from services.models import Visit
    from tests.services.factories import VisitFactory

    VisitFactory(agreement=served, started_at=timezone.now() - datetime.timedelta(hours=2), minutes=40)
    # marked as left without the login being deactivated with it (a direct edit, an import)
    Caregiver.objects.filter(pk=served.caregiver_id).update(is_active=False, left_on=timezone.localdate())
    fresh = type(caregiver_user).objects.get(pk=caregiver_user.pk)  # as the next request reads the login
    api = api_as(fresh)
    assert _sees(api, served.recipient) == (False, 404)
    assert api.get("/api/v1/agreements/").json()["results"] == []
    assert api.get("/api/v1/visits/").json()["results"] == []
    assert api.get("/api/v1/visits/today/").json() == []
    assert api.get(f"/api/v1/visits/{Visit.objects.get().client_id}/").status_code == 404
    portal = client_as(fresh)
    for url in (reverse("portal:home"), reverse("services:caregiver_day")):
        assert served.recipient.name not in portal.get(url).content.decode(), url


def test_a_caregiver_login_without_a_caregiver_record_sees_nobody(served, api_as):
    stray = UserFactory(username="stray-caregiver", role=Role.CAREGIVER)
    assert _sees(api_as(stray), served.recipient) == (False, 404)


def test_another_providers_recipient_stays_invisible(served, other_provider_user, api_as):
    assert _sees(api_as(other_provider_user), served.recipient) == (False, 404)
