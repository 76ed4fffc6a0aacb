"""Bad input on the supervision pages gets a form error, never a 500."""

import pytest
from django.urls import reverse

from shenxian_care.exceptions import ApplicationError
from supervision import actions
from supervision.models import Deduction, ProblemStatus, SpotCheckDraw
from tests.services.images import png_declaring

from .factories import png_upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def report(town_user, provider, yanta_agreements):
    return actions.serious_problem_report(
        actor=town_user, provider=provider, occurred_on=yanta_agreements[0].start_date, description="未上门"
    )


@pytest.mark.parametrize("amount", ["1234567890123", "1e30", "99999999999.999"])
def test_a_deduction_amount_past_twelve_digits_is_a_form_error(
    client_as, bureau_user, report, provider_contract, amount
):
    response = client_as(bureau_user).post(
        reverse("supervision:problem_detail", args=[report.pk]),
        {"rule": provider_contract[1].pk, "reason": "属实", "amount": amount, "amount_changed_reason": "情节严重"},
    )
    assert response.status_code == 200
    assert response.context["verify_form"].errors["amount"]
    report.refresh_from_db()
    assert report.status == ProblemStatus.REPORTED
    assert not Deduction.objects.exists()


def test_an_evidence_photo_with_too_many_pixels_is_refused(town_user, provider, yanta_agreements):
    with pytest.raises(ApplicationError, match="像素过多"):
        actions.serious_problem_report(
            actor=town_user,
            provider=provider,
            occurred_on=yanta_agreements[0].start_date,
            description="未上门",
            photos=[png_upload(), png_declaring(10000, 10000)],
        )


@pytest.mark.parametrize("field, value", [("size", "10000000000000"), ("seed", "1" + "0" * 30)])
def test_a_draw_with_an_absurd_size_or_seed_is_a_form_error(client_as, bureau_user, provider, field, value):
    response = client_as(bureau_user).post(reverse("supervision:spot_check_draw"), {field: value})
    assert response.status_code in (200, 400)
    assert field in response.context["form"].errors
    assert not SpotCheckDraw.objects.exists()


@pytest.mark.parametrize(
    "name", ["problem_list", "rectification_list", "complaint_list", "evaluation_list", "review_list"]
)
def test_a_list_page_names_a_bad_filter_and_shows_the_list(client_as, bureau_user, name):
    response = client_as(bureau_user).get(reverse(f"supervision:{name}"), {"status": "a\x00b", "half": "x" * 50})
    assert response.status_code == 200
    shown = [str(m) for m in response.context["messages"]]
    assert shown and all(m.startswith("筛选条件") for m in shown), shown


def test_a_list_page_still_filters_by_a_good_status(client_as, town_user, provider, yanta_agreements):
    report = actions.serious_problem_report(
        actor=town_user, provider=provider, occurred_on=yanta_agreements[0].start_date, description="未上门"
    )
    client = client_as(town_user)
    reported = client.get(reverse("supervision:problem_list"), {"status": "reported"})
    verified = client.get(reverse("supervision:problem_list"), {"status": "verified"})
    assert list(reported.context["page"]) == [report]
    assert list(verified.context["page"]) == []


def test_supervision_dates_decades_away_are_refused(bureau_user, town_user, provider, yanta_agreements):
    import datetime

    from recipients.models import Town

    year_one, year_9999 = datetime.date(1, 1, 1), datetime.date(9999, 12, 31)
    with pytest.raises(ApplicationError, match="超出合理范围"):
        actions.serious_problem_report(actor=town_user, provider=provider, occurred_on=year_one, description="x")
    with pytest.raises(ApplicationError, match="超出合理范围"):
        actions.rectification_issue(actor=bureau_user, provider=provider, problem="未上门", deadline=year_9999)
    with pytest.raises(ApplicationError, match="超出合理范围"):
        actions.complaint_log(
            actor=bureau_user,
            channel="phone",
            town=Town.objects.get(name="燕塔街道"),
            content="未上门",
            route_to="town",
            received_on=year_one,
        )
