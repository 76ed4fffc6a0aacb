import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from supervision import actions
from supervision.models import EvaluationSheet

from .factories import serve

pytestmark = pytest.mark.django_db

CHANGELISTS = [
    "evaluationsheet",
    "evaluation",
    "notification",
    "seriousproblemreport",
    "deduction",
    "rectificationnotice",
    "complaint",
    "spotcheckdraw",
    "spotcheck",
    "crosscheckbatch",
    "halfyearreview",
    "takeover",
]


@pytest.mark.parametrize("model", CHANGELISTS)
def test_bureau_sees_every_changelist_and_others_do_not(client_as, bureau_user, town_user, model):
    url = reverse(f"admin:supervision_{model}_changelist")
    assert client_as(bureau_user).get(url).status_code == 200
    assert client_as(town_user).get(url).status_code == 302  # not staff: sent to the admin login


def test_sheet_items_are_editable_until_an_evaluation_uses_the_sheet(
    client_as, bureau_user, town_user, provider, month
):
    serve(provider, "燕塔街道")
    sheet = EvaluationSheet.objects.get(is_current=True)
    url = reverse("admin:supervision_evaluationsheet_change", args=[sheet.pk])
    client = client_as(bureau_user)
    assert 'name="items-0-max_score"' in client.get(url).content.decode()
    actions.evaluation_start(actor=town_user, town=town_user.town, provider=provider, month=month)
    assert 'name="items-0-max_score"' not in client_as(bureau_user).get(url).content.decode()


def test_copy_and_make_current_admin_actions(client_as, bureau_user):
    sheet = EvaluationSheet.objects.get(is_current=True)
    url = reverse("admin:supervision_evaluationsheet_changelist")
    client = client_as(bureau_user)
    client.post(url, {"action": "copy_as_new_version", "_selected_action": [sheet.pk]})
    new = EvaluationSheet.objects.get(version=sheet.version + 1)
    assert new.items.count() == sheet.items.count()
    client.post(url, {"action": "make_current", "_selected_action": [new.pk]})
    assert EvaluationSheet.objects.get(is_current=True) == new


def test_rectification_changelist_queries_fixed(client_as, bureau_user, provider, django_assert_num_queries):
    import datetime

    def issue(n):
        for _ in range(n):
            actions.rectification_issue(
                actor=bureau_user,
                provider=provider,
                problem="x",
                deadline=timezone.localdate() + datetime.timedelta(days=3),
            )

    url = reverse("admin:supervision_rectificationnotice_changelist")
    client = client_as(bureau_user)
    issue(1)
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    first_count = len(one.captured_queries)
    issue(5)
    with django_assert_num_queries(first_count):
        assert client.get(url).status_code == 200
