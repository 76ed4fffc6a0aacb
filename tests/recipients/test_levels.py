"""Level from the six indicators, and the level on a date across approved changes."""

import datetime
import itertools

import pytest
from django.core.exceptions import PermissionDenied

from recipients.actions import assessment_approve, assessment_create, assessment_reject, exit_approve, exit_report
from recipients.models import Assessment, CareLevel
from recipients.selectors import level_from_indicators, level_on, levels_on
from shenxian_care.exceptions import ApplicationError
from tests.factories import RecipientFactory

FIELDS = [f for f, _ in Assessment.INDICATORS]


@pytest.mark.parametrize("answers", list(itertools.product([True, False], repeat=6)))
def test_level_follows_the_number_of_indicators_not_achieved(answers):
    lost = answers.count(False)
    expected = CareLevel.SELF_CARE if lost == 0 else CareLevel.PARTIAL if lost <= 3 else CareLevel.FULL
    assert level_from_indicators(answers) == expected


def test_worked_examples_from_the_rulebook():
    assert level_from_indicators([True] * 6) == "self_care"  # 189 yuan
    assert level_from_indicators([True, True, True, True, True, False]) == "partial"  # cannot bathe: 313
    assert level_from_indicators([True, True, True, False, False, False]) == "partial"
    assert level_from_indicators([True, True, False, False, False, False]) == "full"  # 626


def test_incomplete_answers_are_refused():
    with pytest.raises(ValueError):
        level_from_indicators([True] * 5)


def answers(lost):
    return {f: i >= lost for i, f in enumerate(FIELDS)}


@pytest.mark.django_db
def test_level_on_a_date_across_approved_changes(bureau_user, town_user):
    # given a recipient at 自理 from 1 January 2024
    recipient = RecipientFactory(entry_date=datetime.date(2024, 1, 1), level="self_care")
    # when the town reports a worse condition and the bureau approves 半失能 from 15 March 2026
    report = assessment_create(
        actor=town_user, recipient=recipient, assessed_on=datetime.date(2026, 3, 5), answers=answers(2)
    )
    assert report.level == "partial" and report.status == "pending"
    # a pending assessment does not count yet
    assert level_on(recipient, datetime.date(2026, 3, 20)) == "self_care"
    assessment_approve(actor=bureau_user, assessment=report, effective_date=datetime.date(2026, 3, 15))
    # and later 失能 from 1 September 2026
    later = assessment_create(
        actor=bureau_user, recipient=recipient, assessed_on=datetime.date(2026, 8, 28), answers=answers(5)
    )
    assessment_approve(actor=bureau_user, assessment=later, effective_date=datetime.date(2026, 9, 1))
    # then each day has the level in force on it
    assert level_on(recipient, datetime.date(2023, 12, 31)) is None
    assert level_on(recipient, datetime.date(2026, 3, 14)) == "self_care"
    assert level_on(recipient, datetime.date(2026, 3, 15)) == "partial"
    assert level_on(recipient, datetime.date(2026, 8, 31)) == "partial"
    assert level_on(recipient, datetime.date(2026, 9, 1)) == "full"
    assert levels_on([recipient.pk], datetime.date(2026, 4, 1)) == {recipient.pk: "partial"}


@pytest.mark.django_db
def test_rejected_assessment_never_counts(bureau_user):
    recipient = RecipientFactory(level="self_care")
    report = assessment_create(
        actor=bureau_user, recipient=recipient, assessed_on=datetime.date(2026, 3, 5), answers=answers(6)
    )
    assessment_reject(actor=bureau_user, assessment=report, reason="复核后生活仍能自理")
    assert level_on(recipient, datetime.date(2026, 12, 1)) == "self_care"
    with pytest.raises(ApplicationError, match="已审定"):
        assessment_approve(actor=bureau_user, assessment=report, effective_date=datetime.date(2026, 4, 1))


@pytest.mark.django_db
def test_town_cannot_report_for_another_town_and_cannot_approve(town_user, other_town_user):
    recipient = RecipientFactory()  # 燕塔街道
    with pytest.raises(ApplicationError, match="本镇"):
        assessment_create(
            actor=other_town_user, recipient=recipient, assessed_on=datetime.date(2026, 3, 5), answers=answers(1)
        )
    report = assessment_create(
        actor=town_user, recipient=recipient, assessed_on=datetime.date(2026, 3, 5), answers=answers(1)
    )
    with pytest.raises(PermissionDenied):
        assessment_approve(actor=town_user, assessment=report, effective_date=datetime.date(2026, 3, 5))


@pytest.mark.django_db
def test_approved_exit_ends_support_on_its_date(bureau_user, town_user):
    """Died on 19 October: the day of death is in support, the exit date is 20 October."""
    recipient = RecipientFactory(entry_date=datetime.date(2024, 1, 1))
    reported = exit_report(
        actor=town_user, recipient=recipient, reason="death", occurred_on=datetime.date(2026, 10, 19)
    )
    assert reported.effective_date == datetime.date(2026, 10, 20)
    recipient.refresh_from_db()
    assert recipient.exit_date is None  # not before the bureau approves
    exit_approve(actor=bureau_user, support_exit=reported)
    recipient.refresh_from_db()
    assert recipient.in_support_on(datetime.date(2026, 10, 19))
    assert not recipient.in_support_on(datetime.date(2026, 10, 20))


@pytest.mark.django_db
def test_guardian_is_required_when_the_recipient_has_no_civil_capacity(bureau_user):
    from recipients.actions import recipient_create
    from tests.factories import VillageFactory, make_id_number

    village = VillageFactory()
    common = {
        "actor": bureau_user,
        "name": "刘某",
        "town": village.town,
        "village": village,
        "entry_date": datetime.date(2025, 1, 1),
        "civil_capacity": "none",
    }
    with pytest.raises(ApplicationError, match="必须登记监护人"):
        recipient_create(id_number=make_id_number(), **common)
    created = recipient_create(id_number=make_id_number(), guardian_name="刘监护", **common)
    assert created.needs_guardian and created.guardian_name == "刘监护"


@pytest.mark.django_db
def test_duplicate_id_number_is_refused(bureau_user):
    from recipients.actions import recipient_create

    existing = RecipientFactory()
    with pytest.raises(ApplicationError, match="已登记"):
        recipient_create(
            actor=bureau_user,
            name="重复",
            id_number=existing.id_number.lower(),
            town=existing.town,
            village=existing.village,
            entry_date=datetime.date(2025, 1, 1),
        )


@pytest.mark.parametrize(
    "answers",
    [
        [1, 1, 1, 1, 1, 1],  # numbers are not yes/no
        [True, True, True, True, True, 0],
        ["是", "是", "是", "是", "是", "否"],
        [None] * 6,
        [True] * 7,
        [],
    ],
)
def test_answers_other_than_six_yes_or_no_are_refused(answers):
    """The level is computed from six yes/no answers, never from anything that merely looks like them."""
    with pytest.raises(ValueError, match="^需要六项指标的是/否结果$"):
        level_from_indicators(answers)


def approve(recipient, level, effective, at, by):
    from recipients.models import LevelApproval

    approval = LevelApproval.objects.create(
        recipient=recipient, level=level, effective_date=effective, source="assessment", approved_by=by
    )
    LevelApproval.objects.filter(pk=approval.pk).update(approved_at=at)
    return approval


@pytest.mark.django_db
def test_two_approvals_for_the_same_day_the_later_approval_counts(bureau_user):
    """Two levels approved with the same effective date (a correction on the same day): the one approved later
    wins, whatever order the rows were written in; at the very same moment, the one written last."""
    from recipients.selectors import level_history

    tz = datetime.UTC
    day = datetime.date(2026, 3, 1)
    recipient = RecipientFactory(level="self_care")
    # written first but approved later (an approval entered after the fact keeps its real approval time)
    later = approve(recipient, "full", day, datetime.datetime(2026, 3, 2, 10, tzinfo=tz), bureau_user)
    earlier = approve(recipient, "partial", day, datetime.datetime(2026, 3, 2, 9, tzinfo=tz), bureau_user)
    assert level_on(recipient, day) == "full"
    assert levels_on([recipient.pk], day) == {recipient.pk: "full"}
    # the same moment: the one written last
    tie = approve(recipient, "partial", day, datetime.datetime(2026, 3, 2, 10, tzinfo=tz), bureau_user)
    assert level_on(recipient, day) == "partial"
    assert levels_on([recipient.pk], day) == {recipient.pk: "partial"}
    # the history lists them newest first in the same order, the entry level last
    history = list(level_history(recipient))
    assert [a.pk for a in history[:3]] == [tie.pk, later.pk, earlier.pk]
    assert [a.level for a in history] == ["partial", "full", "partial", "self_care"]
    assert history[0].approved_by == bureau_user


@pytest.mark.django_db
def test_level_history_reads_who_approved_in_the_same_query(bureau_user, django_assert_num_queries):
    from recipients.selectors import level_history

    recipient = RecipientFactory(level="self_care")
    approve(
        recipient, "full", datetime.date(2026, 3, 1), datetime.datetime(2026, 3, 2, tzinfo=datetime.UTC), bureau_user
    )
    with django_assert_num_queries(1):
        approvers = [a.approved_by.username for a in level_history(recipient)]
    assert approvers == ["bureau", "bureau-approver"]


@pytest.mark.django_db
def test_levels_of_many_recipients_at_once_match_each_ones_level_on(bureau_user):
    from recipients.models import Recipient
    from recipients.selectors import with_level_on

    tz = datetime.UTC
    one = RecipientFactory(level="self_care")
    two = RecipientFactory(level="full")
    three = RecipientFactory(level=False, entry_date=datetime.date(2026, 5, 1))  # no level approved yet
    approve(one, "partial", datetime.date(2026, 3, 15), datetime.datetime(2026, 3, 10, tzinfo=tz), bureau_user)
    approve(two, "partial", datetime.date(2026, 4, 1), datetime.datetime(2026, 3, 10, tzinfo=tz), bureau_user)
    for day, expected in (
        (datetime.date(2026, 3, 14), {one.pk: "self_care", two.pk: "full"}),
        (datetime.date(2026, 3, 15), {one.pk: "partial", two.pk: "full"}),
        (datetime.date(2026, 4, 1), {one.pk: "partial", two.pk: "partial"}),
    ):
        assert levels_on([one.pk, two.pk, three.pk], day) == expected
        assert {r: level_on(Recipient.objects.get(pk=r), day) for r in expected} == expected
        annotated = dict(with_level_on(Recipient.objects.all(), day).values_list("pk", "level_today"))
        assert annotated == {**expected, three.pk: None}
    # only the recipients asked for
    assert levels_on([two.pk], datetime.date(2026, 3, 15)) == {two.pk: "full"}
    assert levels_on([], datetime.date(2026, 3, 15)) == {}
