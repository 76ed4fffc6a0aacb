"""API: the same scoping and the same rules as the pages; fixed query counts on every list."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from supervision import actions
from supervision.models import Evaluation, EvaluationStatus, HalfYearReview
from tests.factories import ContractFactory, ProviderFactory, town

from .factories import png_upload, serve

pytestmark = pytest.mark.django_db


def soon():
    """Read when the test runs, not when the file is imported: a run may cross midnight (Beijing time)."""
    return timezone.localdate() + datetime.timedelta(days=7)


MONTH = datetime.date(2026, 10, 1)
BASE = "/api/v1/supervision"


def fixed_queries(client, url, grow, django_assert_num_queries):
    with CaptureQueriesContext(connection) as one:
        first = client.get(url)
    first_count = len(one.captured_queries)
    assert first.status_code == 200
    grow()
    with django_assert_num_queries(first_count):
        response = client.get(url)
    assert response.status_code == 200
    return first.json(), response.json()


def test_evaluation_flow_over_the_api(api_as, town_user, other_town_user, bureau_user, provider, yanta_agreements):
    client = api_as(town_user)
    response = client.post(
        f"{BASE}/evaluations/start/", {"provider": provider.pk, "month": "2026-10-01"}, format="json"
    )
    assert response.status_code == 201
    evaluation = response.json()
    items = Evaluation.objects.get().sheet.items.all()
    scores = [{"item": i.pk, "score": str(i.max_score)} for i in items]
    response = client.post(
        f"{BASE}/evaluations/{evaluation['id']}/save/",
        {
            "summary": "好",
            "scores": scores,
            "remarks": [{"recipient": yanta_agreements[0].recipient_id, "remark": "好"}],
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert client.post(f"{BASE}/evaluations/{evaluation['id']}/submit/").json()["total_score"] == "100.00"
    # locked
    response = client.post(f"{BASE}/evaluations/{evaluation['id']}/save/", {"scores": scores}, format="json")
    assert response.status_code == 400 and "锁定" in response.json()["detail"]
    # another town neither sees nor starts it
    other = api_as(other_town_user)
    assert other.get(f"{BASE}/evaluations/{evaluation['id']}/").status_code == 404
    response = other.post(f"{BASE}/evaluations/start/", {"provider": provider.pk, "month": "2026-10-01"}, format="json")
    assert response.status_code == 400
    # the bureau returns it
    response = api_as(bureau_user).post(f"{BASE}/evaluations/{evaluation['id']}/return/", {"reason": "请复核"})
    assert response.json()["status"] == EvaluationStatus.RETURNED


def test_missing_endpoint(api_as, bureau_user, provider_user, provider, yanta_agreements):
    rows = api_as(bureau_user).get(f"{BASE}/evaluations/missing/", {"month": "2026-10-01"}).json()
    assert [(r["town_name"], r["provider_name"]) for r in rows] == [("燕塔街道", provider.name)]
    assert api_as(provider_user).get(f"{BASE}/evaluations/missing/", {"month": "2026-10-01"}).json() == []


def test_evaluation_list_queries(api_as, town_user, django_assert_num_queries):
    def make(n):
        for _ in range(n):
            p = ProviderFactory()
            serve(p, "燕塔街道")
            actions.evaluation_start(actor=town_user, town=town_user.town, provider=p, month=MONTH)

    make(1)
    first, after = fixed_queries(api_as(town_user), f"{BASE}/evaluations/", lambda: make(4), django_assert_num_queries)
    assert (first["count"], after["count"]) == (1, 5)


def test_problem_report_with_photo_and_verify(
    api_as, town_user, other_town_user, provider_user, bureau_user, provider, provider_contract, yanta_agreements
):
    client = api_as(town_user)
    response = client.post(
        f"{BASE}/serious-problems/",
        {"provider": provider.pk, "occurred_on": "2026-10-12", "description": "未上门", "photos": [png_upload()]},
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    pk = response.json()["id"]
    assert api_as(other_town_user).get(f"{BASE}/serious-problems/{pk}/").status_code == 404
    assert api_as(provider_user).get(f"{BASE}/serious-problems/").json()["count"] == 0
    response = api_as(bureau_user).post(
        f"{BASE}/serious-problems/{pk}/verify/", {"reason": "属实", "rule": provider_contract[1].pk}, format="json"
    )
    assert response.json()["deduction_amount"] == "200.00"
    assert api_as(provider_user).get(f"{BASE}/serious-problems/").json()["count"] == 1


def test_problem_list_queries(api_as, town_user, provider, yanta_agreements, django_assert_num_queries):
    def make(n):
        for _ in range(n):
            actions.serious_problem_report(actor=town_user, provider=provider, occurred_on=MONTH, description="x")

    make(1)
    fixed_queries(api_as(town_user), f"{BASE}/serious-problems/", lambda: make(4), django_assert_num_queries)


def test_rectification_answer_scoped(
    api_as, bureau_user, provider_user, other_provider_user, provider, django_assert_num_queries
):
    def make(n):
        for _ in range(n):
            actions.rectification_issue(actor=bureau_user, provider=provider, problem="x", deadline=soon())

    response = api_as(bureau_user).post(
        f"{BASE}/rectifications/", {"provider": provider.pk, "problem": "补正", "deadline": soon().isoformat()}
    )
    pk = response.json()["id"]
    assert (
        api_as(provider_user)
        .post(f"{BASE}/rectifications/", {"provider": provider.pk, "problem": "x", "deadline": soon().isoformat()})
        .status_code
        == 403
    )
    assert api_as(other_provider_user).post(f"{BASE}/rectifications/{pk}/answer/", {"answer": "x"}).status_code == 404
    response = api_as(provider_user).post(f"{BASE}/rectifications/{pk}/answer/", {"answer": "已整改"})
    assert response.json()["status"] == "answered"
    assert api_as(bureau_user).post(f"{BASE}/rectifications/{pk}/accept/").json()["status"] == "accepted"
    fixed_queries(api_as(provider_user), f"{BASE}/rectifications/", lambda: make(4), django_assert_num_queries)
    assert api_as(other_provider_user).get(f"{BASE}/rectifications/").json()["count"] == 0


def test_complaints_routed_and_answered(
    api_as,
    bureau_user,
    provider_user,
    other_provider_user,
    town_user,
    other_town_user,
    provider,
    django_assert_num_queries,
):
    def log(route_to="provider"):
        return api_as(bureau_user).post(
            f"{BASE}/complaints/",
            {"channel": "hotline_12345", "town": town("燕塔街道").pk, "provider": provider.pk, "content": "未上门",
             "route_to": route_to},
        ).json()  # fmt: skip

    complaint = log()
    to_town = log("town")
    mine = api_as(provider_user).get(f"{BASE}/complaints/").json()
    assert [c["id"] for c in mine["results"]] == [complaint["id"]]
    assert api_as(other_provider_user).get(f"{BASE}/complaints/").json()["count"] == 0
    assert api_as(other_town_user).get(f"{BASE}/complaints/").json()["count"] == 0
    assert api_as(town_user).get(f"{BASE}/complaints/").json()["count"] == 2
    assert api_as(provider_user).post(f"{BASE}/complaints/{to_town['id']}/answer/", {"answer": "x"}).status_code == 404
    api_as(provider_user).post(f"{BASE}/complaints/{complaint['id']}/answer/", {"answer": "已处理"})
    response = api_as(bureau_user).post(
        f"{BASE}/complaints/{complaint['id']}/close/",
        {"founded": True, "rectification_deadline": soon().isoformat()},
        format="json",
    )
    assert response.json()["status"] == "closed"
    fixed_queries(
        api_as(town_user), f"{BASE}/complaints/", lambda: [log() for _ in range(3)], django_assert_num_queries
    )


def test_spot_check_endpoints(api_as, bureau_user, town_user, other_town_user, provider, django_assert_num_queries):
    agreements = serve(provider, "燕塔街道", n=4)
    draw = api_as(bureau_user).post(f"{BASE}/spot-check-draws/", {"size": 2, "seed": 7}, format="json").json()
    again = api_as(bureau_user).post(f"{BASE}/spot-check-draws/", {"size": 2, "seed": 7}, format="json").json()
    assert draw["sample"] == again["sample"] and len(draw["sample"]) == 2
    assert api_as(town_user).post(f"{BASE}/spot-check-draws/", {"size": 2}, format="json").status_code == 403

    client = api_as(town_user)

    def record():
        return client.post(
            f"{BASE}/spot-checks/",
            {"recipient": agreements[0].recipient_id, "method": "onsite", "result": "ok"},
            format="json",
        )

    assert record().status_code == 201
    response = api_as(other_town_user).post(
        f"{BASE}/spot-checks/",
        {"recipient": agreements[0].recipient_id, "method": "onsite", "result": "ok"},
        format="json",
    )
    assert response.status_code == 404
    assert api_as(other_town_user).get(f"{BASE}/spot-checks/").json()["count"] == 0
    fixed_queries(client, f"{BASE}/spot-checks/", lambda: [record() for _ in range(3)], django_assert_num_queries)


def test_reviews_bureau_only_and_veto_enforced(
    api_as, bureau_user, provider_user, town_user, provider, provider_contract, django_assert_num_queries
):
    serve(provider, "燕塔街道")
    report = actions.serious_problem_report(
        actor=town_user,
        provider=provider,
        occurred_on=datetime.date(2026, 2, 1),
        description="虚报",
        category="false_data",
    )
    actions.serious_problem_verify(actor=bureau_user, report=report, reason="属实", rule=provider_contract[1],
                                   verified_on=datetime.date(2026, 2, 3))  # fmt: skip
    actions.review_build(half="2026H1")
    review = HalfYearReview.objects.get()
    assert api_as(provider_user).get(f"{BASE}/reviews/").json()["count"] == 0
    client = api_as(bureau_user)
    response = client.post(f"{BASE}/reviews/{review.pk}/decide/", {"decision": "continue", "reason": "x"})
    assert response.status_code == 400 and "一票否决" in response.json()["detail"]
    assert (
        client.post(f"{BASE}/reviews/{review.pk}/decide/", {"decision": "terminate", "reason": "x"}).status_code == 200
    )

    def more():
        for _ in range(3):
            ContractFactory()
        actions.review_build(half="2026H1")

    fixed_queries(client, f"{BASE}/reviews/", more, django_assert_num_queries)


def test_notifications_scoped(api_as, town_user, other_town_user, provider, yanta_agreements):
    actions.evaluation_remind_missing(month=MONTH)
    [note] = api_as(town_user).get(f"{BASE}/notifications/").json()["results"]
    assert api_as(other_town_user).get(f"{BASE}/notifications/").json()["count"] == 0
    assert api_as(other_town_user).post(f"{BASE}/notifications/{note['id']}/read/").status_code == 404
    assert api_as(town_user).post(f"{BASE}/notifications/{note['id']}/read/").json()["read_at"]


def test_crosscheck_over_the_api(api_as, bureau_user, town_user, other_town_user, provider, django_assert_num_queries):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from .factories import xlsx

    agreements = serve(provider, "燕塔街道", n=3)
    rows = [("张", a.recipient.id_number, "死亡", "2026-09-01") for a in agreements[:1]]
    client = api_as(bureau_user)
    response = client.post(
        f"{BASE}/cross-check-hits/import/", {"file": SimpleUploadedFile("d.xlsx", xlsx(rows))}, format="multipart"
    )
    assert response.status_code == 201
    [hit] = response.json()
    bad = client.post(
        f"{BASE}/cross-check-hits/import/",
        {"file": SimpleUploadedFile("d.xlsx", xlsx([("张", "12345", "死亡", "2026-09-01")]))},
        format="multipart",
    )
    assert bad.status_code == 400 and bad.json()["errors"][0].startswith("第2行")
    assert api_as(other_town_user).get(f"{BASE}/cross-check-hits/").json()["count"] == 0
    assert api_as(town_user).get(f"{BASE}/cross-check-hits/").json()["count"] == 1  # hits in its own town
    assert api_as(town_user).post(f"{BASE}/cross-check-hits/{hit['id']}/confirm-exit/").status_code == 403
    response = api_as(bureau_user).post(f"{BASE}/cross-check-hits/{hit['id']}/confirm-exit/")
    assert response.json()["status"] == "confirmed"

    def more():
        actions.crosscheck_import(
            actor=bureau_user,
            content=xlsx([("李", a.recipient.id_number, "户籍注销", "2026-09-02") for a in agreements[1:]]),
            file_name="e.xlsx",
        )

    fixed_queries(api_as(bureau_user), f"{BASE}/cross-check-hits/", more, django_assert_num_queries)


def test_takeover_over_the_api(
    api_as, bureau_user, provider_user, other_provider_user, provider, provider_contract, other_provider,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    from tests.factories import CaregiverFactory

    serve(provider, "燕塔街道", n=2)
    ContractFactory(provider=other_provider)
    helper = CaregiverFactory(provider=other_provider)
    actions.review_build(half="2026H1")
    review = actions.review_decide(
        actor=bureau_user, review=HalfYearReview.objects.get(provider=provider), decision="terminate", reason="x"
    )
    day = (timezone.localdate() + datetime.timedelta(days=3)).isoformat()
    body = {"review": review.pk, "new_provider": other_provider.pk, "takeover_date": day,
            "caregivers": {str(town("燕塔街道").pk): helper.pk}}  # fmt: skip
    assert api_as(provider_user).post(f"{BASE}/takeovers/", body, format="json").status_code == 404  # review unseen
    with django_capture_on_commit_callbacks(execute=True) as queued:
        response = api_as(bureau_user).post(f"{BASE}/takeovers/", body, format="json")
    assert response.status_code == 202, response.json()
    assert response.json()["status"] == "pending"
    assert len(queued) == 1  # the handover runs on the worker after commit
    done = api_as(bureau_user).get(f"{BASE}/takeovers/{response.json()['id']}/").json()
    assert done["status"] == "done"
    assert [line["caregiver"] for line in done["report"]] == [helper.name, helper.name]
    assert api_as(other_provider_user).get(f"{BASE}/takeovers/").json()["count"] == 1  # the new provider
    assert api_as(provider_user).get(f"{BASE}/takeovers/").json()["count"] == 0


def test_bureau_does_not_mark_a_towns_reminder_read(api_as, bureau_user, provider, yanta_agreements):
    actions.evaluation_remind_missing(month=MONTH)
    [note] = api_as(bureau_user).get(f"{BASE}/notifications/").json()["results"]
    assert api_as(bureau_user).post(f"{BASE}/notifications/{note['id']}/read/").status_code == 403


def test_draw_notification_and_takeover_lists_queries(
    api_as, bureau_user, town_user, provider, django_assert_num_queries
):
    serve(provider, "燕塔街道", n=3)
    client = api_as(bureau_user)
    client.post(f"{BASE}/spot-check-draws/", {"size": 1}, format="json")
    fixed_queries(
        client,
        f"{BASE}/spot-check-draws/",
        lambda: [client.post(f"{BASE}/spot-check-draws/", {"size": 2}, format="json") for _ in range(3)],
        django_assert_num_queries,
    )
    actions.evaluation_remind_missing(month=MONTH)

    def more_reminders():
        for name in ("朝城镇", "观城镇"):
            serve(ProviderFactory(), name)
        actions.evaluation_remind_missing(month=MONTH)

    first, after = fixed_queries(client, f"{BASE}/notifications/", more_reminders, django_assert_num_queries)
    assert (first["count"], after["count"]) == (1, 3)
    assert api_as(town_user).get(f"{BASE}/notifications/").json()["count"] == 1
