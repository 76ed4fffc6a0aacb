"""Service ends when support or the contract ends: an approved exit ends the agreement on the exit date and tells
the provider; visits after it are refused; the provider reads the month's list changes (名单变动) and marks them."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from contracts.models import AgreementStatus, NoticeKind, ProviderNotice
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


def test_an_approved_death_ends_the_agreement_the_day_of_death_and_tells_the_provider(served, town_user, bureau_user):
    """Died on 11 February 2026: the exit date is 12 February (the day of death is served and paid), so the
    agreement ends on 11 February and no longer reads 已签订 … 至 长期."""
    support_exit = exit_report(actor=town_user, recipient=served.recipient, reason="death", occurred_on=D(2026, 2, 11))

    exit_approve(actor=bureau_user, support_exit=support_exit)

    served.refresh_from_db()
    assert (served.status, served.end_date) == (AgreementStatus.TERMINATED, D(2026, 2, 11))
    assert "退出供养（死亡）" in served.termination_reason
    assert served.in_force_on(D(2026, 2, 11)) and not served.in_force_on(D(2026, 2, 12))
    notice = ProviderNotice.objects.get(provider=served.provider)
    assert notice.kind == NoticeKind.EXIT and notice.agreement == served
    assert "2026年02月11日止" in notice.message


def test_a_draft_for_someone_who_has_left_cannot_be_signed(provider_user, town_user, bureau_user, caregiver):
    from contracts.actions import agreement_create, agreement_sign_as_town
    from shenxian_care.exceptions import ApplicationError

    ContractFactory(provider=caregiver.provider)
    recipient = RecipientFactory(entry_date=D(2024, 1, 1))
    draft = agreement_create(
        actor=provider_user, recipient=recipient, caregiver=caregiver, start_date=timezone.localdate()
    )
    exit_approve(
        actor=bureau_user,
        support_exit=exit_report(
            actor=bureau_user, recipient=recipient, reason="income", occurred_on=timezone.localdate()
        ),
    )
    with pytest.raises(ApplicationError, match="不在供养期内"):
        agreement_sign_as_town(actor=town_user, agreement=draft, village_signatory="王主任")


def test_the_provider_reads_its_notices_and_marks_them_read(
    served, town_user, bureau_user, client_as, other_provider_user
):
    exit_approve(
        actor=bureau_user,
        support_exit=exit_report(
            actor=town_user, recipient=served.recipient, reason="death", occurred_on=D(2026, 2, 11)
        ),
    )
    from shenxian_care.models import Role
    from tests.factories import UserFactory

    staff = UserFactory(username="served-provider-staff", role=Role.PROVIDER, provider=served.provider)
    page = client_as(staff).get(reverse("contracts:notice_list")).content.decode()
    assert served.recipient.name in page and "1条未读" in page

    # another provider sees none of it, and cannot mark it read
    assert (
        served.recipient.name
        not in client_as(other_provider_user).get(reverse("contracts:notice_list")).content.decode()
    )
    notice = ProviderNotice.objects.get()
    client_as(other_provider_user).post(reverse("contracts:notice_mark_read"), {"ids": [notice.pk]})
    notice.refresh_from_db()
    assert notice.read_at is None

    client_as(staff).post(reverse("contracts:notice_mark_read"), {"ids": [notice.pk]})
    notice.refresh_from_db()
    assert notice.read_at is not None and notice.read_by == staff


def test_what_an_exit_ends_is_every_signed_agreement_still_running_on_the_exit_date(caregiver):
    """Exit date 1 March 2026: an agreement that ended 28 February is left as it was; one ending on 1 March, one
    without an end and one that starts later are all still running that day; a terminated or draft one is not."""
    from contracts.models import Agreement

    provider = caregiver.provider
    ContractFactory(provider=provider)
    exit_date = D(2026, 3, 1)

    def agreement(**kwargs):
        recipient = RecipientFactory(entry_date=D(2024, 1, 1))
        return AgreementFactory(provider=provider, caregiver=caregiver, recipient=recipient, **kwargs)

    ended_before = agreement(start_date=D(2025, 1, 1), end_date=D(2026, 2, 28))
    ends_that_day = agreement(start_date=D(2025, 1, 1), end_date=D(2026, 3, 1))
    open_ended = agreement(start_date=D(2025, 1, 1))
    starts_later = agreement(start_date=D(2026, 4, 1))
    terminated = agreement(start_date=D(2025, 1, 1), end_date=D(2026, 6, 30), status=AgreementStatus.TERMINATED)
    draft = agreement(start_date=D(2025, 1, 1), status=AgreementStatus.DRAFT, signed_on=None)

    running = set(Agreement.objects.running_from(exit_date))

    assert running == {ends_that_day, open_ended, starts_later}
    assert not running & {ended_before, terminated, draft}
