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
        actor=town_user, evaluation=evaluation, scores={items[c]: (s, "扣分原因") for c, s in scores.items()}
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
    submit_evaluation(town_user, provider, datetime.date(2026, 1, 1), a1=15)  # 15 + 30 + 20 + 10 + 10 = 85.00
    submit_evaluation(town_user, provider, datetime.date(2026, 2, 1), a1=0)  # 0 + 70 = 70.00
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
    assert f["evaluations"]["average"] == "77.50"
    assert [r["score"] for r in f["evaluations"]["rows"]] == ["85.00", "70.00"]
    assert review.evaluation_average == Decimal("77.50")
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


def overdue_serious_problem(town_user, bureau_user, provider, rule):
    """A serious quality problem verified on 1 March 2026 whose notice (deadline 15 March) is still overdue."""
    report = report_problem(town_user, bureau_user, provider, rule, verified_on=datetime.date(2026, 3, 1))
    return notice_in_h1(
        bureau_user,
        provider,
        issued=datetime.date(2026, 3, 1),
        deadline=datetime.date(2026, 3, 15),
        overdue_on=datetime.date(2026, 3, 16),
        status="overdue",
        serious_problem=report,
    )


def test_overdue_serious_problem_forces_termination(town_user, bureau_user, provider, provider_contract):
    """Rule (plan §四(五) 退出机制): a serious quality problem not rectified past its deadline forces termination at
    the half-year review, as the one-vote veto does. Worked example: one perfect evaluation (100.00), no fraud,
    but the notice for the serious problem of 1 March (deadline 15 March) is overdue → only 终止 may be decided."""
    serve(provider, "燕塔街道")
    submit_evaluation(town_user, provider, datetime.date(2026, 1, 1), a1=30)  # a perfect 100
    notice = overdue_serious_problem(town_user, bureau_user, provider, provider_contract[1])
    actions.review_build(half=H1)
    review = HalfYearReview.objects.get()

    assert review.veto is True
    assert review.proposal == ReviewDecision.TERMINATE
    assert review.proposal_reasons == ["严重服务质量问题逾期未整改1项。"]
    assert review.veto_reasons == [f"燕塔街道：严重服务质量问题逾期未整改（整改通知{notice.number}，期限2026-03-15）"]
    for decision in ("continue", "continue_rectify"):
        with pytest.raises(
            ApplicationError, match=f"只能终止合同：燕塔街道：严重服务质量问题逾期未整改（整改通知{notice.number}"
        ):
            actions.review_decide(actor=bureau_user, review=review, decision=decision, reason="已整改完毕")
    review = actions.review_decide(actor=bureau_user, review=review, decision="terminate", reason="逾期未整改")
    assert review.decision == ReviewDecision.TERMINATE


def test_overdue_serious_problem_forces_termination_in_the_api_and_the_portal(
    api_as, client_as, town_user, bureau_user, provider, provider_contract
):
    from django.urls import reverse

    serve(provider, "燕塔街道")
    notice = overdue_serious_problem(town_user, bureau_user, provider, provider_contract[1])
    actions.review_build(half=H1)
    review = HalfYearReview.objects.get()

    # the API refuses "continue" with the reason
    response = api_as(bureau_user).post(
        f"/api/v1/supervision/reviews/{review.pk}/decide/", {"decision": "continue", "reason": "已整改"}
    )
    assert response.status_code == 400
    assert f"整改通知{notice.number}" in response.json()["detail"]
    # the portal offers only termination, and refuses anything else
    client = client_as(bureau_user)
    url = reverse("supervision:review_detail", args=[review.pk])
    page = client.get(url)
    assert [value for value, _ in page.context["decide_form"].fields["decision"].choices] == ["terminate"]
    assert f"整改通知{notice.number}" in page.content.decode()
    client.post(url, {"decision": "continue_rectify", "reason": "已整改"})
    review.refresh_from_db()
    assert review.status == ReviewStatus.DRAFT
    client.post(url, {"decision": "terminate", "reason": "逾期未整改"})
    review.refresh_from_db()
    assert (review.status, review.decision) == (ReviewStatus.DECIDED, ReviewDecision.TERMINATE)


def test_serious_problem_rectified_on_time_does_not_force_termination(
    town_user, bureau_user, provider, provider_contract
):
    """The same problem with its notice accepted before the deadline: nothing is forced."""
    serve(provider, "燕塔街道")
    report = report_problem(
        town_user, bureau_user, provider, provider_contract[1], verified_on=datetime.date(2026, 3, 1)
    )
    notice_in_h1(
        bureau_user,
        provider,
        issued=datetime.date(2026, 3, 1),
        deadline=datetime.date(2026, 3, 15),
        status="accepted",
        serious_problem=report,
    )
    actions.review_build(half=H1)
    review = HalfYearReview.objects.get()
    assert review.veto is False
    assert review.proposal != ReviewDecision.TERMINATE


def figures(*, average="85.00", overdue_notices=0, compliance="1.0000", fraud=False, overdue_serious=0):
    """The scorecard figures the review's rules read, for a provider that is clean unless told otherwise."""
    from supervision.selectors.reviews import proposal_from

    return proposal_from(
        {
            "evaluations": {"average": average},
            "rectification": {"overdue": overdue_notices},
            "visits": {"compliance_rate": compliance},
            "serious_problems": {
                "rows": [
                    {
                        "verified_on": "2026-02-02",
                        "town": "燕塔街道",
                        "category_label": "弄虚作假、虚报数据",
                        "fraud": True,
                    }
                ]
                if fraud
                else []
            },
            "overdue_serious_problems": [
                {"notice": f"ZG-{i}", "town": "燕塔街道", "deadline": "2026-03-15", "status": "逾期"}
                for i in range(overdue_serious)
            ],
        }
    )


def test_a_clean_provider_is_proposed_continue():
    decision = figures()
    assert decision == {"veto": False, "veto_reasons": [], "proposal": "continue", "proposal_reasons": []}
    # no evaluation submitted yet is not a low average
    assert figures(average=None)["proposal"] == ReviewDecision.CONTINUE


@pytest.mark.parametrize(
    ("average", "proposal"),
    [("59.99", ReviewDecision.CONTINUE_RECTIFY), ("60.00", ReviewDecision.CONTINUE), ("0.00", "continue_rectify")],
)
def test_an_average_below_60_alone_proposes_rectify_and_continue(average, proposal):
    """The pass mark is 60.00: 59.99 fails, 60.00 passes, with every other figure clean."""
    decision = figures(average=average)
    assert decision["proposal"] == proposal
    assert decision["veto"] is False
    expected = [f"月度考评平均分{average}，低于60分。"] if proposal == ReviewDecision.CONTINUE_RECTIFY else []
    assert decision["proposal_reasons"] == expected


@pytest.mark.parametrize(
    ("compliance", "proposal"),
    [("0.7999", ReviewDecision.CONTINUE_RECTIFY), ("0.7900", "continue_rectify"), ("0.8000", "continue")],
)
def test_a_visit_compliance_below_80_percent_alone_proposes_rectify_and_continue(compliance, proposal):
    """The floor is 80%: 79% (or 79.99%) fails, 80% passes, with every other figure clean."""
    decision = figures(compliance=compliance)
    assert decision["proposal"] == proposal
    expected = (
        [f"上门服务达标率{Decimal(compliance):.0%}，低于80%。"] if proposal == ReviewDecision.CONTINUE_RECTIFY else []
    )
    assert decision["proposal_reasons"] == expected


def test_an_overdue_notice_alone_proposes_rectify_and_continue():
    decision = figures(overdue_notices=2)
    assert decision["proposal"] == ReviewDecision.CONTINUE_RECTIFY
    assert decision["proposal_reasons"] == ["整改通知逾期2份。"]


def test_all_three_shortfalls_are_each_given_as_a_reason():
    decision = figures(average="50.00", overdue_notices=1, compliance="0.5000")
    assert decision["proposal_reasons"] == [
        "月度考评平均分50.00，低于60分。",
        "整改通知逾期1份。",
        "上门服务达标率50%，低于80%。",
    ]


def test_fraud_and_an_overdue_serious_problem_each_force_termination_whatever_the_scores():
    fraud = figures(fraud=True)
    assert (fraud["veto"], fraud["proposal"]) == (True, ReviewDecision.TERMINATE)
    assert fraud["veto_reasons"] == ["2026-02-02 燕塔街道：弄虚作假、虚报数据（查证属实）"]
    assert fraud["proposal_reasons"] == ["一票否决：查证属实的弄虚作假、不按合同履约或虚假报告。"]
    overdue = figures(overdue_serious=2, average="40.00")
    assert (overdue["veto"], overdue["proposal"]) == (True, ReviewDecision.TERMINATE)
    assert overdue["proposal_reasons"] == ["严重服务质量问题逾期未整改2项。"]
    assert overdue["veto_reasons"] == [
        "燕塔街道：严重服务质量问题逾期未整改（整改通知ZG-0，期限2026-03-15）",
        "燕塔街道：严重服务质量问题逾期未整改（整改通知ZG-1，期限2026-03-15）",
    ]
    both = figures(fraud=True, overdue_serious=1)
    assert both["proposal_reasons"] == [
        "一票否决：查证属实的弄虚作假、不按合同履约或虚假报告。",
        "严重服务质量问题逾期未整改1项。",
    ]
    assert len(both["veto_reasons"]) == 2


def test_a_clean_half_year_through_the_records_is_proposed_continue(town_user, provider, provider_contract):
    """One 自理 recipient visited the standard 4 times in each month of the half, two evaluations of 100 and
    85: nothing overdue, no problems → 继续履约, with no reasons."""
    (agreement,) = serve(provider, "燕塔街道")
    for month in range(1, 7):
        for day in (3, 10, 17, 24):
            make_visit(agreement, datetime.date(2026, month, day))
    submit_evaluation(town_user, provider, datetime.date(2026, 1, 1), a1=30)
    submit_evaluation(town_user, provider, datetime.date(2026, 6, 1), a1=15)
    actions.review_build(half=H1)
    review = HalfYearReview.objects.get()
    assert review.figures["visits"]["compliance_rate"] == "1.0000"
    assert review.evaluation_average == Decimal("92.50")
    assert (review.veto, review.proposal, review.proposal_reasons) == (False, ReviewDecision.CONTINUE, [])


@pytest.mark.parametrize("day", [datetime.date(2026, 1, 1), datetime.date(2026, 6, 30)])
def test_fraud_verified_on_the_first_or_last_day_of_the_half_is_its_veto(
    day, town_user, bureau_user, provider, provider_contract
):
    serve(provider, "燕塔街道")
    report_problem(town_user, bureau_user, provider, provider_contract[1], category="false_data", verified_on=day)
    actions.review_build(half=H1)
    review = HalfYearReview.objects.get()
    assert review.veto is True
    assert review.figures["serious_problems"]["verified"] == 1


def test_events_on_the_first_and_last_day_of_the_half_count_and_the_days_around_it_do_not(
    town_user, bureau_user, provider, provider_contract
):
    """The half is 1 January to 30 June inclusive: spot checks, notices issued, problems and deductions verified on
    those two days count; on 31 December and 1 July they belong to the neighbouring halves."""
    _, rule = provider_contract
    agreements = serve(provider, "燕塔街道", n=1)
    recipient = agreements[0].recipient
    inside = (datetime.date(2026, 1, 1), datetime.date(2026, 6, 30))
    outside = (datetime.date(2025, 12, 31), datetime.date(2026, 7, 1))
    for day in inside + outside:
        actions.spot_check_record(
            actor=town_user, recipient=recipient, method="onsite", result="problem", finding="x", checked_on=day
        )
        notice_in_h1(
            bureau_user,
            provider,
            issued=day,
            deadline=day + datetime.timedelta(days=3),
            overdue_on=day,
            status="overdue",
        )
        report_problem(town_user, bureau_user, provider, rule, verified_on=day)
    actions.review_build(half=H1)
    f = HalfYearReview.objects.get().figures
    assert f["spot_checks"]["total"] == 2 and f["spot_checks"]["problems"] == 2 and f["spot_checks"]["onsite"] == 2
    assert f["rectification"]["issued"] == 2 and f["rectification"]["overdue"] == 2
    assert f["serious_problems"]["verified"] == 2
    assert [row["verified_on"] for row in f["serious_problems"]["rows"]] == ["2026-01-01", "2026-06-30"]
    assert f["deductions"] == {"count": 2, "amount": "400.00"}
    assert f["evaluations"]["expected"] == 6  # one town, six months


def test_only_providers_with_a_contract_in_the_half_are_reviewed():
    """Reviewed: a contract running through the half, one terminated during it. Not reviewed: one terminated
    before it began, one starting after it ended, one that ended before it."""
    from tests.factories import ContractFactory, ProviderFactory

    def provider_with(name, **contract):
        provider = ProviderFactory(name=name)
        ContractFactory(provider=provider, **contract)
        return provider

    provider_with("甲在期内")
    provider_with("乙期中终止", status="terminated", terminated_on=datetime.date(2026, 3, 31))
    provider_with("丙期前终止", status="terminated", terminated_on=datetime.date(2025, 12, 31))
    provider_with("丁期后开始", start_date=datetime.date(2026, 7, 1))
    provider_with("戊期前到期", end_date=datetime.date(2025, 12, 31))
    provider_with("己末日开始", start_date=datetime.date(2026, 6, 30))
    provider_with("庚首日到期", end_date=datetime.date(2026, 1, 1))

    actions.review_build(half=H1)

    reviewed = set(HalfYearReview.objects.values_list("provider__name", flat=True))
    assert reviewed == {"甲在期内", "乙期中终止", "己末日开始", "庚首日到期"}


def test_evaluation_figures_are_the_providers_own_in_the_half(town_user, provider, other_provider, provider_contract):
    from tests.factories import ContractFactory

    ContractFactory(provider=other_provider)
    serve(provider, "燕塔街道")
    serve(other_provider, "燕塔街道")
    submit_evaluation(town_user, provider, datetime.date(2026, 6, 1), a1=30)  # 100.00
    submit_evaluation(town_user, other_provider, datetime.date(2026, 3, 1), a1=0)  # another provider's 70.00
    submit_evaluation(town_user, provider, datetime.date(2026, 7, 1), a1=0)  # the next half's
    actions.review_build(half=H1)

    f = HalfYearReview.objects.get(provider=provider).figures
    assert f["evaluations"]["rows"] == [{"town": "燕塔街道", "month": "2026-06", "score": "100.00"}]
    assert (f["evaluations"]["submitted"], f["evaluations"]["average"]) == (1, "100.00")
    assert f["deductions"] == {"count": 0, "amount": "0.00"}


def test_review_list_filters_and_the_review_of_another_is_404(
    bureau_user, provider_user, provider, other_provider, provider_contract, django_assert_num_queries
):
    from django.http import Http404

    from supervision.selectors.reviews import review_get_for_actor, review_list
    from tests.factories import ContractFactory

    ContractFactory(provider=other_provider)
    actions.review_build(half=H1)
    actions.review_build(half="2025H2")
    mine = HalfYearReview.objects.get(provider=provider, half=H1)
    actions.review_decide(actor=bureau_user, review=mine, decision="continue", reason="良好")

    def pks(**filters):
        return {r.pk for r in review_list(actor=bureau_user, filters=filters)}

    assert len(pks()) == 4
    assert pks(half=H1) == set(HalfYearReview.objects.filter(half=H1).values_list("pk", flat=True))
    assert pks(status="decided") == {mine.pk}
    assert pks(decision="continue") == {mine.pk}
    assert pks(provider=provider.pk) == set(
        HalfYearReview.objects.filter(provider=provider).values_list("pk", flat=True)
    )
    assert pks(proposal="continue") == set(
        HalfYearReview.objects.filter(proposal="continue").values_list("pk", flat=True)
    )
    assert pks(half=H1, provider=provider.pk) == {mine.pk}
    with django_assert_num_queries(1):
        names = [(r.provider.name, r.decided_by and r.decided_by.username) for r in review_list(actor=bureau_user)]
    assert ("莘县康乐养老服务中心", "bureau") in names
    # reviews are the bureau's: a provider sees none of them, not even its own
    assert review_list(actor=provider_user).count() == 0
    assert review_get_for_actor(actor=bureau_user, pk=mine.pk) == mine
    other = HalfYearReview.objects.get(provider=other_provider, half=H1)
    assert review_get_for_actor(actor=bureau_user, pk=other.pk) == other
    with pytest.raises(Http404):
        review_get_for_actor(actor=provider_user, pk=mine.pk)


def test_the_scorecard_counts_only_this_providers_verified_and_submitted_records(
    town_user, bureau_user, provider, other_provider, provider_contract
):
    """Another provider's evaluation, spot check, notice, serious problem and deduction in the same town and half,
    and this provider's draft evaluation and unverified deduction, are not in this provider's figures."""
    from tests.billing.factories import DeductionFactory
    from tests.supervision.factories import contract_with_rule

    _, other_rule = contract_with_rule(other_provider)
    (mine,) = serve(provider, "燕塔街道")
    (theirs,) = serve(other_provider, "燕塔街道")
    submit_evaluation(town_user, other_provider, datetime.date(2026, 2, 1), a1=0)
    actions.evaluation_start(actor=town_user, town=town_user.town, provider=provider, month=datetime.date(2026, 3, 1))
    for agreement, method in ((mine, "platform"), (theirs, "onsite")):
        actions.spot_check_record(
            actor=bureau_user, recipient=agreement.recipient, method=method, result="ok", finding="",
            checked_on=datetime.date(2026, 3, 4),
        )  # fmt: skip
    notice_in_h1(bureau_user, other_provider, issued=datetime.date(2026, 2, 1), deadline=datetime.date(2026, 2, 5))
    other_problem = report_problem(town_user, bureau_user, other_provider, other_rule, category="false_data",
                                   verified_on=datetime.date(2026, 2, 2))  # fmt: skip
    notice_in_h1(
        bureau_user, other_provider, issued=datetime.date(2026, 2, 2), deadline=datetime.date(2026, 2, 9),
        overdue_on=datetime.date(2026, 2, 10), status="overdue", serious_problem=other_problem,
    )  # fmt: skip
    DeductionFactory(provider=provider, contract=provider_contract[0], verified_on=datetime.date(2026, 3, 1),
                     status="proposed")  # fmt: skip
    problem = report_problem(
        town_user, bureau_user, provider, provider_contract[1], verified_on=datetime.date(2026, 4, 1)
    )
    notice = notice_in_h1(
        bureau_user, provider, issued=datetime.date(2026, 4, 1), deadline=datetime.date(2026, 4, 8),
        overdue_on=datetime.date(2026, 4, 9), status="overdue", serious_problem=problem,
    )  # fmt: skip
    actions.review_build(half=H1)

    f = HalfYearReview.objects.get(provider=provider).figures
    assert f["period"] == {"start": "2026-01-01", "end": "2026-06-30"}
    assert (f["evaluations"]["submitted"], f["evaluations"]["average"]) == (0, None)
    assert f["spot_checks"] == {"total": 1, "problems": 0, "onsite": 0, "platform": 1, "phone": 0, "unsatisfied": 0}
    assert f["rectification"] == {"issued": 1, "accepted": 0, "on_time": 0, "overdue": 1, "still_open": 1}
    assert f["serious_problems"] == {
        "verified": 1,
        "fraud": 0,
        "rows": [{"id": problem.pk, "town": "燕塔街道", "occurred_on": "2026-04-01", "verified_on": "2026-04-01",
                  "category": "quality", "category_label": problem.get_category_display(), "fraud": False}],
    }  # fmt: skip
    assert f["overdue_serious_problems"] == [
        {"notice": notice.number, "town": "燕塔街道", "deadline": "2026-04-08", "status": "逾期未整改"}
    ]
    assert f["deductions"] == {"count": 1, "amount": "200.00"}
    other = HalfYearReview.objects.get(provider=other_provider).figures
    assert (other["serious_problems"]["verified"], other["serious_problems"]["fraud"]) == (1, 1)


def test_which_overdue_serious_problems_force_termination(town_user, bureau_user, provider, provider_contract):
    """Counted: a serious problem's notice that went overdue in the half, even if accepted late since; one overdue
    since last half and overdue still. Not counted: one overdue last half but accepted since, one that went
    overdue only after the half. Listed by deadline."""
    serve(provider, "燕塔街道")
    rule = provider_contract[1]

    def serious_notice(deadline, status, overdue_on):
        problem = report_problem(town_user, bureau_user, provider, rule, verified_on=deadline - datetime.timedelta(9))
        return notice_in_h1(
            bureau_user, provider, issued=deadline - datetime.timedelta(7), deadline=deadline,
            overdue_on=overdue_on, status=status, serious_problem=problem,
        )  # fmt: skip

    late = serious_notice(datetime.date(2026, 3, 10), "accepted", datetime.date(2026, 3, 11))
    still = serious_notice(datetime.date(2025, 11, 10), "overdue", datetime.date(2025, 11, 11))
    serious_notice(datetime.date(2025, 10, 10), "accepted", datetime.date(2025, 10, 11))
    serious_notice(datetime.date(2026, 7, 10), "accepted", datetime.date(2026, 7, 11))
    # and an ordinary notice issued in the half, not due yet
    notice_in_h1(bureau_user, provider, issued=datetime.date(2026, 6, 29), deadline=datetime.date(2026, 7, 9))
    actions.review_build(half=H1)

    review = HalfYearReview.objects.get()
    assert [row["notice"] for row in review.figures["overdue_serious_problems"]] == [still.number, late.number]
    assert review.veto is True
    assert review.figures["rectification"] == {
        "issued": 2, "accepted": 1, "on_time": 0, "overdue": 1, "still_open": 1,
    }  # fmt: skip


def test_the_bureau_is_shown_every_provider_with_a_verified_fraud_while_any_of_its_contracts_runs(
    town_user, bureau_user, provider
):
    """The one-vote veto's list on the bureau's supervision page: a verified 弄虚作假 problem, and a contract in
    force today or later; a provider whose contracts have all ended has been dealt with."""
    from supervision.selectors import providers_with_verified_fraud
    from tests.factories import ContractFactory, ProviderFactory

    from .factories import contract_with_rule

    today = timezone.localdate()
    yesterday = today - datetime.timedelta(days=1)
    ended = ProviderFactory(name="乙已终止中心")
    later = ProviderFactory(name="甲续签中心")
    only_quality = ProviderFactory(name="丙质量问题中心")
    rejected = ProviderFactory(name="丁未查实中心")
    rules = {p: contract_with_rule(p)[1] for p in (provider, ended, later, only_quality, rejected)}
    # 乙's only contract and 甲's first one ended yesterday; 甲 has a new one from next month
    for p in (ended, later):
        p.contracts.update(end_date=yesterday)
    ContractFactory(
        provider=later,
        signed_on=today,
        start_date=today + datetime.timedelta(days=31),
        end_date=today + datetime.timedelta(days=400),
    )
    day = today - datetime.timedelta(days=3)
    for p, category in ((provider, "false_data"), (ended, "false_report"), (later, "false_data")):
        report_problem(town_user, bureau_user, p, rules[p], category=category, verified_on=day)
    report_problem(town_user, bureau_user, only_quality, rules[only_quality], category="quality", verified_on=day)
    report = actions.serious_problem_report(
        actor=town_user, provider=rejected, occurred_on=day, description="x", category="false_data"
    )
    actions.serious_problem_reject(actor=bureau_user, report=report, reason="不属实")

    listed = list(providers_with_verified_fraud())

    assert [p.name for p in listed] == sorted([provider.name, later.name])


def test_only_the_halfs_own_evaluations_and_verified_problems_count(
    town_user, bureau_user, provider, provider_contract
):
    serve(provider, "燕塔街道")
    # an evaluation of December, before the half (a poor one), and one of January (a perfect 100)
    submit_evaluation(town_user, provider, datetime.date(2025, 12, 1), a1=0)
    submit_evaluation(town_user, provider, datetime.date(2026, 1, 1), a1=30)
    # a problem verified within the half, and one reported and rejected within it (不属实)
    report_problem(town_user, bureau_user, provider, provider_contract[1], verified_on=datetime.date(2026, 3, 3))
    rejected = actions.serious_problem_report(
        actor=town_user, provider=provider, occurred_on=datetime.date(2026, 4, 1), description="x", category="quality"
    )
    actions.serious_problem_reject(
        actor=bureau_user, report=rejected, reason="不属实", verified_on=datetime.date(2026, 4, 2)
    )

    actions.review_build(half=H1)

    review = HalfYearReview.objects.get()
    assert review.figures["evaluations"]["submitted"] == 1
    assert review.evaluation_average == Decimal("100.00")
    assert review.figures["serious_problems"]["verified"] == 1


def test_the_review_list_is_filtered_by_proposal(scenario, provider, bureau_user, town_user):
    from supervision.selectors import review_list
    from tests.factories import ProviderFactory

    from .factories import contract_with_rule

    clean = ProviderFactory(name="无问题中心")
    contract_with_rule(clean)
    (agreement,) = serve(clean, "燕塔街道")  # visited to the standard, evaluated 100: 继续履约
    for month in range(1, 7):
        for day in (3, 10, 17, 24):
            make_visit(agreement, datetime.date(2026, month, day))
    submit_evaluation(town_user, clean, datetime.date(2026, 1, 1), a1=30)
    actions.review_build(half=H1)
    proposals = dict(HalfYearReview.objects.values_list("provider__name", "proposal"))
    assert proposals == {provider.name: ReviewDecision.CONTINUE_RECTIFY, clean.name: ReviewDecision.CONTINUE}

    rectify = review_list(actor=bureau_user, filters={"proposal": ReviewDecision.CONTINUE_RECTIFY})
    assert [r.provider.name for r in rectify] == [provider.name]
    assert [r.provider.name for r in review_list(actor=bureau_user, filters={"proposal": "continue"})] == [clean.name]
