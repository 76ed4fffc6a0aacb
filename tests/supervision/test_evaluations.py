import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from shenxian_care.exceptions import ApplicationError
from supervision import actions, selectors
from supervision.models import Evaluation, EvaluationStatus, Notification
from supervision.tasks import evaluation_remind_missing_task
from tests.factories import ProviderFactory, town

from .factories import serve

pytestmark = pytest.mark.django_db

# Default sheet: A1..A5 with maximum scores 30/30/20/10/10, each weighing its maximum (100 in all).
GOOD_SCORES = {"A1": 27, "A2": 24, "A3": 18, "A4": 9, "A5": 10}


def fill(actor, evaluation, scores=GOOD_SCORES, remarks=None):
    items = {item.code: item.pk for item in evaluation.sheet.items.all()}
    return actions.evaluation_save(
        actor=actor,
        evaluation=evaluation,
        scores={items[code]: (score, "扣分原因见台账") for code, score in scores.items()},
        summary="总体较好",
        remarks=remarks,
    )


def test_submit_computes_weighted_total_and_locks(town_user, provider, yanta_agreements, month):
    # given a draft filled with every item
    evaluation = actions.evaluation_start(actor=town_user, town=town_user.town, provider=provider, month=month)
    fill(town_user, evaluation, remarks=[(yanta_agreements[0].recipient_id, "卫生清洁不够细致")])

    # when the town submits it
    evaluation = actions.evaluation_submit(actor=town_user, evaluation=evaluation)

    # then 27 + 24 + 18 + 9 + 10 = 88.00, and it is locked
    assert evaluation.status == EvaluationStatus.SUBMITTED
    assert evaluation.total_score == Decimal("88.00")
    assert evaluation.remarks.get().remark == "卫生清洁不够细致"
    with pytest.raises(ApplicationError, match="已提交并锁定"):
        fill(town_user, evaluation, scores={"A1": 30})
    with pytest.raises(ApplicationError, match="已提交并锁定"):
        actions.evaluation_submit(actor=town_user, evaluation=evaluation)


def test_weights_change_the_total(town_user, provider, yanta_agreements, month):
    evaluation = actions.evaluation_start(actor=town_user, town=town_user.town, provider=provider, month=month)
    evaluation.sheet.items.filter(code="A1").update(weight=50)
    evaluation.sheet.items.filter(code="A2").update(weight=10)
    fill(town_user, evaluation, scores={"A1": 30, "A2": 0, "A3": 0, "A4": 0, "A5": 0})
    evaluation = actions.evaluation_submit(actor=town_user, evaluation=evaluation)
    # weights 50 + 10 + 20 + 10 + 10 = 100: A1 at full marks gives its weight, 50.00
    assert evaluation.total_score == Decimal("50.00")


def test_submit_needs_every_item(town_user, provider, yanta_agreements, month):
    evaluation = actions.evaluation_start(actor=town_user, town=town_user.town, provider=provider, month=month)
    fill(town_user, evaluation, scores={"A1": 20})
    with pytest.raises(ApplicationError, match="未评分"):
        actions.evaluation_submit(actor=town_user, evaluation=evaluation)


def test_score_above_maximum_is_refused(town_user, provider, yanta_agreements, month):
    evaluation = actions.evaluation_start(actor=town_user, town=town_user.town, provider=provider, month=month)
    with pytest.raises(ApplicationError, match="0至30"):
        fill(town_user, evaluation, scores={"A1": 31})


def test_bureau_returns_with_reason_and_town_corrects(town_user, bureau_user, provider, yanta_agreements, month):
    evaluation = actions.evaluation_start(actor=town_user, town=town_user.town, provider=provider, month=month)
    fill(town_user, evaluation)
    evaluation = actions.evaluation_submit(actor=town_user, evaluation=evaluation)

    with pytest.raises(ApplicationError, match="退回理由"):
        actions.evaluation_return(actor=bureau_user, evaluation=evaluation, reason=" ")
    evaluation = actions.evaluation_return(actor=bureau_user, evaluation=evaluation, reason="A2评分依据不足")

    assert evaluation.status == EvaluationStatus.RETURNED
    assert evaluation.returned_reason == "A2评分依据不足"
    assert evaluation.total_score is None
    fill(town_user, evaluation, scores={**GOOD_SCORES, "A2": 30})
    evaluation = actions.evaluation_submit(actor=town_user, evaluation=evaluation)
    assert evaluation.total_score == Decimal("94.00")
    with pytest.raises(ApplicationError, match="只有已提交"):
        actions.evaluation_return(
            actor=bureau_user,
            evaluation=actions.evaluation_return(actor=bureau_user, evaluation=evaluation, reason="再核"),
            reason="又一次",
        )


def test_only_the_towns_own_official_evaluates_it(
    town_user, other_town_user, bureau_user, provider_user, provider, yanta_agreements, month
):
    yanta = town("燕塔街道")
    with pytest.raises(ApplicationError, match="本镇"):
        actions.evaluation_start(actor=other_town_user, town=yanta, provider=provider, month=month)
    with pytest.raises(PermissionDenied):
        actions.evaluation_start(actor=bureau_user, town=yanta, provider=provider, month=month)
    with pytest.raises(PermissionDenied):
        actions.evaluation_start(actor=provider_user, town=yanta, provider=provider, month=month)

    evaluation = actions.evaluation_start(actor=town_user, town=yanta, provider=provider, month=month)
    with pytest.raises(ApplicationError, match="本镇"):
        fill(other_town_user, evaluation)
    with pytest.raises(ApplicationError, match="本镇"):
        actions.evaluation_submit(actor=other_town_user, evaluation=evaluation)


def test_provider_not_serving_the_town_cannot_be_evaluated(town_user, other_provider, yanta_agreements, month):
    with pytest.raises(ApplicationError, match="没有为本镇"):
        actions.evaluation_start(actor=town_user, town=town_user.town, provider=other_provider, month=month)


def test_future_month_refused(town_user, provider, yanta_agreements):
    with pytest.raises(ApplicationError, match="尚未开始"):
        actions.evaluation_start(
            actor=town_user, town=town_user.town, provider=provider, month=datetime.date(2099, 1, 1)
        )


def test_start_twice_returns_the_same_evaluation(town_user, provider, yanta_agreements, month):
    first = actions.evaluation_start(actor=town_user, town=town_user.town, provider=provider, month=month)
    second = actions.evaluation_start(
        actor=town_user, town=town_user.town, provider=provider, month=month.replace(day=15)
    )
    assert first.pk == second.pk
    assert Evaluation.objects.count() == 1


def test_submitted_evaluation_keeps_its_sheet_version(town_user, bureau_user, provider, yanta_agreements, month):
    evaluation = actions.evaluation_start(actor=town_user, town=town_user.town, provider=provider, month=month)
    fill(town_user, evaluation)
    actions.evaluation_submit(actor=town_user, evaluation=evaluation)
    old_sheet = evaluation.sheet
    assert selectors.sheet_in_use(old_sheet)

    # the bureau publishes version 2 with a different maximum
    new_sheet = actions.evaluation_sheet_copy(actor=bureau_user, sheet=old_sheet)
    new_sheet.items.filter(code="A1").update(max_score=50)
    actions.evaluation_sheet_make_current(actor=bureau_user, sheet=new_sheet)

    evaluation.refresh_from_db()
    assert evaluation.sheet == old_sheet
    assert old_sheet.items.get(code="A1").max_score == 30
    later = actions.evaluation_start(
        actor=town_user, town=town_user.town, provider=provider, month=datetime.date(2026, 11, 1)
    )
    assert later.sheet == new_sheet
    assert new_sheet.version == old_sheet.version + 1


def test_missing_evaluations_per_role(town_user, other_town_user, bureau_user, provider, month):
    # given two providers serving 燕塔街道 and one serving 朝城镇
    second = ProviderFactory(name="莘县第二服务中心")
    serve(provider, "燕塔街道")
    serve(second, "燕塔街道")
    serve(second, "朝城镇")
    evaluation = actions.evaluation_start(actor=town_user, town=town_user.town, provider=provider, month=month)
    fill(town_user, evaluation)
    actions.evaluation_submit(actor=town_user, evaluation=evaluation)

    bureau_rows = selectors.evaluation_missing(actor=bureau_user, month=month)
    assert {(r["town"].name, r["provider"].name) for r in bureau_rows} == {
        ("燕塔街道", "莘县第二服务中心"),
        ("朝城镇", "莘县第二服务中心"),
    }
    town_rows = selectors.evaluation_missing(actor=town_user, month=month)
    assert [(r["town"].name, r["provider"].name) for r in town_rows] == [("燕塔街道", "莘县第二服务中心")]
    assert [r["town"].name for r in selectors.evaluation_missing(actor=other_town_user, month=month)] == ["朝城镇"]


def test_reminder_task_is_one_notice_per_town_and_month(town_user, other_town_user, provider, month):
    serve(provider, "燕塔街道")

    assert evaluation_remind_missing_task.delay(month=month.isoformat()).get() == 1
    assert evaluation_remind_missing_task.delay(month=month.isoformat()).get() == 1

    note = Notification.objects.get()
    assert note.times_sent == 2
    assert "燕塔街道" in note.message and provider.name in note.message
    assert list(selectors.notification_list(actor=town_user)) == [note]
    assert list(selectors.notification_list(actor=other_town_user)) == []

    actions.notification_mark_read(actor=town_user, notification=note)
    assert selectors.notification_list(actor=town_user, unread_only=True).count() == 0


def test_no_reminder_once_submitted(town_user, provider, yanta_agreements, month):
    evaluation = actions.evaluation_start(actor=town_user, town=town_user.town, provider=provider, month=month)
    fill(town_user, evaluation)
    actions.evaluation_submit(actor=town_user, evaluation=evaluation)
    assert actions.evaluation_remind_missing(month=month) == 0
    assert not Notification.objects.exists()


def test_provider_sees_only_its_submitted_evaluations(
    town_user, provider_user, other_provider_user, provider, yanta_agreements, month
):
    evaluation = actions.evaluation_start(actor=town_user, town=town_user.town, provider=provider, month=month)
    assert not selectors.evaluation_list(actor=provider_user).exists()
    fill(town_user, evaluation)
    actions.evaluation_submit(actor=town_user, evaluation=evaluation)
    assert list(selectors.evaluation_list(actor=provider_user)) == [evaluation]
    assert not selectors.evaluation_list(actor=other_provider_user).exists()
