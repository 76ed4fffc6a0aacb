import datetime

import pytest
from django.utils import timezone

from shenxian_care.exceptions import ApplicationError
from supervision import actions, selectors
from supervision.models import RectificationNotice, RectificationStatus
from supervision.tasks import rectification_mark_overdue_task

pytestmark = pytest.mark.django_db


def today():
    """Read when the test runs, not when the file is imported: a run may cross midnight (Beijing time)."""
    return timezone.localdate()


@pytest.fixture
def notice(bureau_user, provider, yanta_agreements):
    return actions.rectification_issue(
        actor=bureau_user,
        provider=provider,
        town=yanta_agreements[0].town,
        problem="服务记录缺少时长，限期补正",
        deadline=today() + datetime.timedelta(days=5),
    )


def test_issue_answer_accept(notice, provider_user, bureau_user):
    assert notice.number.startswith(f"ZG{today():%Y%m}")
    notice = actions.rectification_answer(actor=provider_user, notice=notice, answer="已补正全部记录")
    assert notice.status == RectificationStatus.ANSWERED
    notice = actions.rectification_accept(actor=bureau_user, notice=notice)
    assert notice.status == RectificationStatus.ACCEPTED
    assert notice.overdue_on is None


def test_send_back_then_answer_again(notice, provider_user, bureau_user):
    actions.rectification_answer(actor=provider_user, notice=notice, answer="已整改")
    with pytest.raises(ApplicationError, match="退回理由"):
        actions.rectification_send_back(actor=bureau_user, notice=notice, reason="")
    notice = actions.rectification_send_back(actor=bureau_user, notice=notice, reason="仍有3户未补正")
    assert notice.status == RectificationStatus.RETURNED
    assert notice.times_returned == 1
    with pytest.raises(ApplicationError, match="已答复"):
        actions.rectification_accept(actor=bureau_user, notice=notice)
    notice = actions.rectification_answer(actor=provider_user, notice=notice, answer="全部补正")
    assert notice.status == RectificationStatus.ANSWERED


def test_only_the_notified_provider_answers(notice, other_provider_user, provider_user):
    with pytest.raises(ApplicationError, match="本机构"):
        actions.rectification_answer(actor=other_provider_user, notice=notice, answer="x")
    assert list(selectors.rectification_list(actor=provider_user)) == [notice]
    assert not selectors.rectification_list(actor=other_provider_user).exists()


def test_deadline_cannot_be_in_the_past(bureau_user, provider):
    with pytest.raises(ApplicationError, match="整改期限"):
        actions.rectification_issue(
            actor=bureau_user, provider=provider, problem="x", deadline=today() - datetime.timedelta(days=1)
        )


def test_overdue_marking_is_daily_and_idempotent(bureau_user, provider_user, provider, yanta_agreements):
    # given one open notice, one answered in time, one sent back — all with a deadline of today
    open_notice = actions.rectification_issue(actor=bureau_user, provider=provider, problem="a", deadline=today())
    answered = actions.rectification_issue(actor=bureau_user, provider=provider, problem="b", deadline=today())
    actions.rectification_answer(actor=provider_user, notice=answered, answer="已整改")
    returned = actions.rectification_issue(actor=bureau_user, provider=provider, problem="c", deadline=today())
    actions.rectification_answer(actor=provider_user, notice=returned, answer="已整改")
    actions.rectification_send_back(actor=bureau_user, notice=returned, reason="未到位")

    # on the deadline itself nothing is overdue
    assert actions.rectification_mark_overdue(today=today()) == 0
    # the next day the open and the sent-back notice are
    tomorrow = today() + datetime.timedelta(days=1)
    assert rectification_mark_overdue_task.delay(today=tomorrow.isoformat()).get() == 2
    # and running again changes nothing
    assert rectification_mark_overdue_task.delay(today=(tomorrow + datetime.timedelta(days=1)).isoformat()).get() == 0

    statuses = dict(RectificationNotice.objects.values_list("pk", "status"))
    assert statuses == {
        open_notice.pk: RectificationStatus.OVERDUE,
        answered.pk: RectificationStatus.ANSWERED,
        returned.pk: RectificationStatus.OVERDUE,
    }
    assert RectificationNotice.objects.get(pk=open_notice.pk).overdue_on == tomorrow
    # the provider is reminded once per notice, in the portal
    reminders = selectors.notification_list(actor=provider_user)
    assert reminders.count() == 2
    assert all("已超过整改期限" in n.message for n in reminders)

    # an overdue notice can still be answered and accepted; it stays on record as having been overdue
    actions.rectification_answer(actor=provider_user, notice=open_notice, answer="迟到的整改")
    notice = actions.rectification_accept(actor=bureau_user, notice=open_notice)
    assert notice.status == RectificationStatus.ACCEPTED
    assert notice.overdue_on == tomorrow


def test_notice_from_a_visit_exception(bureau_user, provider, yanta_agreements):
    from .factories import make_visit

    agreement = yanta_agreements[0]
    flagged = make_visit(agreement, datetime.date(2026, 10, 9), minutes=5, status="exception")
    fine = make_visit(agreement, datetime.date(2026, 10, 10))
    deadline = today() + datetime.timedelta(days=3)

    notice = actions.rectification_issue(
        actor=bureau_user, provider=provider, problem="服务时长不足5分钟", deadline=deadline, visit=flagged
    )

    assert notice.source == "visit_exception"
    assert notice.recipient == agreement.recipient
    assert notice.town == agreement.town
    with pytest.raises(ApplicationError, match="没有异常"):
        actions.rectification_issue(actor=bureau_user, provider=provider, problem="x", deadline=deadline, visit=fine)
