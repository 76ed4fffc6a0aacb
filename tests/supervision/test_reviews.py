import datetime
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError
from django.utils import timezone

from services.selectors import provider_visit_figures
from shenxian_care.exceptions import ApplicationError
from supervision import actions
from supervision.actions.spotchecks import PHONE_SCRIPT
from supervision.models import HalfYearReview, RectificationNotice, ReviewDecision, ReviewStatus
from supervision.tasks import half_year_review_build_task

from .factories import make_visit, serve

pytestmark = pytest.mark.django_db

H1 = "2026H1"


def future():
    """Read when the test runs, not when the file is imported: a run may cross midnight (Beijing time)."""
    return timezone.localdate() + datetime.timedelta(days=30)


def submit_evaluation(town_user, provider, month, a1):
    evaluation = actions.evaluation_start(actor=town_user, town=town_user.town, provider=provider, month=month)
    items = {item.code: item.pk for item in evaluation.sheet.items.all()}
    scores = {"A1": a1, "A2": 30, "A3": 20, "A4": 10, "A5": 10}
    actions.evaluation_save(
        actor=town_user, evaluation=evaluation, scores={items[c]: (s, "") for c, s in scores.items()}
    )
    return actions.evaluation_submit(actor=town_user, evaluation=evaluation)


def notice_in_h1(bureau_user, provider, *, issued, deadline, overdue_on=None, status="issued", **origin):
    notice = actions.rectification_issue(actor=bureau_user, provider=provider, problem="x", deadline=future(), **origin)
    RectificationNotice.objects.filter(pk=notice.pk).update(
        issued_on=issued, deadline=deadline, overdue_on=overdue_on, status=status
    )
    return notice


def report_problem(town_user, bureau_user, provider, rule, *, category="quality", verified_on, amount=None):
    report = actions.serious_problem_report(
        actor=town_user, provider=provider, occurred_on=verified_on, description="经查", category=category
    )
    return actions.serious_problem_verify(
        actor=bureau_user,
        report=report,
        reason="属实",
        rule=rule,
        amount=amount,
        amount_changed_reason="情节较轻" if amount else "",
        verified_on=verified_on,
    )


@pytest.fixture
def scenario(town_user, bureau_user, provider, provider_contract):
    """A known half year for `provider` in 燕塔街道."""
    _, rule = provider_contract
    agreements = serve(provider, "燕塔街道", n=2)
    # evaluations: January 100 × (25/30 + 4)/5 ... chosen so the totals are 90.00 and 80.00
    submit_evaluation(town_user, provider, datetime.date(2026, 1, 1), a1=15)  # (0.5+4)/5 = 90.00
    submit_evaluation(town_user, provider, datetime.date(2026, 2, 1), a1=0)  # 4/5 = 80.00
    # spot checks in March: a phone visit (not satisfied) and an on-site check that found a problem
    unhappy = {key: choices[-1] for key, _, choices in PHONE_SCRIPT}
    actions.spot_check_record(
        actor=bureau_user,
        recipient=agreements[0].recipient,
        method="phone",
        result="ok",
        answers=unhappy,
        checked_on=datetime.date(2026, 3, 3),
    )
    actions.spot_check_record(
        actor=town_user,
        recipient=agreements[1].recipient,
        method="onsite",
        result="problem",
        finding="未按约定上门",
        checked_on=datetime.date(2026, 3, 4),
    )
    # rectification: one on time, one accepted late, one still overdue; one from 2025 that must not count
    notice_in_h1(
        bureau_user, provider, issued=datetime.date(2026, 2, 1), deadline=datetime.date(2026, 2, 10), status="accepted"
    )
    notice_in_h1(
        bureau_user,
        provider,
        issued=datetime.date(2026, 3, 1),
        deadline=datetime.date(2026, 3, 10),
        overdue_on=datetime.date(2026, 3, 11),
        status="accepted",
    )
    notice_in_h1(
        bureau_user,
        provider,
        issued=datetime.date(2026, 5, 1),
        deadline=datetime.date(2026, 5, 10),
        overdue_on=datetime.date(2026, 5, 11),
        status="overdue",
    )
    notice_in_h1(
        bureau_user,
        provider,
        issued=datetime.date(2025, 12, 1),
        deadline=datetime.date(2025, 12, 10),
        overdue_on=datetime.date(2025, 12, 11),
        status="overdue",
    )
    # serious problems verified in April and May (200 by the schedule, 150 changed); one in July not counted
    report_problem(town_user, bureau_user, provider, rule, verified_on=datetime.date(2026, 4, 10))
    report_problem(town_user, bureau_user, provider, rule, verified_on=datetime.date(2026, 5, 10), amount="150")
    report_problem(town_user, bureau_user, provider, rule, verified_on=datetime.date(2026, 7, 10))
    # visits: three in the half, one after it
    for day in (datetime.date(2026, 1, 5), datetime.date(2026, 3, 5), datetime.date(2026, 6, 30)):
        make_visit(agreements[0], day)
    make_visit(agreements[0], datetime.date(2026, 7, 1))
    return agreements


def test_scorecard_figures_from_a_known_half_year(scenario, provider):
    counts = actions.review_build(half=H1)

    review = HalfYearReview.objects.get(provider=provider, half=H1)
    f = review.figures
    assert counts == {"created": 1, "updated": 0, "decided": 0}
    assert (review.period_start, review.period_end) == (datetime.date(2026, 1, 1), datetime.date(2026, 6, 30))
    assert f["evaluations"]["submitted"] == 2
    assert f["evaluations"]["expected"] == 6
    assert f["evaluations"]["average"] == "85.00"
    assert [r["score"] for r in f["evaluations"]["rows"]] == ["90.00", "80.00"]
    assert review.evaluation_average == Decimal("85.00")
    assert f["spot_checks"] == {"total": 2, "problems": 1, "onsite": 1, "platform": 0, "phone": 1, "unsatisfied": 1}
    assert f["rectification"] == {"issued": 3, "accepted": 2, "on_time": 1, "overdue": 2, "still_open": 1}
    assert f["serious_problems"]["verified"] == 2
    assert f["serious_problems"]["fraud"] == 0
    assert f["deductions"] == {"count": 2, "amount": "350.00"}
    expected_visits = provider_visit_figures(
        provider=provider, start=datetime.date(2026, 1, 1), end=datetime.date(2026, 6, 30)
    )
    assert f["visits"]["visits"] == 3
    assert f["visits"] == {k: str(v) if isinstance(v, Decimal) else v for k, v in expected_visits.items()}
    assert review.veto is False
    assert review.proposal == ReviewDecision.CONTINUE_RECTIFY
    assert "整改通知逾期2份。" in review.proposal_reasons


def test_review_is_idempotent_and_frozen_once_decided(scenario, provider, bureau_user, town_user):
    call_command("half_year_review", "--half", H1)
    call_command("half_year_review", "--half", "2026h1")
    assert half_year_review_build_task.delay(half=H1).get() == {"created": 0, "updated": 1, "decided": 0}

    review = HalfYearReview.objects.get()
    assert review.build_count == 3
    with pytest.raises(IntegrityError):
        HalfYearReview.objects.create(
            provider=provider,
            half=H1,
            period_start=review.period_start,
            period_end=review.period_end,
            proposal="continue",
            built_at=review.built_at,
        )


def test_decided_review_is_not_rebuilt(scenario, provider, bureau_user, town_user):
    actions.review_build(half=H1)
    review = actions.review_decide(
        actor=bureau_user, review=HalfYearReview.objects.get(), decision="continue_rectify", reason="限期整改"
    )
    submit_evaluation(town_user, provider, datetime.date(2026, 3, 1), a1=30)

    assert actions.review_build(half=H1) == {"created": 0, "updated": 0, "decided": 1}
    review.refresh_from_db()
    assert review.figures["evaluations"]["submitted"] == 2
    assert review.status == ReviewStatus.DECIDED
    with pytest.raises(ApplicationError, match="已作出决定"):
        actions.review_decide(actor=bureau_user, review=review, decision="continue", reason="x")


def test_half_not_ended_or_malformed(provider_contract):
    with pytest.raises(ApplicationError, match="尚未结束"):
        actions.review_build(half="2099H1")
    with pytest.raises(CommandError, match="格式"):
        call_command("half_year_review", "--half", "2026-1")


def test_verified_fraud_is_a_one_vote_veto(town_user, bureau_user, provider, provider_contract):
    serve(provider, "燕塔街道")
    submit_evaluation(town_user, provider, datetime.date(2026, 1, 1), a1=30)  # a perfect 100
    report_problem(
        town_user,
        bureau_user,
        provider,
        provider_contract[1],
        category="false_data",
        verified_on=datetime.date(2026, 2, 2),
    )
    actions.review_build(half=H1)
    review = HalfYearReview.objects.get()

    assert review.veto is True
    assert review.evaluation_average == Decimal("100.00")
    assert review.proposal == ReviewDecision.TERMINATE
    assert review.veto_reasons == ["2026-02-02 燕塔街道：弄虚作假、虚报数据（查证属实）"]
    for decision in ("continue", "continue_rectify"):
        with pytest.raises(ApplicationError, match="一票否决"):
            actions.review_decide(actor=bureau_user, review=review, decision=decision, reason="成绩好")
    review = actions.review_decide(actor=bureau_user, review=review, decision="terminate", reason="一票否决")
    assert review.decision == ReviewDecision.TERMINATE


def test_veto_is_enforced_by_the_database_too(town_user, bureau_user, provider, provider_contract):
    serve(provider, "燕塔街道")
    report_problem(
        town_user, bureau_user, provider, provider_contract[1], category="breach", verified_on=datetime.date(2026, 2, 2)
    )
    actions.review_build(half=H1)
    with pytest.raises(IntegrityError):
        HalfYearReview.objects.filter(veto=True).update(status="decided", decision="continue")


def test_rejected_fraud_report_is_no_veto(town_user, bureau_user, provider, provider_contract):
    serve(provider, "燕塔街道")
    report = actions.serious_problem_report(
        actor=town_user,
        provider=provider,
        occurred_on=datetime.date(2026, 2, 2),
        description="x",
        category="false_report",
    )
    actions.serious_problem_reject(actor=bureau_user, report=report, reason="不属实")
    actions.review_build(half=H1)
    assert HalfYearReview.objects.get().veto is False


def test_overdue_serious_problem_proposes_termination(town_user, bureau_user, provider, provider_contract):
    serve(provider, "燕塔街道")
    report = report_problem(
        town_user, bureau_user, provider, provider_contract[1], verified_on=datetime.date(2026, 3, 1)
    )
    notice_in_h1(
        bureau_user,
        provider,
        issued=datetime.date(2026, 3, 1),
        deadline=datetime.date(2026, 3, 15),
        overdue_on=datetime.date(2026, 3, 16),
        status="overdue",
        serious_problem=report,
    )
    actions.review_build(half=H1)
    review = HalfYearReview.objects.get()

    assert review.veto is False
    assert review.proposal == ReviewDecision.TERMINATE
    assert review.proposal_reasons == ["严重服务质量问题逾期未整改1项。"]
    # not a veto: the bureau may still decide otherwise, with its reason
    assert actions.review_decide(actor=bureau_user, review=review, decision="continue_rectify", reason="已整改完毕")
