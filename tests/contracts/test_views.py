"""Providers draft agreements in the portal, towns sign them, and the agreement prints from the record."""

import datetime

import pytest
from django.urls import reverse

from contracts.models import Agreement, Caregiver
from recipients.models import CivilCapacity
from tests.factories import CaregiverFactory, ContractFactory, RecipientFactory, make_id_number, town


@pytest.mark.django_db
def test_provider_drafts_town_signs_and_prints(client_as, provider, provider_user, town_user):
    ContractFactory(provider=provider, towns=[town("燕塔街道")])
    recipient = RecipientFactory(
        level="full", civil_capacity=CivilCapacity.NONE, guardian_name="赵监护", entry_date=datetime.date(2025, 1, 1)
    )
    caregiver = CaregiverFactory(provider=provider)
    response = client_as(provider_user).post(
        reverse("contracts:agreement_create"),
        {"recipient": recipient.pk, "caregiver": caregiver.pk, "start_date": "2026-12-01"},
    )
    agreement = Agreement.objects.get()
    assert response.status_code == 302 and agreement.status == "draft"

    client = client_as(town_user)
    response = client.post(
        reverse("contracts:agreement_detail", args=[agreement.pk]),
        {"signed_on": "2026-11-28", "village_signatory": "王主任"},
    )
    agreement.refresh_from_db()
    assert agreement.status == "signed"

    page = client.get(reverse("contracts:agreement_print", args=[agreement.pk])).content.decode()
    assert "莘县分散供养特困人员四方照料服务协议" in page
    assert "由监护人 赵监护 代为签订" in page
    assert "¥626.00" in page
    assert recipient.id_number not in page


@pytest.mark.django_db
def test_refused_agreement_keeps_the_form_and_says_why(client_as, provider, provider_user):
    recipient = RecipientFactory(level="partial")
    # The provider serves the town, but only from next year.
    ContractFactory(provider=provider, towns=[town("燕塔街道")], start_date=datetime.date(2027, 1, 1))
    caregiver = CaregiverFactory(provider=provider)
    response = client_as(provider_user).post(
        reverse("contracts:agreement_create"),
        {"recipient": recipient.pk, "caregiver": caregiver.pk, "start_date": "2026-12-01"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "在2026-12-01没有覆盖燕塔街道的有效购买服务合同" in page
    assert 'value="2026-12-01"' in page  # what was typed is kept
    assert Agreement.objects.count() == 0


@pytest.mark.django_db
def test_provider_registers_a_caregiver_with_a_login(client_as, provider_user):
    response = client_as(provider_user).post(
        reverse("contracts:caregiver_create"),
        {
            "name": "周护理",
            "id_number": make_id_number(datetime.date(1980, 1, 1), "F"),
            "phone": "13912345678",
            "hired_on": "2026-11-01",
            "username": "zhou",
            "password": "Zhou-Caregiver-2026",
        },
    )
    assert response.status_code == 302
    caregiver = Caregiver.objects.get()
    assert caregiver.provider == provider_user.provider and caregiver.user.role == "caregiver"


@pytest.mark.django_db
def test_town_cannot_draft_agreements(client_as, town_user):
    assert client_as(town_user).get(reverse("contracts:agreement_create")).status_code == 403


@pytest.mark.django_db
def test_the_agreement_form_offers_everyone_in_support_today_or_later_and_nobody_out_of_support(
    client_as, provider, provider_user, bureau_user
):
    from django.utils import timezone

    from contracts.forms import AgreementForm

    today = timezone.localdate()
    ContractFactory(provider=provider, towns=[town("燕塔街道")], start_date=today - datetime.timedelta(days=60))
    RecipientFactory(name="在供人", entry_date=today - datetime.timedelta(days=30))
    # an exit approved for a later day (moved out, paid to the end of the month): days still to serve
    leaving = RecipientFactory(name="将退人", entry_date=today - datetime.timedelta(days=30))
    leaving.exit_date = today + datetime.timedelta(days=10)
    leaving.save()
    gone = RecipientFactory(name="已退人", entry_date=today - datetime.timedelta(days=30))
    gone.exit_date = today  # out of support from today
    gone.save()

    for actor in (provider_user, bureau_user):
        offered = set(AgreementForm(actor=actor).fields["recipient"].queryset.values_list("name", flat=True))
        assert {"在供人", "将退人"} <= offered and "已退人" not in offered, actor.role
    page = client_as(provider_user).get(reverse("contracts:agreement_create")).content.decode()
    assert "将退人" in page and "已退人" not in page
