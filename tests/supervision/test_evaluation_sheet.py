"""The town's evaluation sheet: weights that add up to 100, a total that is the items' sum, a reason for every point
taken off, and the month's visit facts for the town and provider beside the scores."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from shenxian_care.exceptions import ApplicationError
from supervision import actions, selectors
from supervision.models import EvaluationItem, EvaluationScore, EvaluationSheet, EvaluationStatus

from .factories import make_visit, serve

pytestmark = pytest.mark.django_db

MONTH = datetime.date(2026, 10, 1)


def start(town_user, provider):
    return actions.evaluation_start(actor=town_user, town=town_user.town, provider=provider, month=MONTH)


def test_the_current_sheet_weights_add_up_to_100_and_each_is_the_items_maximum():
    items = list(selectors.current_sheet().items.all())
    assert sum(item.weight for item in items) == 100
    assert [(i.code, i.weight) for i in items] == [(i.code, i.max_score) for i in items]


def test_the_total_is_the_sum_of_the_scores(town_user, provider, yanta_agreements):
    # given the default sheet (A1..A5, 30/30/20/10/10) scored 27, 24, 18, 9, 10 with the reasons for what was lost
    evaluation = start(town_user, provider)
    items = {item.code: item for item in evaluation.sheet.items.all()}
    scores = {"A1": 27, "A2": 24, "A3": 18, "A4": 9, "A5": 10}
    actions.evaluation_save(
        actor=town_user,
        evaluation=evaluation,
        scores={items[c].pk: (s, "" if s == items[c].max_score else "台账缺页") for c, s in scores.items()},
    )
    # when submitted, the total is 27 + 24 + 18 + 9 + 10 = 88.00 (not the mean of the ratios, 90.00)
    evaluation = actions.evaluation_submit(actor=town_user, evaluation=evaluation)
    assert evaluation.total_score == Decimal("88.00")


def test_an_items_points_follow_its_weight_and_the_total_is_their_sum(town_user, provider, yanta_agreements):
    # given a sheet where A1 (scored out of 30) weighs 40 and A2 weighs 20: 40 + 20 + 20 + 10 + 10 = 100
    evaluation = start(town_user, provider)
    evaluation.sheet.items.filter(code="A1").update(weight=40)
    evaluation.sheet.items.filter(code="A2").update(weight=20)
    items = {item.code: item for item in evaluation.sheet.items.all()}
    scores = {"A1": 15, "A2": 30, "A3": 20, "A4": 10, "A5": 5}
    actions.evaluation_save(
        actor=town_user, evaluation=evaluation, scores={items[c].pk: (s, "原因") for c, s in scores.items()}
    )
    # then A1 gives 40 × 15/30 = 20.00, A2 20.00, A3 20.00, A4 10.00, A5 5.00 and the total is their sum, 75.00
    totals = selectors.evaluation_sheet_totals(evaluation)
    assert [points for _item, _score, points in totals["rows"]] == [Decimal(x) for x in ("20", "20", "20", "10", "5")]
    assert totals["weight"] == 100
    assert totals["total"] == Decimal("75.00")
    assert actions.evaluation_submit(actor=town_user, evaluation=evaluation).total_score == Decimal("75.00")


def test_a_sheet_whose_weights_do_not_add_up_to_100_cannot_be_made_current(bureau_user):
    sheet = selectors.current_sheet()
    new = actions.evaluation_sheet_copy(actor=bureau_user, sheet=sheet)
    new.items.filter(code="A5").update(weight=11)
    with pytest.raises(ApplicationError, match="权重合计应为100，现为101"):
        actions.evaluation_sheet_make_current(actor=bureau_user, sheet=new)
    assert EvaluationSheet.objects.get(is_current=True) == sheet
    new.items.filter(code="A5").update(weight=10)
    assert actions.evaluation_sheet_make_current(actor=bureau_user, sheet=new).is_current


def test_the_bureau_cannot_save_item_weights_that_do_not_add_up_to_100_in_the_admin(client_as, bureau_user):
    sheet = actions.evaluation_sheet_copy(actor=bureau_user, sheet=selectors.current_sheet())
    items = list(sheet.items.order_by("sort_order"))
    data = {
        "name": sheet.name,
        "note": sheet.note,
        "items-TOTAL_FORMS": str(len(items)),
        "items-INITIAL_FORMS": str(len(items)),
        "items-MIN_NUM_FORMS": "0",
        "items-MAX_NUM_FORMS": "1000",
    }
    for n, item in enumerate(items):
        data |= {
            f"items-{n}-id": str(item.pk),
            f"items-{n}-sheet": str(sheet.pk),
            f"items-{n}-sort_order": str(item.sort_order),
            f"items-{n}-code": item.code,
            f"items-{n}-title": item.title,
            f"items-{n}-max_score": str(item.max_score),
            f"items-{n}-weight": str(item.weight),
        }
    data["items-0-weight"] = "20"  # 20 + 30 + 20 + 10 + 10 = 90
    url = reverse("admin:supervision_evaluationsheet_change", args=[sheet.pk])
    response = client_as(bureau_user).post(url, data)
    assert response.status_code == 200
    assert "各考评项目的权重合计应为100，现为90。" in response.content.decode()
    assert EvaluationItem.objects.get(pk=items[0].pk).weight == 30


def test_a_point_taken_off_without_a_reason_is_refused_by_the_action(town_user, provider, yanta_agreements):
    evaluation = start(town_user, provider)
    a1 = evaluation.sheet.items.get(code="A1")
    with pytest.raises(ApplicationError, match="“上门服务频次与时长达标”扣了3分，请填写扣分说明。") as refused:
        actions.evaluation_save(actor=town_user, evaluation=evaluation, scores={a1.pk: ("27", "  ")})
    assert refused.value.field == f"note_{a1.pk}"
    assert not EvaluationScore.objects.exists()
    # full marks need no reason; a reason given is kept
    actions.evaluation_save(actor=town_user, evaluation=evaluation, scores={a1.pk: ("30", "")})
    actions.evaluation_save(actor=town_user, evaluation=evaluation, scores={a1.pk: ("27.5", "两次迟到")})
    assert EvaluationScore.objects.get().note == "两次迟到"


def test_submitting_a_draft_with_an_unexplained_deduction_is_refused(town_user, provider, yanta_agreements):
    # a draft saved before the rule: scores below the maximum with no reason
    evaluation = start(town_user, provider)
    for item in evaluation.sheet.items.all():
        EvaluationScore.objects.create(evaluation=evaluation, item=item, score=item.max_score - 1)
    with pytest.raises(ApplicationError, match="请填写扣分说明"):
        actions.evaluation_submit(actor=town_user, evaluation=evaluation)
    evaluation.refresh_from_db()
    assert evaluation.status == EvaluationStatus.DRAFT


def test_the_town_is_told_on_the_page_which_deduction_needs_a_reason(client_as, town_user, provider, yanta_agreements):
    evaluation = start(town_user, provider)
    items = list(evaluation.sheet.items.all())
    url = reverse("supervision:evaluation_detail", args=[evaluation.pk])
    data = {f"item_{i.pk}": str(i.max_score) for i in items} | {"summary": "总体良好", "submit": "1"}
    data[f"item_{items[1].pk}"] = "24"

    response = client_as(town_user).post(url, data)

    assert response.status_code == 200
    body = response.content.decode()
    assert "“服务质量与服务对象满意度”扣了6分，请填写扣分说明。" in body
    assert f'aria-label="{items[1].code} 扣分说明" aria-invalid="true"' in body
    assert not EvaluationScore.objects.exists()
    assert evaluation.__class__.objects.get().status == EvaluationStatus.DRAFT

    data[f"note_{items[1].pk}"] = "两户反映打扫不彻底"
    assert client_as(town_user).post(url, data).status_code == 302
    evaluation.refresh_from_db()
    assert (evaluation.status, evaluation.total_score) == (EvaluationStatus.SUBMITTED, Decimal("94.00"))


def test_the_sheet_shows_its_weights_total_and_the_sum(client_as, town_user, provider, yanta_agreements):
    evaluation = start(town_user, provider)
    items = {item.code: item for item in evaluation.sheet.items.all()}
    actions.evaluation_save(
        actor=town_user,
        evaluation=evaluation,
        scores={items["A1"].pk: ("25", "迟到"), items["A4"].pk: ("10", "")},
    )
    body = client_as(town_user).get(reverse("supervision:evaluation_detail", args=[evaluation.pk])).content.decode()
    footer = body[body.index("<tfoot>") : body.index("</tfoot>")]
    assert '<td class="num">100</td><td class="num">100</td>' in footer  # Σ maxima, Σ weights
    assert "<strong>35.00</strong>" in footer  # 25 + 10 so far
    assert "尚有项目未评分" in footer


def test_the_sheet_shows_the_months_visits_of_that_town_and_provider(
    client_as, town_user, bureau_user, provider, yanta_agreements, provider_contract
):
    # given three recipients of 燕塔街道 (4 visits a month each: 12 due) served by the provider in October
    first, second, _third = yanta_agreements
    for day in (1, 8, 15, 22):
        make_visit(first, MONTH.replace(day=day))
    make_visit(second, MONTH.replace(day=3))
    make_visit(second, MONTH.replace(day=4), status="exception")
    make_visit(second, MONTH.replace(day=5), status="rejected")
    # and visits that are not this town's, this provider's or this month's
    (elsewhere,) = serve(provider, "朝城镇")
    make_visit(elsewhere, MONTH.replace(day=2))
    make_visit(first, datetime.date(2026, 9, 30))
    evaluation = start(town_user, provider)

    facts = selectors.evaluation_visit_facts(evaluation)

    assert facts == {
        "recipients": 3,
        "required": 12,
        "done": 6,  # the rejected one does not count
        "verified": 5,
        "met": 6,
        "short": 6,
        "exceptions": 2,
        "pending": 1,
        "accepted": 0,
        "rejected": 1,
    }
    for user in (town_user, bureau_user):
        body = client_as(user).get(reverse("supervision:evaluation_detail", args=[evaluation.pk])).content.decode()
        row = body[body.index('<section class="card visit-facts"') :]
        row = row[: row.index("</section>")]
        assert "2026年10月上门服务情况" in row
        cells = [
            '<td class="num">3人</td>',
            '<td class="num">12</td>',
            '<td class="num">6</td>',
            '<td class="num">5</td>',
            '<td class="num">6</td>',
            '<td class="num">6</td>',
            '<td class="num">2</td>',
            '<td class="num">1</td>',
            '<td class="num">1</td>',
        ]
        assert "".join(cells) in row
