"""Four-party agreements: one active agreement per recipient per day, the guardian rule, contract cover."""

import datetime

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction

from contracts.actions import agreement_create, agreement_sign_as_town, agreement_terminate
from contracts.models import Agreement, AgreementStatus
from recipients.models import CivilCapacity
from shenxian_care.exceptions import ApplicationError
from tests.factories import AgreementFactory, CaregiverFactory, ContractFactory, RecipientFactory, town

D = datetime.date


@pytest.fixture
def setting(provider, provider_user, town_user):
    ContractFactory(provider=provider, towns=[town("燕塔街道")])
    return {
        "recipient": RecipientFactory(entry_date=D(2024, 1, 1), level="partial"),
        "caregiver": CaregiverFactory(provider=provider),
    }


@pytest.mark.django_db
def test_provider_drafts_and_town_signs(setting, provider_user, town_user):
    draft = agreement_create(
        actor=provider_user,
        recipient=setting["recipient"],
        caregiver=setting["caregiver"],
        start_date=D(2026, 10, 1),
        provider_signed_on=D(2026, 9, 25),
    )
    assert draft.status == AgreementStatus.DRAFT
    assert draft.level_at_signing == "partial"
    assert draft.provider == provider_user.provider
    signed = agreement_sign_as_town(
        actor=town_user, agreement=draft, signed_on=D(2026, 9, 28), village_signatory="王主任"
    )
    assert signed.status == AgreementStatus.SIGNED
    assert signed.in_force_on(D(2026, 10, 1)) and not signed.in_force_on(D(2026, 9, 30))


@pytest.mark.django_db
@time_machine.travel(datetime.datetime(2026, 10, 20, 10, tzinfo=datetime.UTC), tick=False)
def test_agreement_is_in_force_from_the_last_of_the_four_signatures(setting, provider_user, town_user):
    """Start 1 October; the provider signed 25 September, the village committee 26 September, the town
    28 September, but the recipient's guardian only on 3 October: in force from 3 October, not before."""
    draft = agreement_create(
        actor=provider_user,
        recipient=setting["recipient"],
        caregiver=setting["caregiver"],
        start_date=D(2026, 10, 1),
        provider_signed_on=D(2026, 9, 25),
    )
    signed = agreement_sign_as_town(
        actor=town_user,
        agreement=draft,
        signed_on=D(2026, 9, 28),
        village_signatory="王主任",
        village_signed_on=D(2026, 9, 26),
        recipient_signed_on=D(2026, 10, 3),
    )
    assert signed.signed_on == D(2026, 10, 3)
    assert signed.window == (D(2026, 10, 3), None)
    assert not signed.in_force_on(D(2026, 10, 2)) and signed.in_force_on(D(2026, 10, 3))
    assert list(Agreement.objects.in_force_on(D(2026, 10, 2))) == []
    assert list(Agreement.objects.in_force_on(D(2026, 10, 3))) == [signed]


@pytest.mark.django_db
def test_town_cannot_sign_without_the_village_committee_or_with_a_future_date(setting, provider_user, town_user):
    draft = agreement_create(
        actor=provider_user,
        recipient=setting["recipient"],
        caregiver=setting["caregiver"],
        start_date=D(2026, 10, 1),
        provider_signed_on=D(2026, 9, 25),
    )
    with pytest.raises(ApplicationError, match="村（居）委会签字"):
        agreement_sign_as_town(actor=town_user, agreement=draft)
    with pytest.raises(ApplicationError, match="不能晚于今天"):
        agreement_sign_as_town(
            actor=town_user,
            agreement=draft,
            village_signatory="王主任",
            recipient_signed_on=datetime.date.today() + datetime.timedelta(days=2),
        )
    draft.refresh_from_db()
    assert draft.status == AgreementStatus.DRAFT and draft.signed_on is None


@pytest.mark.django_db
def test_second_agreement_overlapping_a_signed_one_is_refused(setting, provider_user, town_user):
    first = agreement_create(
        actor=provider_user,
        recipient=setting["recipient"],
        caregiver=setting["caregiver"],
        start_date=D(2026, 10, 1),
        provider_signed_on=D(2026, 9, 25),
    )
    agreement_sign_as_town(actor=town_user, agreement=first, village_signatory="王主任", signed_on=D(2026, 9, 28))
    with pytest.raises(ApplicationError, match="同一天只能有一份有效协议"):
        agreement_create(
            actor=provider_user,
            recipient=setting["recipient"],
            caregiver=setting["caregiver"],
            start_date=D(2026, 11, 1),
        )
    # after the first ends on 31 October, a new one from 1 November is fine: no gap, no overlap
    agreement_terminate(actor=provider_user, agreement=first, last_day=D(2026, 10, 31), reason="更换照料护理人")
    second = agreement_create(
        actor=provider_user,
        recipient=setting["recipient"],
        caregiver=setting["caregiver"],
        start_date=D(2026, 11, 1),
        provider_signed_on=D(2026, 10, 20),
    )
    agreement_sign_as_town(actor=town_user, agreement=second, village_signatory="王主任", signed_on=D(2026, 10, 20))
    assert Agreement.objects.in_force_on(D(2026, 10, 31)).get(recipient=setting["recipient"]) == first
    assert Agreement.objects.in_force_on(D(2026, 11, 1)).get(recipient=setting["recipient"]) == second


@pytest.mark.django_db
def test_two_drafts_cannot_both_be_signed(setting, provider_user, town_user):
    a = agreement_create(
        actor=provider_user,
        recipient=setting["recipient"],
        caregiver=setting["caregiver"],
        start_date=D(2026, 10, 1),
        provider_signed_on=D(2026, 9, 25),
    )
    b = agreement_create(
        actor=provider_user, recipient=setting["recipient"], caregiver=setting["caregiver"], start_date=D(2026, 10, 5)
    )
    agreement_sign_as_town(actor=town_user, agreement=a, village_signatory="王主任")
    with pytest.raises(ApplicationError, match="同一天只能有一份有效协议"):
        agreement_sign_as_town(actor=town_user, agreement=b, village_signatory="王主任")


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the exclusion constraint is PostgreSQL's")
def test_database_refuses_overlap_even_below_the_actions():
    first = AgreementFactory(start_date=D(2026, 1, 1))
    with pytest.raises(IntegrityError), transaction.atomic():
        AgreementFactory(recipient=first.recipient, provider=first.provider, start_date=D(2026, 6, 1))


@pytest.mark.django_db
def test_guardian_signs_for_a_recipient_without_civil_capacity(setting, provider_user):
    recipient = RecipientFactory(
        civil_capacity=CivilCapacity.NONE, guardian_name="赵监护", entry_date=D(2024, 1, 1), level="full"
    )
    draft = agreement_create(
        actor=provider_user,
        recipient=recipient,
        caregiver=setting["caregiver"],
        start_date=D(2026, 10, 1),
        provider_signed_on=D(2026, 9, 25),
    )
    assert draft.signed_by_guardian and draft.signatory_name == "赵监护"


@pytest.mark.django_db
def test_recipient_without_civil_capacity_and_no_guardian_cannot_sign(setting, provider_user):
    recipient = RecipientFactory(entry_date=D(2024, 1, 1), level="full")
    # The database itself refuses a person without civil capacity and no guardian...
    with pytest.raises(IntegrityError), transaction.atomic():
        type(recipient).objects.filter(pk=recipient.pk).update(civil_capacity=CivilCapacity.NONE)


@pytest.mark.django_db
def test_agreement_needs_an_active_contract_covering_the_town(provider, provider_user):
    ContractFactory(provider=provider, towns=[town("朝城镇")])
    recipient = RecipientFactory(entry_date=D(2024, 1, 1))  # 燕塔街道
    with pytest.raises(ApplicationError, match="没有覆盖燕塔街道的有效购买服务合同"):
        agreement_create(
            actor=provider_user,
            recipient=recipient,
            caregiver=CaregiverFactory(provider=provider),
            start_date=D(2026, 10, 1),
        )


@pytest.mark.django_db
def test_caregiver_of_another_provider_is_refused(setting, provider_user, other_provider):
    with pytest.raises(ApplicationError, match="严禁转包"):
        agreement_create(
            actor=provider_user,
            recipient=setting["recipient"],
            caregiver=CaregiverFactory(provider=other_provider),
            start_date=D(2026, 10, 1),
        )


@pytest.mark.django_db
def test_provider_staff_cannot_act_for_another_provider(setting, provider_user, other_provider):
    with pytest.raises(ApplicationError, match="只能为本机构办理"):
        agreement_create(
            actor=provider_user,
            provider=other_provider,
            recipient=setting["recipient"],
            caregiver=setting["caregiver"],
            start_date=D(2026, 10, 1),
        )


@pytest.mark.django_db
def test_town_cannot_sign_for_another_town(setting, provider_user, other_town_user):
    draft = agreement_create(
        actor=provider_user,
        recipient=setting["recipient"],
        caregiver=setting["caregiver"],
        start_date=D(2026, 10, 1),
        provider_signed_on=D(2026, 9, 25),
    )
    with pytest.raises(ApplicationError, match="本镇"):
        agreement_sign_as_town(actor=other_town_user, agreement=draft)


@pytest.mark.django_db
def test_no_agreement_outside_support(setting, provider_user):
    recipient = RecipientFactory(entry_date=D(2026, 11, 1))
    with pytest.raises(ApplicationError, match="不在供养期内"):
        agreement_create(
            actor=provider_user, recipient=recipient, caregiver=setting["caregiver"], start_date=D(2026, 10, 1)
        )
