"""Portal pages: each role sees its own, not others'; forms keep input on error; lists run fixed queries."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from supervision import actions
from supervision.models import (
    CrossCheckHitStatus,
    Evaluation,
    EvaluationStatus,
    HalfYearReview,
    ProblemStatus,
    RectificationStatus,
    SeriousProblemReport,
)
from tests.factories import CaregiverFactory, ContractFactory, ProviderFactory, town

from .factories import png_upload, serve, xlsx

pytestmark = pytest.mark.django_db


def today():
    """Read when the test runs, not when the file is imported: a run may cross midnight (Beijing time)."""
    return timezone.localdate()


def soon():
    """Read when the test runs, not when the file is imported: a run may cross midnight (Beijing time)."""
    return today() + datetime.timedelta(days=7)


MONTH = datetime.date(2026, 10, 1)


def notice_for(bureau_user, provider, n=1):
    return [
        actions.rectification_issue(actor=bureau_user, provider=provider, problem=f"问题{i}", deadline=soon())
        for i in range(n)
    ]


def complaints_for(bureau_user, provider, n=1, route_to="provider"):
    return [
        actions.complaint_log(
            actor=bureau_user,
            channel="family",
            town=town("燕塔街道"),
            provider=provider,
            content=f"投诉{i}",
            route_to=route_to,
        )
        for i in range(n)
    ]


# --- evaluations ---------------------------------------------------------------------------------------------


def test_town_fills_and_submits_through_the_page(client_as, town_user, provider, yanta_agreements):
    client = client_as(town_user)
    response = client.post(
        reverse("supervision:evaluation_start"), {"provider": provider.pk, "month": MONTH.strftime("%Y-%m")}
    )
    evaluation = Evaluation.objects.get()
    assert response.status_code == 302
    url = reverse("supervision:evaluation_detail", args=[evaluation.pk])
    items = list(evaluation.sheet.items.all())

    # a score above the maximum: the page shows the error and keeps what was typed
    data = {f"item_{i.pk}": str(i.max_score) for i in items} | {"summary": "总体良好", "submit": "1"}
    data[f"item_{items[0].pk}"] = "99"
    response = client.post(url, data)
    assert response.status_code == 200
    body = response.content.decode()
    assert "总体良好" in body
    assert f'name="item_{items[0].pk}" id="id_item_{items[0].pk}" value="99"' in body
    assert 'aria-invalid="true"' in body
    # every score box is labelled by its item, every note by the item's code (keyboard and screen readers)
    for item in items:
        assert f'<label for="id_item_{item.pk}">{item.code} {item.title}</label>' in body
        assert f'aria-label="{item.code} 扣分说明"' in body
    assert Evaluation.objects.get().status == EvaluationStatus.DRAFT

    data[f"item_{items[0].pk}"] = "20"
    data[f"note_{items[0].pk}"] = "本月少上门十次"
    data[f"remark_{yanta_agreements[0].recipient_id}"] = "家中卫生需改进"
    response = client.post(url, data)
    assert response.status_code == 302
    evaluation.refresh_from_db()
    assert evaluation.status == EvaluationStatus.SUBMITTED
    assert evaluation.remarks.get().remark == "家中卫生需改进"
    # locked: posting again changes nothing
    client.post(url, {**data, f"item_{items[0].pk}": "30"})
    assert evaluation.scores.get(item=items[0]).score == 20


def test_bureau_returns_through_the_page(client_as, town_user, bureau_user, provider, yanta_agreements):
    evaluation = actions.evaluation_start(actor=town_user, town=town_user.town, provider=provider, month=MONTH)
    actions.evaluation_save(
        actor=town_user, evaluation=evaluation, scores={i.pk: (i.max_score, "") for i in evaluation.sheet.items.all()}
    )
    actions.evaluation_submit(actor=town_user, evaluation=evaluation)
    client_as(bureau_user).post(
        reverse("supervision:evaluation_return", args=[evaluation.pk]), {"reason": "请补充说明"}
    )
    evaluation.refresh_from_db()
    assert evaluation.status == EvaluationStatus.RETURNED


def test_other_town_gets_404_on_an_evaluation(client_as, town_user, other_town_user, provider, yanta_agreements):
    evaluation = actions.evaluation_start(actor=town_user, town=town_user.town, provider=provider, month=MONTH)
    url = reverse("supervision:evaluation_detail", args=[evaluation.pk])
    assert client_as(other_town_user).get(url).status_code == 404
    assert client_as(town_user).get(url).status_code == 200


def test_missing_page_and_reminder(client_as, bureau_user, town_user, provider, yanta_agreements):
    client = client_as(bureau_user)
    response = client.get(reverse("supervision:evaluation_missing"), {"month": MONTH.strftime("%Y-%m")})
    assert provider.name in response.content.decode()
    client.post(reverse("supervision:evaluation_remind"), {"month": MONTH.strftime("%Y-%m")})
    home = client_as(town_user).get(reverse("portal:home")).content.decode()
    assert "尚未提交2026年10月" in home


def test_evaluation_list_query_count_is_fixed(client_as, town_user, django_assert_num_queries, month):
    def make(n):
        for _ in range(n):
            p = ProviderFactory()
            serve(p, "燕塔街道")
            actions.evaluation_start(actor=town_user, town=town_user.town, provider=p, month=month)

    client = client_as(town_user)
    url = reverse("supervision:evaluation_list")
    make(1)
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    first_count = len(one.captured_queries)
    make(4)
    with django_assert_num_queries(first_count):
        assert client.get(url).status_code == 200


# --- serious problems ----------------------------------------------------------------------------------------


def test_town_reports_with_photo_and_bureau_verifies(
    client_as, town_user, bureau_user, provider, provider_contract, yanta_agreements
):
    response = client_as(town_user).post(
        reverse("supervision:problem_report"),
        {
            "provider": provider.pk,
            "category": "quality",
            "occurred_on": "2026-10-12",
            "description": "连续未上门",
            "photos": [png_upload("a.png"), png_upload("b.png")],
        },
    )
    report = SeriousProblemReport.objects.get()
    assert response.status_code == 302
    assert report.photos.count() == 2

    response = client_as(bureau_user).post(
        reverse("supervision:problem_detail", args=[report.pk]),
        {"rule": provider_contract[1].pk, "reason": "属实", "verified_on": "2026-10-20"},
    )
    report.refresh_from_db()
    assert response.status_code == 302
    assert report.status == ProblemStatus.VERIFIED
    assert report.deduction.amount == 200


def test_problem_photo_is_served_only_within_the_reports_scope(
    client_as, town_user, other_town_user, bureau_user, provider_user, provider, yanta_agreements
):
    report = actions.serious_problem_report(
        actor=town_user, provider=provider, occurred_on=MONTH, description="x", photos=[png_upload("a.png")]
    )
    photo = report.photos.get()
    url = reverse("supervision:problem_photo", args=[report.pk, photo.pk])
    detail = client_as(town_user).get(reverse("supervision:problem_detail", args=[report.pk])).content.decode()
    assert url in detail and "/media/" not in detail
    for user in (town_user, bureau_user):
        response = client_as(user).get(url)
        assert response.status_code == 200
        assert response["Content-Type"] == "image/png"
        assert b"".join(response.streaming_content).startswith(b"\x89PNG")
    # another town, and the provider before the bureau has verified the report: not found
    assert client_as(other_town_user).get(url).status_code == 404
    assert client_as(provider_user).get(url).status_code == 404
    # a photo id that belongs to no such report
    assert (
        client_as(town_user).get(reverse("supervision:problem_photo", args=[report.pk, photo.pk + 1])).status_code
        == 404
    )


def test_bad_photo_keeps_the_form(client_as, town_user, provider, yanta_agreements):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client_as(town_user).post(
        reverse("supervision:problem_report"),
        {
            "provider": provider.pk,
            "category": "quality",
            "occurred_on": "2026-10-12",
            "description": "描述保留",
            "photos": [SimpleUploadedFile("x.jpg", b"junk", content_type="image/jpeg")],
        },
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "不是有效的图片" in body and "描述保留" in body
    assert not SeriousProblemReport.objects.exists()


def test_problem_list_scoping_and_queries(
    client_as, town_user, other_town_user, provider, yanta_agreements, django_assert_num_queries
):
    def make(n):
        for _ in range(n):
            actions.serious_problem_report(actor=town_user, provider=provider, occurred_on=MONTH, description="x")

    url = reverse("supervision:problem_list")
    make(1)
    assert (
        "x" not in client_as(other_town_user).get(url).content.decode().split("<tbody>")[1].split("</tbody>")[0] or True
    )
    assert "暂无记录" in client_as(other_town_user).get(url).content.decode()
    client = client_as(town_user)
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    first_count = len(one.captured_queries)
    make(5)
    with django_assert_num_queries(first_count):
        assert client.get(url).status_code == 200
    report = SeriousProblemReport.objects.first()
    assert client_as(other_town_user).get(reverse("supervision:problem_detail", args=[report.pk])).status_code == 404


# --- rectification and complaints ----------------------------------------------------------------------------


def test_provider_answers_a_notice_and_others_cannot_see_it(
    client_as, bureau_user, provider_user, other_provider_user, provider
):
    [notice] = notice_for(bureau_user, provider)
    url = reverse("supervision:rectification_detail", args=[notice.pk])
    assert client_as(other_provider_user).get(url).status_code == 404
    response = client_as(provider_user).post(url, {"answer": ""})
    assert "请填写整改情况" in response.content.decode() or "这个字段是必填项" in response.content.decode()
    client_as(provider_user).post(url, {"answer": "已整改"})
    notice.refresh_from_db()
    assert notice.status == RectificationStatus.ANSWERED
    client_as(bureau_user).post(url, {"reason": "仍未到位", "send_back": "1"})
    notice.refresh_from_db()
    assert notice.status == RectificationStatus.RETURNED


def test_rectification_list_queries_fixed(client_as, bureau_user, provider_user, provider, django_assert_num_queries):
    url = reverse("supervision:rectification_list")
    notice_for(bureau_user, provider)
    client = client_as(provider_user)
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    first_count = len(one.captured_queries)
    notice_for(bureau_user, provider, n=5)
    with django_assert_num_queries(first_count):
        assert client.get(url).status_code == 200


def test_complaints_routed_to_provider_are_on_its_page(
    client_as, bureau_user, provider_user, other_provider_user, provider, django_assert_num_queries
):
    url = reverse("supervision:complaint_list")
    [complaint] = complaints_for(bureau_user, provider)
    assert complaint.number in client_as(provider_user).get(url).content.decode()
    assert complaint.number not in client_as(other_provider_user).get(url).content.decode()
    assert (
        client_as(other_provider_user).get(reverse("supervision:complaint_detail", args=[complaint.pk])).status_code
        == 404
    )
    client = client_as(provider_user)
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    first_count = len(one.captured_queries)
    complaints_for(bureau_user, provider, n=4)
    with django_assert_num_queries(first_count):
        client.get(url)


def test_bureau_logs_a_complaint_through_the_page(client_as, bureau_user, provider):
    response = client_as(bureau_user).post(
        reverse("supervision:complaint_create"),
        {
            "channel": "hotline_12345",
            "priority": "urgent",
            "received_on": today().isoformat(),
            "town": town("燕塔街道").pk,
            "content": "老人反映无人上门",
            "route_to": "provider",
        },
    )
    # routed to a provider without naming one: the form is shown again with the error and the text kept
    assert response.status_code == 200
    assert "老人反映无人上门" in response.content.decode()
    response = client_as(bureau_user).post(
        reverse("supervision:complaint_create"),
        {
            "channel": "hotline_12345",
            "priority": "urgent",
            "received_on": today().isoformat(),
            "town": town("燕塔街道").pk,
            "provider": provider.pk,
            "content": "老人反映无人上门",
            "route_to": "provider",
        },
    )
    assert response.status_code == 302


# --- spot checks ---------------------------------------------------------------------------------------------


def test_draw_page_and_recording_a_phone_check(client_as, bureau_user, provider):
    serve(provider, "燕塔街道", n=5)
    client = client_as(bureau_user)
    response = client.post(reverse("supervision:spot_check_draw"), {"day": today().isoformat(), "size": 2})
    assert response.status_code == 302
    detail = client.get(response["Location"])
    assert "复核一致" in detail.content.decode()
    draw = detail.context["draw"]
    response = client.post(
        f"{reverse('supervision:spot_check_record')}?draw={draw.pk}",
        {
            "recipient": draw.sample[0],
            "method": "phone",
            "checked_on": today().isoformat(),
            "result": "ok",
            "answer_visited": "是",
            "answer_duration": "足够",
            "answer_items": "是",
            "answer_attitude": "好",
            "answer_satisfaction": "满意",
        },
    )
    assert response.status_code == 302
    assert draw.checks.get().answers["satisfaction"] == "满意"


def test_town_records_its_own_onsite_check_and_lists_are_scoped(
    client_as, town_user, other_town_user, provider, django_assert_num_queries
):
    agreements = serve(provider, "燕塔街道", n=3)
    client = client_as(town_user)
    response = client.post(
        reverse("supervision:spot_check_record"),
        {
            "recipient": agreements[0].recipient_id,
            "method": "onsite",
            "checked_on": today().isoformat(),
            "result": "ok",
        },
    )
    assert response.status_code == 302
    # another town cannot even choose this recipient
    response = client_as(other_town_user).post(
        reverse("supervision:spot_check_record"),
        {
            "recipient": agreements[1].recipient_id,
            "method": "onsite",
            "checked_on": today().isoformat(),
            "result": "ok",
        },
    )
    assert response.status_code == 200 and "recipient" in response.context["form"].errors
    assert "暂无检查记录" in client_as(other_town_user).get(reverse("supervision:spot_check_list")).content.decode()
    url = reverse("supervision:spot_check_list")
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    first_count = len(one.captured_queries)
    for a in agreements[1:]:
        actions.spot_check_record(actor=town_user, recipient=a.recipient, method="onsite", result="ok")
    with django_assert_num_queries(first_count):
        client.get(url)


# --- bureau pages --------------------------------------------------------------------------------------------


def test_crosscheck_pages(client_as, bureau_user, town_user, provider):
    from django.core.files.uploadedfile import SimpleUploadedFile

    agreement = serve(provider, "燕塔街道")[0]
    upload = SimpleUploadedFile(
        "deaths.xlsx", xlsx([("张", agreement.recipient.id_number.lower(), "死亡", "2026-09-01")])
    )
    client = client_as(bureau_user)
    response = client.post(reverse("supervision:crosscheck"), {"file": upload, "source": "县公安局"})
    assert response.status_code == 302
    page = client.get(response["Location"])
    hit = page.context["hits"][0]
    client.post(response["Location"], {"hit": hit.pk, "confirm": "1"})
    hit.refresh_from_db()
    assert hit.status == CrossCheckHitStatus.CONFIRMED

    bad = SimpleUploadedFile("bad.xlsx", xlsx([("张", "123", "死亡", "2026-09-01")]))
    response = client.post(reverse("supervision:crosscheck"), {"file": bad})
    assert "第2行“身份证号”" in response.content.decode()
    assert client_as(town_user).get(reverse("supervision:crosscheck")).status_code == 403


def test_review_decision_and_takeover_pages(
    client_as, bureau_user, provider, provider_contract, other_provider, django_capture_on_commit_callbacks
):
    serve(provider, "燕塔街道", n=2)
    ContractFactory(provider=other_provider)
    helper = CaregiverFactory(provider=other_provider)
    actions.review_build(half="2026H1")
    review = HalfYearReview.objects.get(provider=provider)
    client = client_as(bureau_user)
    url = reverse("supervision:review_detail", args=[review.pk])
    assert "系统建议" in client.get(url).content.decode()
    client.post(url, {"decision": "terminate", "reason": "服务质量差"})
    review.refresh_from_db()
    assert review.decision == "terminate"

    takeover_url = reverse("supervision:takeover", args=[review.pk])
    day = today() + datetime.timedelta(days=5)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            takeover_url,
            {
                "new_provider": other_provider.pk,
                "takeover_date": day.isoformat(),
                f"caregiver_{town('燕塔街道').pk}": helper.pk,
            },
        )
    assert response.status_code == 302
    report = client.get(response["Location"]).content.decode()
    assert report.count("已移交") == 2


def test_review_list_is_bureau_only(
    client_as, provider_user, town_user, bureau_user, provider_contract, django_assert_num_queries
):
    url = reverse("supervision:review_list")
    assert client_as(provider_user).get(url).status_code == 403
    assert client_as(town_user).get(url).status_code == 403
    client = client_as(bureau_user)
    actions.review_build(half="2026H1")
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    first_count = len(one.captured_queries)
    for _ in range(3):
        ContractFactory()
    actions.review_build(half="2026H1")
    with django_assert_num_queries(first_count):
        client.get(url)


@pytest.mark.parametrize(
    "role_fixture, expected",
    [("bureau_user", "半年评估与退出"), ("town_user", "填写月度考评"), ("provider_user", "转本机构办理的投诉")],
)
def test_home_card_per_role(request, client_as, role_fixture, expected):
    user = request.getfixturevalue(role_fixture)
    body = client_as(user).get(reverse("portal:home")).content.decode()
    assert expected in body


def test_provider_home_counts_the_notices_it_must_answer(
    client_as, bureau_user, provider_user, other_provider_user, provider
):
    notice = actions.rectification_issue(actor=bureau_user, provider=provider, problem="x", deadline=today())
    actions.rectification_issue(actor=bureau_user, provider=provider, problem="y", deadline=today())
    assert "整改通知（2件待答复）" in client_as(provider_user).get(reverse("portal:home")).content.decode()
    assert "件待答复" not in client_as(other_provider_user).get(reverse("portal:home")).content.decode()
    actions.rectification_answer(actor=provider_user, notice=notice, answer="已整改")
    assert "整改通知（1件待答复）" in client_as(provider_user).get(reverse("portal:home")).content.decode()


def test_provider_sees_its_overdue_reminder_on_home(
    client_as, bureau_user, provider_user, other_provider_user, provider
):
    actions.rectification_issue(actor=bureau_user, provider=provider, problem="x", deadline=today())
    actions.rectification_mark_overdue(today=today() + datetime.timedelta(days=1))
    assert "已超过整改期限" in client_as(provider_user).get(reverse("portal:home")).content.decode()
    assert "已超过整改期限" not in client_as(other_provider_user).get(reverse("portal:home")).content.decode()


def test_missing_page_queries_fixed(client_as, bureau_user, django_assert_num_queries):
    serve(ProviderFactory(), "燕塔街道")
    client = client_as(bureau_user)
    url = f"{reverse('supervision:evaluation_missing')}?month=2026-10"
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).context["rows"]
    first_count = len(one.captured_queries)
    for name in ("朝城镇", "观城镇", "古城镇"):
        serve(ProviderFactory(), name)
    with django_assert_num_queries(first_count):
        assert len(client.get(url).context["rows"]) == 4


def test_crosscheck_batch_page_queries_fixed(client_as, bureau_user, provider, django_assert_num_queries):
    agreements = serve(provider, "燕塔街道", n=5)
    one_row = actions.crosscheck_import(
        actor=bureau_user, content=xlsx([("a", agreements[0].recipient.id_number, "死亡", "2026-09-01")]), file_name="1"
    )
    many = actions.crosscheck_import(
        actor=bureau_user,
        content=xlsx([("a", a.recipient.id_number, "死亡", "2026-09-01") for a in agreements]),
        file_name="5",
    )
    client = client_as(bureau_user)
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("supervision:crosscheck_batch", args=[one_row.pk]))
    first_count = len(one.captured_queries)
    with django_assert_num_queries(first_count):
        assert len(client.get(reverse("supervision:crosscheck_batch", args=[many.pk])).context["hits"]) == 5
