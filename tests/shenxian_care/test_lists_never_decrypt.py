"""Data minimisation: the lists people work from show names, places and the stored masked copies, so building
them never decrypts an ID or bank number (nor do the admin's list filters). Only a record's own page, an explicit
and audited "show the full number", a list column that shows a bank account masked, and the payment files that
need the account itself decrypt."""

import datetime

import pytest
from django.utils import timezone

from shenxian_care import crypto
from tests.factories import AgreementFactory, CaregiverFactory, RecipientFactory
from tests.services.factories import VisitFactory

pytestmark = pytest.mark.django_db

BUREAU_LISTS = [
    "/portal/recipients/",
    "/portal/contracts/agreements/",
    "/portal/services/dashboard/",
    "/portal/services/dashboard.json",
    "/portal/services/exceptions/",
    "/portal/services/report/?group=recipient",
    "/api/v1/recipients/",
    "/api/v1/agreements/",
    "/api/v1/visits/",
]


@pytest.fixture
def decrypted(monkeypatch):
    calls = []
    real = crypto.decrypt
    monkeypatch.setattr(crypto, "decrypt", lambda token: calls.append(token) or real(token))
    return calls


@pytest.fixture
def served(provider, caregiver):
    """Three recipients with guardians' ID numbers, served by caregivers with bank accounts, with visits today."""
    now = timezone.now()
    for i in range(3):
        recipient = RecipientFactory(guardian_name="王监护", guardian_id_number="371522196001010011")
        extra = {"caregiver": caregiver} if i else {}  # one served by another caregiver of the provider
        agreement = AgreementFactory(recipient=recipient, provider=provider, **extra)
        VisitFactory(
            agreement=agreement,
            started_at=now - datetime.timedelta(hours=3 + i),
            status="exception" if i == 1 else "verified",
            exception_reasons=["too_far"] if i == 1 else [],
        )
    CaregiverFactory(provider=provider)


@pytest.mark.parametrize("url", BUREAU_LISTS)
def test_a_bureau_list_never_decrypts_an_id_or_bank_number(client_as, bureau_user, served, decrypted, url):
    response = client_as(bureau_user).get(url)
    assert response.status_code == 200
    assert decrypted == []


@pytest.mark.parametrize(
    "url",
    [
        "/admin/recipients/recipient/",
        "/admin/contracts/agreement/",
        "/admin/contracts/caregiver/",
        "/admin/services/visit/",
        "/admin/recipients/levelapproval/",
    ],
)
def test_an_admin_list_never_decrypts_an_id_or_bank_number(client_as, bureau_user, served, decrypted, url):
    response = client_as(bureau_user).get(url)
    assert response.status_code == 200
    assert decrypted == []


def test_the_providers_admin_list_decrypts_only_the_bank_account_it_shows_masked(
    client_as, bureau_user, provider, served, decrypted
):
    response = client_as(bureau_user).get("/admin/contracts/provider/")
    assert response.status_code == 200
    assert len(decrypted) == 1  # the one provider's account, shown masked


def test_a_record_of_its_own_still_reads_its_numbers(client_as, bureau_user, served, decrypted):
    from recipients.models import Recipient

    recipient = Recipient.objects.filter(guardian_name="王监护").first()
    response = client_as(bureau_user).get(f"/admin/recipients/recipient/{recipient.pk}/change/")
    assert response.status_code == 200
    assert decrypted  # the change form reads them (and shows them only as the bureau's form allows)


@pytest.mark.parametrize("url", ["/portal/services/caregiver/", "/api/v1/visits/today/", "/api/v1/visits/"])
def test_the_caregivers_day_never_decrypts_an_id_or_bank_number(client_as, caregiver_user, served, decrypted, url):
    response = client_as(caregiver_user).get(url)
    assert response.status_code == 200
    assert decrypted == []
