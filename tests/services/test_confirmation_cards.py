"""One-time confirmation code cards: the recipient's side holds the codes, each code confirms one visit, wrong
guesses are limited, a new card voids the old one; the town issues and prints cards for its own recipients."""

import datetime

import pytest
from django.db import connection
from django.urls import reverse

from services.actions import confirmation_card_issue, confirmation_card_revoke, visit_confirm
from services.models import ConfirmationCard, ConfirmationCode, ServiceStandard, Visit, VisitStatus
from services.verification import MAX_WRONG_CODES
from shenxian_care.exceptions import ApplicationError
from tests.factories import AgreementFactory, RecipientFactory, UserFactory, VillageFactory, town

from .factories import VisitFactory, local

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def code_mode():
    ServiceStandard.objects.create(effective_month=datetime.date(2020, 1, 1), confirmation_mode="code")


@pytest.fixture
def visit_of(agreement):
    days = iter(range(3, 28))

    def make(agreement=agreement):
        return VisitFactory(agreement=agreement, started_at=local(2025, 3, next(days)))

    return make


def confirm(caregiver_user, visit, code):
    return visit_confirm(actor=caregiver_user, visit_client_id=visit.client_id, code=code)


def a_code_not_on(card, codes):
    """Six digits that are none of this card's codes (random codes may meet: pick one that does not)."""
    return next(f"{n:06d}" for n in range(1000000) if f"{n:06d}" not in codes)


def test_a_code_of_the_card_confirms_one_visit_and_only_once(caregiver_user, agreement, visit_of, bureau_user):
    # given the recipient's card and two visits
    _card, codes = confirmation_card_issue(actor=bureau_user, recipient=agreement.recipient)
    first, second = visit_of(), visit_of()

    # when the first visit is confirmed with a code
    confirmed = confirm(caregiver_user, first, codes[0])

    # then it is confirmed, the code spent on it
    assert confirmed.confirmed_at is not None and confirmed.confirmation_method == "code"
    assert ConfirmationCode.objects.get(visit=first).used_at is not None
    # and the same code is refused for the second visit; another unused code confirms it
    with pytest.raises(ApplicationError, match="确认码不正确"):
        confirm(caregiver_user, second, codes[0])
    assert Visit.objects.get(pk=second.pk).confirmed_at is None
    assert confirm(caregiver_user, second, f" {codes[1]} ").confirmed_at is not None


def test_a_code_of_another_recipients_card_is_refused(caregiver, caregiver_user, agreement, visit_of, bureau_user):
    # given two recipients of the same caregiver, each with a card
    other = AgreementFactory(provider=caregiver.provider, caregiver=caregiver, recipient=RecipientFactory())
    _mine, my_codes = confirmation_card_issue(actor=bureau_user, recipient=agreement.recipient)
    _theirs, their_codes = confirmation_card_issue(actor=bureau_user, recipient=other.recipient)
    their_code = next(code for code in their_codes if code not in my_codes)
    visit = visit_of()

    # then the other recipient's code does not confirm this recipient's visit
    with pytest.raises(ApplicationError, match="确认码不正确"):
        confirm(caregiver_user, visit, their_code)
    assert Visit.objects.get(pk=visit.pk).confirmed_at is None
    assert not ConfirmationCode.objects.filter(used_at__isnull=False).exists()


def test_five_wrong_codes_send_the_visit_to_review_and_it_takes_no_more(
    caregiver_user, agreement, visit_of, bureau_user
):
    _card, codes = confirmation_card_issue(actor=bureau_user, recipient=agreement.recipient)
    visit = visit_of()
    wrong = a_code_not_on(_card, codes)
    assert visit.status == VisitStatus.VERIFIED

    # four wrong codes: refused, counted (though each answer is an error), the visit still verified
    for left in range(MAX_WRONG_CODES - 1, 0, -1):
        with pytest.raises(ApplicationError, match=f"再输错{left}次"):
            confirm(caregiver_user, visit, wrong)
    visit.refresh_from_db()
    assert visit.confirmation_failures == MAX_WRONG_CODES - 1 and visit.status == VisitStatus.VERIFIED

    # the fifth: the visit goes to review, with the reason
    with pytest.raises(ApplicationError, match="已转人工审核"):
        confirm(caregiver_user, visit, "12")
    visit.refresh_from_db()
    assert visit.status == VisitStatus.EXCEPTION
    assert "confirmation_failed" in visit.exception_reasons
    assert "服务对象确认码多次输错" in visit.reason_labels()

    # and even a right code is no longer taken for it (nor spent)
    with pytest.raises(ApplicationError, match="已转人工审核"):
        confirm(caregiver_user, visit, codes[0])
    assert Visit.objects.get(pk=visit.pk).confirmed_at is None
    assert not ConfirmationCode.objects.filter(used_at__isnull=False).exists()


def test_a_new_card_revokes_the_old_one(caregiver_user, agreement, visit_of, bureau_user):
    # given a card, then a new one (the first was lost)
    old, old_codes = confirmation_card_issue(actor=bureau_user, recipient=agreement.recipient)
    new, new_codes = confirmation_card_issue(actor=bureau_user, recipient=agreement.recipient)
    old.refresh_from_db()
    assert old.revoked_at is not None and new.revoked_at is None and new.number == old.number + 1

    # then the old card's codes are refused, the new card's accepted
    visit = visit_of()
    old_code = next(code for code in old_codes if code not in new_codes)
    with pytest.raises(ApplicationError, match="确认码不正确"):
        confirm(caregiver_user, visit, old_code)
    assert confirm(caregiver_user, visit, new_codes[0]).confirmed_at is not None


def test_a_revoked_card_confirms_nothing_until_a_new_one_is_issued(caregiver_user, agreement, visit_of, bureau_user):
    card, codes = confirmation_card_issue(actor=bureau_user, recipient=agreement.recipient)
    confirmation_card_revoke(actor=bureau_user, recipient=agreement.recipient, reason="卡片遗失")

    visit = visit_of()
    with pytest.raises(ApplicationError, match="没有在用的确认码卡"):
        confirm(caregiver_user, visit, codes[0])
    card.refresh_from_db()
    assert card.revoke_reason == "卡片遗失"
    # (not a wrong try of the caregiver's: the recipient has no card to read from)
    assert Visit.objects.get(pk=visit.pk).confirmation_failures == 0
    with pytest.raises(ApplicationError, match="作废原因"):
        confirmation_card_revoke(actor=bureau_user, recipient=agreement.recipient, reason=" ")


def test_the_codes_are_stored_only_as_keyed_digests(agreement, bureau_user):
    card, codes = confirmation_card_issue(actor=bureau_user, recipient=agreement.recipient, size=10)

    assert len(codes) == len(set(codes)) == 10 and all(len(c) == 6 and c.isdigit() for c in codes)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {ConfirmationCode._meta.db_table}")  # noqa: S608  # nosec B608
        stored = " ".join(str(v) for row in cursor.fetchall() for v in row)
    assert not any(code in stored for code in codes)
    assert card.codes.count() == 10


def test_a_card_has_a_sensible_number_of_codes(agreement, bureau_user):
    for size in (0, 9, 61, "abc"):
        with pytest.raises(ApplicationError, match="确认码个数"):
            confirmation_card_issue(actor=bureau_user, recipient=agreement.recipient, size=size)
    assert not ConfirmationCard.objects.exists()


# --- the town's pages -------------------------------------------------------------------------------------------


def test_the_town_issues_and_prints_a_card_for_its_recipient(client_as, town_user, agreement, caregiver_user):
    # given a recipient of the town (燕塔街道)
    recipient = agreement.recipient
    assert recipient.town_id == town_user.town_id
    client = client_as(town_user)

    # the list shows the recipient without a card
    page = client.get(reverse("services:card_list")).content.decode()
    assert recipient.name in page and "未发卡" in page

    # when the town issues a card
    response = client.post(reverse("services:card_issue", args=[recipient.pk]), {"size": "30"})

    # then the printable page shows its 30 codes, once, and is not cached
    assert response.status_code == 200
    card = ConfirmationCard.objects.get(recipient=recipient)
    codes = [code for _, code in response.context["codes"]]
    assert len(codes) == 30 and all(code in response.content.decode() for code in codes)
    assert "no-store" in response["Cache-Control"]
    assert card.issued_by == town_user
    # the list now shows the card and how many codes are left, never a code
    page = client.get(reverse("services:card_list")).content.decode()
    assert "第1号" in page and not any(code in page for code in codes)
    # and a code from the printed card confirms the caregiver's visit
    visit = VisitFactory(agreement=agreement)
    assert confirm(caregiver_user, visit, codes[5]).confirmed_at is not None


def test_another_towns_recipient_is_out_of_reach(client_as, other_town_user, agreement):
    client = client_as(other_town_user)

    assert agreement.recipient.name not in client.get(reverse("services:card_list")).content.decode()
    assert client.post(reverse("services:card_issue", args=[agreement.recipient.pk])).status_code == 404
    assert (
        client.post(reverse("services:card_revoke", args=[agreement.recipient.pk]), {"reason": "x"}).status_code == 404
    )
    assert not ConfirmationCard.objects.exists()
    with pytest.raises(Exception, match="未找到"):
        confirmation_card_issue(actor=other_town_user, recipient=agreement.recipient)


def test_providers_and_caregivers_never_get_cards(client_as, provider_user, caregiver_user, agreement):
    for user in (provider_user, caregiver_user):
        client = client_as(user)
        assert client.get(reverse("services:card_list")).status_code == 403
        assert client.post(reverse("services:card_issue", args=[agreement.recipient.pk])).status_code == 403
    assert not ConfirmationCard.objects.exists()
    assert ConfirmationCard.objects.for_actor(provider_user).count() == 0


def test_the_town_revokes_a_lost_card(client_as, town_user, agreement):
    confirmation_card_issue(actor=town_user, recipient=agreement.recipient)
    client = client_as(town_user)

    response = client.post(reverse("services:card_revoke", args=[agreement.recipient.pk]), {"reason": "卡片遗失"})

    assert response.status_code == 302
    assert ConfirmationCard.objects.get().revoked_at is not None
    assert "未发卡" in client.get(reverse("services:card_list")).content.decode()


def test_the_card_list_reads_a_fixed_number_of_queries(
    client_as, town_user, bureau_user, django_assert_max_num_queries
):
    for _ in range(3):
        recipient = RecipientFactory(village=VillageFactory(town=town("燕塔街道")))
        confirmation_card_issue(actor=bureau_user, recipient=recipient)
    client = client_as(town_user)
    client.get(reverse("services:card_list"))
    with django_assert_max_num_queries(12) as few:
        client.get(reverse("services:card_list"))
    for _ in range(5):
        RecipientFactory(village=VillageFactory(town=town("燕塔街道")))
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("services:card_list"))


def test_the_check_out_form_asks_for_a_six_digit_code(client_as, caregiver_user, agreement):
    import uuid

    client = client_as(caregiver_user)
    client.post(f"/portal/services/caregiver/check-in/{agreement.recipient_id}/", {"client_id": str(uuid.uuid4())})
    page = client.get("/portal/services/caregiver/").content.decode()
    assert "确认码卡" in page and 'maxlength="6"' in page


def test_a_user_of_no_town_issues_nothing(agreement):
    with pytest.raises(Exception):  # noqa: B017,PT011 - refused whatever the form of the refusal
        confirmation_card_issue(actor=UserFactory(username="nobody", role="finance"), recipient=agreement.recipient)


def test_the_card_list_searches_by_name_and_names_a_search_it_cannot_run(client_as, town_user):
    RecipientFactory(name="李找到", village=VillageFactory(town=town("燕塔街道")))
    RecipientFactory(name="王其他", village=VillageFactory(town=town("燕塔街道")))
    client = client_as(town_user)

    found = client.get(reverse("services:card_list"), {"q": " 李找 "}).content.decode()
    assert "李找到" in found and "王其他" not in found
    # a NUL byte (PostgreSQL refuses one in text) or a search longer than 32 characters is said, and no search is run
    for bad, message in (("李\x00", "查询内容含有不允许的空字符"), ("李" * 33, "查询内容过长（最多 32 个字符）")):
        response = client.get(reverse("services:card_list"), {"q": bad})
        page = response.content.decode()
        assert response.status_code == 200 and message in page
        assert "李找到" in page and "王其他" in page
