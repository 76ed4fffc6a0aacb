"""Dates no one could mean (1900, year 1, year 9999) are refused with a message wherever they are typed."""

import datetime

import pytest

from contracts import actions as contract_actions
from recipients import actions
from recipients.models import Assessment, Recipient, SupportExit
from shenxian_care.exceptions import ApplicationError
from tests.factories import RecipientFactory, VillageFactory, make_id_number, town

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("entry", ["1900-01-01", "0001-01-01", "9999-12-31"])
def test_an_entry_date_out_of_range_is_refused_by_the_api(api_as, bureau_user, entry):
    village = VillageFactory(town=town("燕塔街道"))
    response = api_as(bureau_user).post(
        "/api/v1/recipients/",
        {
            "name": "日期测试",
            "id_number": make_id_number(),
            "town": village.town_id,
            "village": village.pk,
            "entry_date": entry,
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["field"] == "entry_date" and "超出合理范围" in response.json()["detail"]
    assert not Recipient.objects.filter(name="日期测试").exists()


def test_a_plausible_entry_date_is_taken(api_as, bureau_user):
    village = VillageFactory(town=town("燕塔街道"))
    response = api_as(bureau_user).post(
        "/api/v1/recipients/",
        {"name": "日期测试", "id_number": make_id_number(), "town": village.town_id, "village": village.pk,
         "entry_date": "2008-05-01"},
        format="json",
    )  # fmt: skip
    assert response.status_code == 201, response.content


@pytest.mark.parametrize("day", [datetime.date(9999, 12, 31), datetime.date(2100, 1, 1)])
def test_an_exit_date_out_of_range_is_refused(town_user, day):
    recipient = RecipientFactory()
    with pytest.raises(ApplicationError, match="超出合理范围") as exc:
        actions.exit_report(actor=town_user, recipient=recipient, reason="death", occurred_on=day)
    assert exc.value.field == "occurred_on"
    assert not SupportExit.objects.exists()


def test_an_assessment_dated_year_one_is_refused(town_user):
    recipient = RecipientFactory()
    answers = {field: True for field, _ in Assessment.INDICATORS}
    with pytest.raises(ApplicationError, match="超出合理范围"):
        actions.assessment_create(
            actor=town_user, recipient=recipient, assessed_on=datetime.date(1, 1, 1), answers=answers
        )


def test_a_caregiver_hired_in_year_one_is_refused(api_as, bureau_user, provider):
    response = api_as(bureau_user).post(
        "/api/v1/caregivers/",
        {"name": "赵护理", "id_number": make_id_number(datetime.date(1980, 1, 1)), "phone": "13800000000",
         "hired_on": "0001-01-01", "provider": provider.pk},
        format="json",
    )  # fmt: skip
    assert response.status_code == 400
    assert response.json()["field"] == "hired_on"


def test_an_agreement_ending_in_9999_is_refused(provider_user, caregiver):
    recipient = RecipientFactory()
    with pytest.raises(ApplicationError, match="超出合理范围") as exc:
        contract_actions.agreement_create(
            actor=provider_user,
            recipient=recipient,
            caregiver=caregiver,
            start_date=datetime.date.today(),
            end_date=datetime.date(9999, 12, 31),
        )
    assert exc.value.field == "end_date"
