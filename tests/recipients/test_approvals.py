"""The bureau decides reported changes in the portal (待审定), one by one or several at once; the town follows
its reports (我的报告). One permission rule per transition serves the action, the page and its buttons."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse

from recipients import actions, permissions, selectors
from recipients.models import Assessment, SupportExit
from recipients.selectors import level_on
from shenxian_care.exceptions import ApplicationError
from tests.factories import RecipientFactory, VillageFactory, town

pytestmark = pytest.mark.django_db

FIELDS = [f for f, _ in Assessment.INDICATORS]


def report_change(actor, recipient, lost=2, assessed_on=datetime.date(2026, 11, 5)):
    answers = {f: i >= lost for i, f in enumerate(FIELDS)}
    return actions.assessment_create(
        actor=actor, recipient=recipient, assessed_on=assessed_on, answers=answers, reported_on=assessed_on
    )


def report_exit(actor, recipient, day=datetime.date(2026, 11, 20)):
    return actions.exit_report(actor=actor, recipient=recipient, reason="death", occurred_on=day)


def in_other_town():
    return RecipientFactory(village=VillageFactory(town=town("朝城镇")))


# --- the rule ----------------------------------------------------------------------------------------------------


def test_each_rule_is_the_one_the_action_checks(bureau_user, town_user):
    recipient = RecipientFactory(level="self_care")
    assessment = report_change(town_user, recipient)
    support_exit = report_exit(town_user, recipient)
    for verb in ("approve", "reject"):
        assert permissions.RULES[f"{verb}_assessment"](bureau_user, assessment)
        assert permissions.RULES[f"{verb}_exit"](bureau_user, support_exit)
        assert not permissions.RULES[f"{verb}_assessment"](town_user, assessment)
        assert not permissions.RULES[f"{verb}_exit"](town_user, support_exit)
    # the town cannot decide, and the action says so
    with pytest.raises(PermissionDenied):
        actions.exit_reject(actor=town_user, support_exit=support_exit, reason="自己退回")
    with pytest.raises(PermissionDenied):
        actions.assessment_reject(actor=town_user, assessment=assessment, reason="自己退回")
    # once decided, neither rule nor action accepts another decision
    actions.exit_reject(actor=bureau_user, support_exit=support_exit, reason="经核实本人健在")
    support_exit.refresh_from_db()
    assert not permissions.can_approve_exit(bureau_user, support_exit)
    with pytest.raises(ApplicationError, match="已审定"):
        actions.exit_approve(actor=bureau_user, support_exit=support_exit)


def test_a_rejection_needs_a_reason(bureau_user, town_user):
    support_exit = report_exit(town_user, RecipientFactory())
    with pytest.raises(ApplicationError, match="理由"):
        actions.exit_reject(actor=bureau_user, support_exit=support_exit, reason="  ")
    assert SupportExit.objects.get().status == "pending"


def test_a_rule_checked_against_a_stale_copy_is_checked_again_once_locked(bureau_user, town_user):
    assessment = report_change(town_user, RecipientFactory(level="self_care"))
    stale = Assessment.objects.get(pk=assessment.pk)
    actions.assessment_reject(actor=bureau_user, assessment=assessment, reason="复核仍能自理")
    with pytest.raises(ApplicationError, match="已审定"):
        actions.assessment_approve(actor=bureau_user, assessment=stale, effective_date=datetime.date(2026, 11, 5))


# --- the 待审定 page ----------------------------------------------------------------------------------------------


def test_the_list_shows_each_kind_with_a_button_for_each_pending_request(client_as, bureau_user, town_user):
    first = RecipientFactory(name="初评人", level=False)
    changed = RecipientFactory(name="变更人", level="self_care")
    leaving = RecipientFactory(name="退出人")
    report_change(bureau_user, first)
    report_change(town_user, changed)
    report_exit(town_user, leaving)
    client = client_as(bureau_user)

    page = client.get(reverse("recipients:approval_list")).content.decode()
    assert "初次评估" in page and "等级变更" in page and "退出人" in page
    assert page.count("逐项审定") == 3
    only_changes = client.get(reverse("recipients:approval_list"), {"kind": "change"}).content.decode()
    assert "变更人" in only_changes and "初评人" not in only_changes and "退出人" not in only_changes


@pytest.mark.parametrize("bad", ["exits", "", "first' OR 1=1", "\x00"])
def test_a_kind_that_is_not_one_is_named_in_chinese_and_every_kind_is_shown(client_as, bureau_user, town_user, bad):
    report_change(bureau_user, RecipientFactory(name="初评人", level=False))
    report_exit(town_user, RecipientFactory(name="退出人"))

    response = client_as(bureau_user).get(reverse("recipients:approval_list"), {"kind": bad})

    page = response.content.decode()
    assert response.status_code == 200
    assert "初评人" in page and "退出人" in page
    assert ("参数“类型”无效" in page) is (bad != "")


def test_bureau_approves_one_assessment_from_a_chosen_date(client_as, bureau_user, town_user):
    recipient = RecipientFactory(level="self_care")
    assessment = report_change(town_user, recipient, lost=5)
    response = client_as(bureau_user).post(
        reverse("recipients:assessment_decide", args=[assessment.pk]),
        {"decision": "approve", "effective": "next_month", "reason": ""},
    )
    assert response.status_code == 302
    assert level_on(recipient, datetime.date(2026, 11, 30)) == "self_care"
    assert level_on(recipient, datetime.date(2026, 12, 1)) == "full"


def test_bureau_rejects_an_exit_with_a_reason_and_the_form_asks_for_one(client_as, bureau_user, town_user):
    recipient = RecipientFactory()
    support_exit = report_exit(town_user, recipient)
    client = client_as(bureau_user)
    url = reverse("recipients:exit_decide", args=[support_exit.pk])
    response = client.post(url, {"decision": "reject", "reason": ""})
    assert response.status_code == 200 and "请填写不予审定的理由" in response.content.decode()
    client.post(url, {"decision": "reject", "reason": "经核实本人健在"})
    support_exit.refresh_from_db()
    assert support_exit.status == "rejected" and support_exit.decision_reason == "经核实本人健在"
    recipient.refresh_from_db()
    assert recipient.exit_date is None
    # decided: the page shows no decision form any more, and a second decision is refused
    page = client.get(url).content.decode()
    assert "提交审定" not in page
    client.post(url, {"decision": "approve", "reason": ""})
    support_exit.refresh_from_db()
    assert support_exit.status == "rejected"


def test_bureau_approves_several_exits_at_once_through_the_existing_action(client_as, bureau_user, town_user):
    people = [RecipientFactory() for _ in range(3)]
    exits = [report_exit(town_user, p) for p in people]
    response = client_as(bureau_user).post(
        reverse("recipients:exit_decide_batch"),
        {"ids": [exits[0].pk, exits[1].pk], "decision": "approve", "reason": ""},
    )
    assert response.status_code == 302
    assert [e.status for e in SupportExit.objects.order_by("pk")] == ["approved", "approved", "pending"]
    people[0].refresh_from_db()
    assert people[0].exit_date == datetime.date(2026, 11, 21)  # died on the 20th: that day is still paid


def test_bureau_rejects_several_assessments_with_one_reason(client_as, bureau_user, town_user):
    reports = [report_change(town_user, RecipientFactory(level="self_care")) for _ in range(2)]
    client = client_as(bureau_user)
    client.post(
        reverse("recipients:assessment_decide_batch"),
        {"ids": [r.pk for r in reports], "decision": "reject", "reason": "请附医院诊断证明"},
    )
    assert set(Assessment.objects.values_list("status", "decision_reason")) == {("rejected", "请附医院诊断证明")}
    # a batch reject without a reason changes nothing and says why
    more = report_change(town_user, RecipientFactory(level="self_care"))
    response = client.post(
        reverse("recipients:assessment_decide_batch"), {"ids": [more.pk], "decision": "reject", "reason": ""}
    )
    assert Assessment.objects.get(pk=more.pk).status == "pending"
    assert "请填写不予审定的理由" in client.get(response.url).content.decode()


def test_a_batch_reports_the_ones_it_could_not_decide(client_as, bureau_user, town_user):
    ok = report_change(town_user, RecipientFactory(level="self_care"))
    early = RecipientFactory(name="早于纳入", entry_date=datetime.date(2026, 11, 1))
    too_early = report_change(town_user, early, assessed_on=datetime.date(2026, 10, 1))
    client = client_as(bureau_user)
    response = client.post(
        reverse("recipients:assessment_decide_batch"),
        {"ids": [ok.pk, too_early.pk], "decision": "approve", "effective": "assessed_on", "reason": ""},
    )
    page = client.get(response.url).content.decode()
    assert "已审定通过1项" in page and "早于纳入：生效日期不能早于纳入特困供养日期" in page
    assert Assessment.objects.get(pk=too_early.pk).status == "pending"


@pytest.mark.parametrize("who", ["town_user", "provider_user", "finance_user", "caregiver_user"])
def test_only_the_bureau_reaches_the_approvals(request, client_as, town_user, who):
    support_exit = report_exit(town_user, RecipientFactory())
    assessment = report_change(town_user, RecipientFactory(level="self_care"))
    client = client_as(request.getfixturevalue(who))
    assert client.get(reverse("recipients:approval_list")).status_code == 403
    assert client.get(reverse("recipients:exit_decide", args=[support_exit.pk])).status_code == 403
    response = client.post(
        reverse("recipients:assessment_decide_batch"), {"ids": [assessment.pk], "decision": "approve"}
    )
    assert response.status_code == 403
    assert Assessment.objects.get().status == "pending" and SupportExit.objects.get().status == "pending"


def test_the_pending_list_costs_the_same_queries_for_more_requests(
    client_as, bureau_user, town_user, django_assert_max_num_queries
):
    client = client_as(bureau_user)

    def add(n):
        for _ in range(n):
            recipient = RecipientFactory(level="self_care")
            report_change(town_user, recipient)
            report_exit(town_user, recipient)

    add(2)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(reverse("recipients:approval_list"))
    add(6)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(reverse("recipients:approval_list")).content.decode()
    assert page.count("逐项审定") == 16


# --- 我的报告 -----------------------------------------------------------------------------------------------------


def test_the_town_sees_its_reports_and_where_each_stands(client_as, bureau_user, town_user, other_town_user):
    pending = report_change(town_user, RecipientFactory(name="待审人", level="self_care"))
    approved = report_change(town_user, RecipientFactory(name="通过人", level="self_care"))
    actions.assessment_approve(actor=bureau_user, assessment=approved, effective_date=datetime.date(2026, 11, 5))
    returned = report_exit(town_user, RecipientFactory(name="退回人"))
    actions.exit_reject(actor=bureau_user, support_exit=returned, reason="经核实本人健在")
    report_exit(other_town_user, in_other_town())

    page = client_as(town_user).get(reverse("recipients:report_list")).content.decode()
    assert "待审人" in page and "通过人" in page and "退回人" in page and "经核实本人健在" in page
    assert "2026年11月5日起" in page
    assert page.count("张") == 0  # the other town's report is not there (factory names start with 张)
    assert pending.status == "pending"
    only_rejected = client_as(town_user).get(reverse("recipients:report_list"), {"status": "rejected"})
    assert "退回人" in only_rejected.content.decode() and "待审人" not in only_rejected.content.decode()
    # a state that is not one is named, and every report is shown
    unknown = client_as(town_user).get(reverse("recipients:report_list"), {"status": "lost"}).content.decode()
    assert "参数“状态”无效" in unknown and "退回人" in unknown and "待审人" in unknown


def test_another_towns_report_is_not_found(client_as, town_user, other_town_user, bureau_user):
    theirs = report_exit(other_town_user, in_other_town())
    assert selectors.exit_list(actor=town_user).count() == 0
    assert client_as(town_user).get(reverse("recipients:exit_decide", args=[theirs.pk])).status_code == 403
    # the scoped read behind the pages answers another town's report with 404
    with pytest.raises(Http404):
        selectors.exit_get_for_actor(actor=town_user, pk=theirs.pk)
    with pytest.raises(Http404):
        selectors.assessment_get_for_actor(actor=town_user, pk=report_change(other_town_user, in_other_town()).pk)


def test_returned_reports_count_until_reported_again(town_user, bureau_user):
    recipient = RecipientFactory(level="self_care")
    first = report_change(town_user, recipient)
    actions.assessment_reject(actor=bureau_user, assessment=first, reason="请附证明")
    assert selectors.reports_returned_count(actor=town_user) == 1
    report_change(town_user, recipient)
    assert selectors.reports_returned_count(actor=town_user) == 0
