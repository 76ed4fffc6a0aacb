"""Visits are verified against the same windows billing pays by: none after an approved exit or after the
provider's contract ended, whatever the agreement still reads."""

import datetime

import pytest
from django.http import Http404
from django.utils import timezone

from contracts.models import ContractStatus
from recipients.actions import exit_approve, exit_report
from tests.factories import AgreementFactory, ContractFactory, RecipientFactory

D = datetime.date
pytestmark = pytest.mark.django_db


@pytest.fixture
def served(caregiver):
    return AgreementFactory(
        provider=caregiver.provider,
        caregiver=caregiver,
        recipient=RecipientFactory(level="partial", entry_date=D(2024, 1, 1)),
        start_date=D(2024, 1, 1),
    )


def test_a_visit_after_the_exit_is_refused(served, caregiver_user, town_user, bureau_user, check_in):
    today = timezone.localdate()
    yesterday = today - datetime.timedelta(days=1)  # the visits below are of today, whatever the hour
    support_exit = exit_report(actor=town_user, recipient=served.recipient, reason="moved", occurred_on=yesterday)
    exit_approve(actor=bureau_user, support_exit=support_exit)

    # checking in now: the person is no longer the caregiver's (access ends when service ends)
    with pytest.raises(Http404):
        check_in(caregiver_user, served.recipient, ago_minutes=1)
    # the same visit arriving late from an offline phone's queue is taken, and flagged
    visit = check_in(caregiver_user, served.recipient, ago_minutes=1, offline=True)

    assert visit.exception_reasons == ["no_agreement"]
    assert visit.agreement is None


def test_a_visit_after_the_contract_ended_is_refused(caregiver, caregiver_user, check_in):
    """The provider's contract was terminated two days ago (its last day); the agreement still reads 已签订: a visit
    today has no agreement in force under a contract, so it is refused."""
    contract = ContractFactory(provider=caregiver.provider)
    agreement = AgreementFactory(provider=caregiver.provider, contract=contract, caregiver=caregiver)
    type(contract).objects.filter(pk=contract.pk).update(
        status=ContractStatus.TERMINATED, terminated_on=timezone.localdate() - datetime.timedelta(days=2)
    )

    with pytest.raises(Http404):
        check_in(caregiver_user, agreement.recipient, ago_minutes=1)
    visit = check_in(caregiver_user, agreement.recipient, ago_minutes=1, offline=True)

    assert visit.exception_reasons == ["no_agreement"]


def test_a_caregiver_whose_agreement_ended_cannot_check_in_there(caregiver, caregiver_user, check_in, client_as):
    """Replaced last week (the agreement ended, another caregiver serves the person now): checking in, on the
    phone or the portal, is refused with nothing recorded; a visit of before the end, sent late from the offline
    queue, still arrives."""
    from django.urls import reverse

    from contracts.models import AgreementStatus
    from services.models import Visit

    ended = timezone.localdate() - datetime.timedelta(days=7)
    old = AgreementFactory(
        provider=caregiver.provider,
        caregiver=caregiver,
        recipient=RecipientFactory(entry_date=D(2024, 1, 1)),
        start_date=D(2024, 1, 1),
        end_date=ended,
        status=AgreementStatus.TERMINATED,
    )
    with pytest.raises(Http404):
        check_in(caregiver_user, old.recipient, ago_minutes=30)
    response = client_as(caregiver_user).post(
        reverse("services:caregiver_check_in", args=[old.recipient.pk]),
        {"latitude": "36.234", "longitude": "115.671", "started_at": timezone.now().isoformat()},
    )
    assert response.status_code == 404
    assert not Visit.objects.exists()
    late = check_in(caregiver_user, old.recipient, ago_minutes=60 * 24 * 8, offline=True)
    assert late.visit_date < ended and late.exception_reasons != ["no_agreement"]


def test_a_caregiver_cannot_log_for_someone_served_long_ago(caregiver, caregiver_user, check_in):
    """An offline phone's queue is taken for 31 days after an agreement ends (and flagged); after that the
    recipient is simply not found for this caregiver."""
    from contracts.models import AgreementStatus

    old = AgreementFactory(
        provider=caregiver.provider,
        caregiver=caregiver,
        recipient=RecipientFactory(entry_date=D(2024, 1, 1)),
        start_date=D(2024, 1, 1),
        end_date=timezone.localdate() - datetime.timedelta(days=40),
        status=AgreementStatus.TERMINATED,
    )
    with pytest.raises(Http404):
        check_in(caregiver_user, old.recipient, ago_minutes=30)
