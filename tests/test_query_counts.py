"""Issue 15's pages at a fixed number of queries, pinned, at two data sizes (3 and 30 recipients, each with visits
this month, a provider of its own for every third, and the daily check's flags).

The other pages of the issue's table are pinned beside their code, also at two sizes:
- a check-in and a check-out through a real token (9 each): tests/services/test_single_visit_queries.py
- the API's visit list (3, plus the token when signed in by one): tests/services/test_api.py
  `test_visit_list_has_a_fixed_query_count`
- the admin's visit and recipient lists (11 and 10): tests/shenxian_care/test_admin_list_queries.py
"""

import datetime

import pytest
import time_machine
from django.core.cache import cache
from django.utils import timezone

from services import actions
from services.models import VisitStatus
from services.standards import standard_on
from tests.factories import AgreementFactory, ProviderFactory, RecipientFactory, VillageFactory, town
from tests.services.factories import VisitFactory, local

pytestmark = pytest.mark.django_db

TOWNS = ("燕塔街道", "朝城镇", "观城镇")
# Mid-morning: after midnight the dashboard has no planned visit late yet (one query fewer), so the count is pinned at
# a fixed hour, whenever the suite runs.
MORNING = local(2026, 12, 9, 10)


def county(n):
    """n recipients across three towns, a provider for every three, each with visits this month (one an exception
    in every five) and an open visit in every ten; then the daily check's flags."""
    now = timezone.localtime()
    first = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    providers = {}
    for i in range(n):
        provider = providers.setdefault(i // 3, ProviderFactory())
        village = VillageFactory(town=town(TOWNS[i % 3]))
        recipient = RecipientFactory(village=village, level=("self_care", "full")[i % 2])
        agreement = AgreementFactory(provider=provider, recipient=recipient)
        start = max(first, now - datetime.timedelta(hours=2 + i))
        VisitFactory(agreement=agreement, started_at=start, minutes=40)
        if i % 5 == 0:
            VisitFactory(
                agreement=agreement,
                started_at=start - datetime.timedelta(minutes=1),
                minutes=40,
                status=VisitStatus.EXCEPTION,
                exception_reasons=["too_far"],
            )
        if i % 10 == 0:
            VisitFactory(agreement=agreement, started_at=now - datetime.timedelta(minutes=5), ended_at=None)
    AgreementFactory(provider=providers[0])  # never visited: overdue
    actions.visit_flag_overdue()


def queries(client, url, django_assert_num_queries, expected, *, cold):
    if cold:
        cache.clear()  # the dashboard's month figures are computed afresh
        standard_on(timezone.localdate())  # (the service standard stays cached in a running process)
    with django_assert_num_queries(expected):
        response = client.get(url)
    assert response.status_code == 200
    return response


# the session and its user; then the page's own reads
DASHBOARD = {
    # viewer's towns and providers (2); the latest flag day; open visits, exceptions, planned visits not started in
    # time (from the plans' grace time after midnight), the flags (4 lists);
    # today's visits by town and provider with the two names (3), the counts (in progress, exceptions, emergencies,
    # late sync: 4); and, when not cached, the month's visits by town and provider with their names (3), the
    # overdue list and count (2), the providers' compliance (agreements, visit totals, levels, contracts, the
    # providers' names: 5)
    "/portal/services/dashboard/": {"cold": 30, "warm": 20},
    "/portal/services/dashboard.json": {"cold": 29, "warm": 19},
}


@time_machine.travel(MORNING, tick=False)
@pytest.mark.parametrize("n", [3, 30])
@pytest.mark.parametrize("url", list(DASHBOARD))
def test_the_dashboard_and_its_json_cost_the_same_at_any_size(
    client_as, bureau_user, settings, django_assert_num_queries, n, url
):
    settings.DASHBOARD_MONTH_SECONDS = 60
    county(n)
    client = client_as(bureau_user)
    client.get(url)  # what a running process keeps: the service standard, content types
    # when the month's figures are computed
    cold = queries(client, url, django_assert_num_queries, DASHBOARD[url]["cold"], cold=True)
    # and when the poll 30 seconds later finds them computed
    warm = queries(client, url, django_assert_num_queries, DASHBOARD[url]["warm"], cold=False)
    if url.endswith(".json"):
        data = cold.json()
        assert data["counts"]["month"] == n + (n + 4) // 5  # every finished visit this month, exceptions too
        assert data["counts"]["overdue"] == 1
        assert sum(r["recipients"] for r in data["provider_compliance"]) == n + 1
        assert warm.json()["provider_compliance"] == data["provider_compliance"]


@time_machine.travel(MORNING, tick=False)
@pytest.mark.parametrize("n", [3, 30])
@pytest.mark.parametrize("url", list(DASHBOARD))
def test_a_dear_dashboard_queued_for_a_worker_costs_what_a_warm_one_costs_at_any_size(
    client_as, bureau_user, settings, monkeypatch, django_assert_num_queries, n, url
):
    """A view whose month figures lapsed and whose last computation was dear (over DASHBOARD_INLINE_SECONDS) is
    answered with its live part and queued for a worker: its request reads what the poll of a kept view reads (the
    month's own reads are the worker's), however many visits the month holds."""
    from services import tasks

    settings.DASHBOARD_MONTH_SECONDS = 60
    settings.DASHBOARD_INLINE_SECONDS = 0  # every computation counts as dear
    queued = []
    monkeypatch.setattr(tasks.dashboard_view_task, "delay", lambda *args: queued.append(args))
    county(n)
    client = client_as(bureau_user)
    cache.clear()
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client.get(url)  # its first view: computed by the request, so what it costs is known
        # when no one kept it open and it is opened again after its figures lapsed
        clock.shift(61)
        standard_on(timezone.localdate())  # the service standard, which a running process reads once a minute
        response = queries(client, url, django_assert_num_queries, DASHBOARD[url]["warm"], cold=False)
    assert len(queued) == 1
    if url.endswith(".json"):
        assert response.json()["month_pending"] is True
        assert response.json()["counts"]["month"] is None


REPORT = {
    # the session, its user and the portal's own per-request reads; the viewer's towns and providers (2); agreements,
    # visit totals, levels, contract windows (4); a group's names, read after (the towns' 1, the providers' 1, the
    # caregivers' 3: theirs, their towns', their providers'); with the recipient level's page also the count (1)
    "town": 13,
    "provider": 13,
    "caregiver": 15,
    "recipient": 13,
}


@time_machine.travel(MORNING, tick=False)
@pytest.mark.parametrize("n", [3, 30])
@pytest.mark.parametrize("group", list(REPORT))
def test_the_compliance_report_costs_the_same_at_any_size(client_as, bureau_user, django_assert_num_queries, n, group):
    county(n)
    client = client_as(bureau_user)
    month = timezone.localdate().strftime("%Y-%m")
    url = f"/portal/services/report/?month={month}&group={group}"
    client.get(url)
    response = queries(client, url, django_assert_num_queries, REPORT[group], cold=False)
    if group == "town":
        assert sum(row.recipients for row in response.context["rows"]) == n + 1
