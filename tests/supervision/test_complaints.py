import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from shenxian_care.exceptions import ApplicationError
from supervision import actions, selectors
from supervision.models import ComplaintRoute, ComplaintStatus, ProblemStatus, RectificationSource
from tests.factories import town

pytestmark = pytest.mark.django_db


def log(bureau_user, provider, route_to, town_name="燕塔街道", **kwargs):
    return actions.complaint_log(
        actor=bureau_user,
        channel="hotline_12345",
        town=town(town_name),
        provider=provider,
        content="家属反映照料护理人本周未上门",
        route_to=route_to,
        received_on=datetime.date(2026, 10, 10),
        **kwargs,
    )


def test_due_date_follows_priority(bureau_user, provider):
    normal = log(bureau_user, provider, ComplaintRoute.PROVIDER)
    urgent = log(bureau_user, provider, ComplaintRoute.PROVIDER, priority="urgent")
    assert normal.due_date == datetime.date(2026, 10, 17)
    assert urgent.due_date == datetime.date(2026, 10, 12)
    assert normal.number != urgent.number


def test_routed_to_provider_is_seen_by_that_provider_and_the_town(
    bureau_user, provider, provider_user, other_provider_user, town_user, other_town_user
):
    complaint = log(bureau_user, provider, ComplaintRoute.PROVIDER)
    assert list(selectors.complaint_list(actor=provider_user)) == [complaint]
    assert list(selectors.complaint_list(actor=town_user)) == [complaint]
    assert not selectors.complaint_list(actor=other_provider_user).exists()
    assert not selectors.complaint_list(actor=other_town_user).exists()


def test_routed_to_town_is_not_shown_to_the_provider(bureau_user, provider, provider_user, town_user):
    complaint = log(bureau_user, provider, ComplaintRoute.TOWN)
    assert not selectors.complaint_list(actor=provider_user).exists()
    assert list(selectors.complaint_list(actor=town_user)) == [complaint]


def test_only_the_routed_party_answers(bureau_user, provider, provider_user, other_provider_user, town_user):
    complaint = log(bureau_user, provider, ComplaintRoute.PROVIDER)
    with pytest.raises(ApplicationError, match="未转交"):
        actions.complaint_answer(actor=town_user, complaint=complaint, answer="x")
    with pytest.raises(ApplicationError, match="未转交"):
        actions.complaint_answer(actor=other_provider_user, complaint=complaint, answer="x")
    with pytest.raises(PermissionDenied):
        actions.complaint_answer(actor=bureau_user, complaint=complaint, answer="x")
    complaint = actions.complaint_answer(actor=provider_user, complaint=complaint, answer="已安排补上门")
    assert complaint.status == ComplaintStatus.ANSWERED


def test_provider_route_needs_a_provider(bureau_user):
    with pytest.raises(ApplicationError, match="必须指定服务机构"):
        log(bureau_user, None, ComplaintRoute.PROVIDER)


def test_founded_complaint_raises_notice_and_serious_problem(bureau_user, provider, provider_user, yanta_agreements):
    complaint = log(bureau_user, provider, ComplaintRoute.PROVIDER)
    with pytest.raises(ApplicationError, match="尚未答复"):
        actions.complaint_close(actor=bureau_user, complaint=complaint, founded=True)
    actions.complaint_answer(actor=provider_user, complaint=complaint, answer="情况属实，已整改")

    complaint = actions.complaint_close(
        actor=bureau_user,
        complaint=complaint,
        founded=True,
        note="属实",
        rectification_deadline=timezone.localdate() + datetime.timedelta(days=7),
        raise_serious_problem=True,
    )

    assert complaint.status == ComplaintStatus.CLOSED
    notice = complaint.notices.get()
    assert notice.source == RectificationSource.COMPLAINT
    assert notice.provider == provider
    problem = complaint.serious_problems.get()
    assert problem.status == ProblemStatus.REPORTED
    assert problem.town.name == "燕塔街道"


def test_unfounded_complaint_raises_nothing(bureau_user, provider, town_user):
    complaint = log(bureau_user, provider, ComplaintRoute.TOWN)
    actions.complaint_answer(actor=town_user, complaint=complaint, answer="经核实不属实")
    with pytest.raises(ApplicationError, match="不属实"):
        actions.complaint_close(
            actor=bureau_user,
            complaint=complaint,
            founded=False,
            rectification_deadline=timezone.localdate() + datetime.timedelta(days=7),
        )
    complaint = actions.complaint_close(actor=bureau_user, complaint=complaint, founded=False, note="不属实")
    assert complaint.founded is False
    assert not complaint.notices.exists()
    with pytest.raises(ApplicationError, match="已办结"):
        actions.complaint_close(actor=bureau_user, complaint=complaint, founded=False)
