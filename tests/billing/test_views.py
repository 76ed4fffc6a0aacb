"""Portal pages: who sees which month and figures; confirm from the page; fixed query counts."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from billing.actions import settlement_compute
from billing.models import Settlement, SettlementStatus

from .conftest import add_recipients

pytestmark = pytest.mark.django_db


def test_bureau_sees_county_totals_and_both_providers(client_as, bureau_user, two_provider_month):
    settlement, _, _ = two_provider_month

    response = client_as(bureau_user).get(reverse("billing:settlement_detail", args=[settlement.pk]))

    assert response.status_code == 200
    body = response.content.decode()
    assert "莘县康乐养老服务中心" in body and "莘县颐和居家养老服务有限公司" in body
    assert "¥1,128.00" in body  # 189 + 626 + 313, the county's gross
    assert "¥1,118.00" in body  # net after the 10.00 deduction


def test_finance_reads_everything_but_cannot_confirm(client_as, finance_user, two_provider_month):
    settlement, _, _ = two_provider_month
    client = client_as(finance_user)

    assert client.get(reverse("billing:settlement_list")).status_code == 200
    detail = client.get(reverse("billing:settlement_detail", args=[settlement.pk]))
    assert "¥1,128.00" in detail.content.decode()
    assert "确认并冻结" not in detail.content.decode()
    assert client.post(reverse("billing:settlement_confirm", args=[settlement.pk])).status_code == 403
    settlement.refresh_from_db()
    assert settlement.status == SettlementStatus.CONFIRMED


def test_provider_sees_only_its_own_figures(client_as, provider_user, two_provider_month):
    settlement, _, theirs = two_provider_month
    client = client_as(provider_user)

    body = client.get(reverse("billing:settlement_detail", args=[settlement.pk])).content.decode()

    assert "莘县康乐养老服务中心" in body
    assert "莘县颐和居家养老服务有限公司" not in body
    assert "¥815.00" in body  # own gross (189 + 626)
    assert "¥1,128.00" not in body
    lines = client.get(reverse("billing:settlement_lines", args=[settlement.pk])).content.decode()
    assert theirs.name not in lines
    assert "共 2 条" in lines


def test_provider_gets_404_for_a_month_it_is_not_in(client_as, provider_user, billed, other_provider, bureau_user):
    billed(provider=other_provider)
    settlement = settlement_compute(actor=bureau_user, month=datetime.date(2024, 3, 1))

    client = client_as(provider_user)
    assert client.get(reverse("billing:settlement_detail", args=[settlement.pk])).status_code == 404
    assert client.post(reverse("billing:settlement_download", args=[settlement.pk])).status_code == 404
    assert client.get(reverse("billing:settlement_progress", args=[settlement.pk])).status_code == 404
    assert "暂无结算" in client.get(reverse("billing:settlement_list")).content.decode()


@pytest.mark.parametrize("who", ["town_user", "caregiver_user"])
def test_towns_and_caregivers_see_no_billing(request, client_as, who, two_provider_month):
    settlement, _, _ = two_provider_month
    client = client_as(request.getfixturevalue(who))

    for name in ("settlement_detail", "settlement_lines", "settlement_download", "settlement_progress"):
        assert client.get(reverse(f"billing:{name}", args=[settlement.pk])).status_code == 403
    assert client.get(reverse("billing:settlement_list")).status_code == 403


def test_bureau_starts_a_month_from_the_page_and_confirms_it(
    client_as, bureau_user, billed, django_capture_on_commit_callbacks
):
    billed()
    client = client_as(bureau_user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("billing:settlement_list"), {"month": "2024-03"})
    assert response.status_code == 302
    settlement = Settlement.objects.get(month=datetime.date(2024, 3, 1))
    assert settlement.net == Decimal("189.00")
    progress = client.get(reverse("billing:settlement_progress", args=[settlement.pk])).json()
    assert progress == {
        "run_state": "done",
        "run_state_display": "计算完成",
        "stalled": False,
        "done": 1,
        "total": 1,
        "percent": 100,
        "error": "",
    }

    # no visit at all this month: confirming waits for the bureau to decide the proposal, here on its page
    client.post(reverse("billing:settlement_confirm", args=[settlement.pk]))
    settlement.refresh_from_db()
    assert settlement.status == SettlementStatus.DRAFT
    proposal = settlement.proposals.get()
    client.post(
        reverse("billing:settlement_proposals", args=[settlement.pk]),
        {"ids": [proposal.pk], "verb": "waive", "reason": "新签机构，首月尚未开展上门服务"},
    )
    client.post(reverse("billing:settlement_confirm", args=[settlement.pk]))
    settlement.refresh_from_db()
    assert (settlement.status, settlement.confirmed_by) == (SettlementStatus.CONFIRMED, bureau_user)


def test_month_form_keeps_input_and_shows_the_rule_broken(client_as, bureau_user, two_provider_month):
    response = client_as(bureau_user).post(reverse("billing:settlement_list"), {"month": "2024-03"})

    body = response.content.decode()
    assert response.status_code == 200
    assert "已确认，不能重新计算" in body
    assert 'value="2024-03"' in body


def test_provider_cannot_confirm(client_as, provider_user, billed, bureau_user):
    billed()
    settlement = settlement_compute(actor=bureau_user, month=datetime.date(2024, 3, 1))

    assert client_as(provider_user).post(reverse("billing:settlement_confirm", args=[settlement.pk])).status_code == 403
    settlement.refresh_from_db()
    assert settlement.status == SettlementStatus.DRAFT


def _count(client, url):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("who", ["bureau_user", "provider_user"])
def test_pages_run_a_fixed_number_of_queries(
    request, client_as, who, provider, other_provider, bureau_user, django_assert_num_queries
):
    client = client_as(request.getfixturevalue(who))
    add_recipients(provider, 1)
    add_recipients(other_provider, 1)
    settlement = settlement_compute(actor=bureau_user, month=datetime.date(2024, 3, 1))
    urls = [
        reverse("billing:settlement_list"),
        reverse("billing:settlement_detail", args=[settlement.pk]),
        reverse("billing:settlement_lines", args=[settlement.pk]),
    ]
    few = [_count(client, url) for url in urls]

    add_recipients(provider, 7)
    add_recipients(other_provider, 7)
    settlement_compute(actor=bureau_user, month=datetime.date(2024, 3, 1))

    for url, expected in zip(urls, few, strict=True):
        with django_assert_num_queries(expected):
            client.get(url)


def test_a_settlement_whose_worker_was_killed_shows_as_interrupted_not_running_for_hours(
    client_as, bureau_user, settings
):
    from django.utils import timezone

    from billing.models import RunState
    from shenxian_care.models import JobProgress
    from shenxian_care.progress import job_key

    settings.JOB_LEASE_SECONDS = 45
    # given: a draft's computation reached 20% on a worker that was then killed; its last heartbeat a minute old
    settlement = Settlement.objects.create(
        month=datetime.date(2024, 3, 1), run_state=RunState.RUNNING, progress_done=1, progress_total=5
    )
    JobProgress.objects.update_or_create(job=job_key(settlement))
    JobProgress.objects.filter(job=job_key(settlement)).update(
        updated_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    client = client_as(bureau_user)

    progress = client.get(reverse("billing:settlement_progress", args=[settlement.pk])).json()
    page = client.get(reverse("billing:settlement_detail", args=[settlement.pk])).content.decode()

    assert (progress["stalled"], progress["run_state_display"]) == (True, "已中断")
    assert "计算中断" in page and "页面每5秒自动刷新" not in page
    # while its worker beats, it is running
    JobProgress.objects.filter(job=job_key(settlement)).update(updated_at=timezone.now())
    assert client.get(reverse("billing:settlement_progress", args=[settlement.pk])).json()["stalled"] is False


# Committed rows: on PostgreSQL the run's lease is written from a connection of its own.
@pytest.mark.django_db(transaction=True)
def test_recomputing_a_month_whose_worker_was_killed_starts_it_anew(billed, client_as, bureau_user, settings):
    """Not "still computing, will compute again after": nothing is computing it; the month is computed now."""
    from django.utils import timezone

    from billing.models import RunState
    from shenxian_care.models import JobProgress
    from shenxian_care.progress import job_key

    settings.JOB_LEASE_SECONDS = 45
    billed()
    settlement = Settlement.objects.create(month=datetime.date(2024, 3, 1), run_state=RunState.RUNNING)
    JobProgress.objects.create(job=job_key(settlement))
    JobProgress.objects.filter(job=job_key(settlement)).update(
        updated_at=timezone.now() - datetime.timedelta(minutes=1)
    )

    response = client_as(bureau_user).post(reverse("billing:settlement_recompute", args=[settlement.pk]), follow=True)

    assert [str(m) for m in response.context["messages"]] == ["已开始重新计算。"]
    settlement.refresh_from_db()
    assert (settlement.run_state, settlement.rerun_requested, settlement.lines.count()) == (RunState.DONE, False, 1)


def test_a_draft_whose_worker_was_killed_can_be_discarded_but_not_one_still_computing(client_as, bureau_user, settings):
    from django.utils import timezone

    from billing.models import RunState
    from shenxian_care.models import JobProgress
    from shenxian_care.progress import job_key

    settings.JOB_LEASE_SECONDS = 45
    settlement = Settlement.objects.create(month=datetime.date(2024, 3, 1), run_state=RunState.RUNNING)
    JobProgress.objects.create(job=job_key(settlement))
    client = client_as(bureau_user)
    discard = reverse("billing:settlement_discard", args=[settlement.pk])

    # its worker beats: still computing, the draft stays
    response = client.post(discard, follow=True)
    assert any("请完成后再作废" in str(m) for m in response.context["messages"])
    assert Settlement.objects.filter(pk=settlement.pk).exists()

    # its last heartbeat a minute old (the worker was killed): the bureau may throw it away
    JobProgress.objects.filter(job=job_key(settlement)).update(
        updated_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    client.post(discard)
    assert not Settlement.objects.filter(pk=settlement.pk).exists()
