import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from shenxian_care.exceptions import ApplicationError
from supervision import actions, selectors
from supervision.actions.spotchecks import PHONE_SCRIPT, draw_sample
from supervision.models import SpotCheckDraw
from tests.factories import ProviderFactory, town

from .factories import serve

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 10, 15)
HAPPY = {key: choices[0] for key, _, choices in PHONE_SCRIPT}


def test_same_seed_and_population_give_the_same_sample():
    population = list(range(100, 160))
    first = draw_sample(population, 20261015, size=8)
    assert first == draw_sample(list(reversed(population)), 20261015, size=8)
    assert first != draw_sample(population, 20261016, size=8)
    assert len(first) == 8 and set(first) <= set(population)


def test_percentage_rounds_up():
    assert len(draw_sample(list(range(10)), 1, percentage="25")) == 3


def test_recorded_draw_is_reproducible(bureau_user, provider):
    serve(provider, "燕塔街道", n=12)
    draw = actions.spot_check_draw(actor=bureau_user, day=DAY, provider=provider, size=4)
    again = actions.spot_check_draw(actor=bureau_user, day=DAY, provider=provider, size=4, seed=draw.seed)

    assert len(draw.population) == 12
    assert len(draw.sample) == 4
    assert again.sample == draw.sample
    assert selectors.redraw(SpotCheckDraw.objects.get(pk=draw.pk)) == draw.sample


def test_draw_filters_by_town_provider_and_level(bureau_user, provider):
    other = ProviderFactory()
    yanta_partial = serve(provider, "燕塔街道", n=3, level="partial")
    serve(provider, "燕塔街道", n=2, level="self_care")
    serve(provider, "朝城镇", n=2, level="partial")
    serve(other, "燕塔街道", n=2, level="partial")

    draw = actions.spot_check_draw(
        actor=bureau_user, day=DAY, town=town("燕塔街道"), provider=provider, level="partial", percentage=100
    )

    assert draw.population == sorted(a.recipient_id for a in yanta_partial)
    assert draw.sample == draw.population


def test_draw_needs_size_or_percentage_and_bureau(bureau_user, town_user, provider):
    serve(provider, "燕塔街道", n=2)
    with pytest.raises(ApplicationError, match="二选一"):
        actions.spot_check_draw(actor=bureau_user, day=DAY, size=1, percentage=10)
    with pytest.raises(PermissionDenied):
        actions.spot_check_draw(actor=town_user, day=DAY, size=1)


def test_phone_return_visit_records_the_script(bureau_user, provider):
    agreement = serve(provider, "燕塔街道")[0]
    draw = actions.spot_check_draw(actor=bureau_user, day=DAY, size=1)
    with pytest.raises(ApplicationError, match="电话回访请回答"):
        actions.spot_check_record(
            actor=bureau_user,
            recipient=agreement.recipient,
            method="phone",
            result="ok",
            draw=draw,
            answers={"visited": "是"},
            checked_on=DAY,
        )
    check = actions.spot_check_record(
        actor=bureau_user,
        recipient=agreement.recipient,
        method="phone",
        result="ok",
        draw=draw,
        answers={**HAPPY, "comment": "很满意"},
        checked_on=DAY,
    )
    assert check.answers["satisfaction"] == "满意"
    assert check.answers["comment"] == "很满意"
    assert check.provider == provider


def test_town_records_its_own_onsite_checks_only(town_user, other_town_user, provider, bureau_user):
    agreement = serve(provider, "燕塔街道")[0]
    check = actions.spot_check_record(
        actor=town_user,
        recipient=agreement.recipient,
        method="onsite",
        result="problem",
        finding="屋内卫生差",
        checked_on=DAY,
    )
    assert check.town.name == "燕塔街道"
    with pytest.raises(ApplicationError, match="现场检查"):
        actions.spot_check_record(
            actor=town_user, recipient=agreement.recipient, method="platform", result="ok", checked_on=DAY
        )
    with pytest.raises(ApplicationError, match="本镇"):
        actions.spot_check_record(
            actor=other_town_user, recipient=agreement.recipient, method="onsite", result="ok", checked_on=DAY
        )
    assert list(selectors.spot_check_list(actor=town_user)) == [check]
    assert not selectors.spot_check_list(actor=other_town_user).exists()

    # a problem found can become a rectification notice
    notice = actions.rectification_issue(
        actor=bureau_user,
        provider=provider,
        problem=check.finding,
        spot_check=check,
        deadline=timezone.localdate() + datetime.timedelta(days=3),
    )
    assert notice.source == "spot_check"


def test_problem_needs_a_finding(bureau_user, provider):
    agreement = serve(provider, "燕塔街道")[0]
    with pytest.raises(ApplicationError, match="检查情况"):
        actions.spot_check_record(
            actor=bureau_user, recipient=agreement.recipient, method="platform", result="problem", checked_on=DAY
        )


def test_recipient_outside_the_draw_is_refused(bureau_user, provider):
    agreements = serve(provider, "燕塔街道", n=3)
    draw = actions.spot_check_draw(actor=bureau_user, day=DAY, size=1)
    outsider = next(a.recipient for a in agreements if a.recipient_id not in draw.sample)
    with pytest.raises(ApplicationError, match="不在本次抽样"):
        actions.spot_check_record(
            actor=bureau_user, recipient=outsider, method="platform", result="ok", draw=draw, checked_on=DAY
        )
