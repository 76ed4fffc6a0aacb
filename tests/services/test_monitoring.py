import datetime

import pytest
from django.utils import timezone

from services import actions
from services.models import FlagKind, PlannedVisit, VisitFlag, VisitStatus
from services.tasks import visit_flag_overdue_task
from tests.factories import AgreementFactory, RecipientFactory, VillageFactory, town

from .factories import VisitFactory

pytestmark = pytest.mark.django_db


def _agreement_in(town_name, **kw):
    return AgreementFactory(recipient=RecipientFactory(village=VillageFactory(town=town(town_name))), **kw)


def _now_visit(agreement, **kw):
    """A visit that began a little while ago, but never before today's local midnight (the suite may run at 00:05)."""
    now = timezone.localtime()
    start = max(now - datetime.timedelta(minutes=20), now.replace(hour=0, minute=0, second=0, microsecond=0))
    return VisitFactory(agreement=agreement, started_at=start, **kw)


def test_dashboard_json_shows_live_figures(client_as, bureau_user):
    yanta = _agreement_in("燕塔街道")
    _now_visit(yanta, ended_at=None, duration_minutes=None)
    _now_visit(_agreement_in("朝城镇"), status=VisitStatus.EXCEPTION, exception_reasons=["too_far"])
    _agreement_in("朝城镇")  # never visited → overdue
    actions.visit_flag_overdue()
    data = client_as(bureau_user).get("/portal/services/dashboard.json").json()
    assert data["counts"]["in_progress"] == 1
    assert data["counts"]["today"] == 2
    assert data["month_label"] == f"{timezone.localdate():%Y年%m月}"  # as people read a month
    assert data["counts"]["exceptions"] == 1
    assert data["counts"]["overdue"] == 2  # the never-visited one, and the one whose only visit is not finished
    assert {row["name"] for row in data["today_by_town"]} == {"燕塔街道", "朝城镇"}
    assert data["exceptions"][0]["reasons"] == ["签到位置超出规定范围"]
    assert len(data["provider_compliance"]) == 3
    first = data["provider_compliance"][0]
    assert first["percent"] == f"{first['rate'] * 100:.1f}%" and first["met"] <= first["required"]


def test_the_months_visits_by_town_and_by_provider_count_only_finished_visits_not_rejected(
    client_as, bureau_user, provider, other_provider
):
    ours_yanta = _agreement_in("燕塔街道", provider=provider)
    ours_chaocheng = _agreement_in("朝城镇", provider=provider)
    theirs_chaocheng = _agreement_in("朝城镇", provider=other_provider)
    _now_visit(ours_yanta)
    _now_visit(ours_chaocheng)
    _now_visit(theirs_chaocheng)
    _now_visit(theirs_chaocheng)
    _now_visit(ours_yanta, ended_at=None, duration_minutes=None)  # still in progress: not counted yet
    _now_visit(ours_yanta, status=VisitStatus.REJECTED)  # rejected by the bureau: never counted

    data = client_as(bureau_user).get("/portal/services/dashboard.json").json()

    assert data["counts"]["month"] == 4
    assert [(r["name"], r["visits"]) for r in data["month_by_town"]] == [("朝城镇", 3), ("燕塔街道", 1)]
    by_provider = {(r["name"], r["visits"]) for r in data["month_by_provider"]}
    assert by_provider == {(provider.name, 2), (other_provider.name, 2)}
    assert all(isinstance(r["id"], int) for r in data["month_by_town"] + data["month_by_provider"])


def test_dashboard_page_has_the_charts_over_tables_that_read_without_scripts(client_as, town_user):
    # given a visit today in the official's town and one in another town
    _now_visit(_agreement_in("燕塔街道"))
    _now_visit(_agreement_in("朝城镇"))
    # when the town official opens the dashboard
    page = client_as(town_user).get("/portal/services/dashboard/").content.decode()
    # then both charts are there, hidden until drawn, with the figures already in their tables
    town_figure = page[page.index('id="fig-today-by-town"') : page.index('id="fig-provider-compliance"')]
    assert '<div class="chart-box" hidden><canvas role="img" aria-label="柱状图：今日各镇' in town_figure
    assert '<td>燕塔街道</td><td class="num">1</td>' in town_figure
    assert "朝城镇" not in town_figure
    compliance_figure = page[page.index('id="fig-provider-compliance"') : page.index('id="dashboard"')]
    assert '<canvas role="img" aria-label="柱状图：各服务机构本月上门达标率' in compliance_figure
    assert "%</td>" in compliance_figure
    # the library is the portal's own copy, loaded before the scripts that use it
    scripts = [page.index(f"/static/{path}") for path in ("vendor/chartjs/chart.umd.min.js", "portal/charts.js")]
    assert scripts == sorted(scripts) and scripts[-1] < page.index("/static/services/dashboard.js")


def test_a_town_dashboard_sees_only_its_town(client_as, town_user):
    _now_visit(_agreement_in("燕塔街道"))
    _now_visit(_agreement_in("朝城镇"), status=VisitStatus.EXCEPTION, exception_reasons=["too_far"])
    data = client_as(town_user).get("/portal/services/dashboard.json").json()
    assert data["counts"]["today"] == 1
    assert data["counts"]["exceptions"] == 0
    assert [row["name"] for row in data["today_by_town"]] == ["燕塔街道"]


def test_dashboard_filters_by_town_and_ignores_towns_outside_scope(client_as, bureau_user, town_user):
    _now_visit(_agreement_in("燕塔街道"))
    _now_visit(_agreement_in("朝城镇"))
    chaocheng = town("朝城镇").pk
    assert (
        client_as(bureau_user).get(f"/portal/services/dashboard.json?town={chaocheng}").json()["counts"]["today"] == 1
    )
    # a town official asking for another town still gets only their own
    assert client_as(town_user).get(f"/portal/services/dashboard.json?town={chaocheng}").json()["counts"]["today"] == 1


def test_dashboard_is_not_for_finance(client_as, finance_user, caregiver_user):
    assert client_as(finance_user).get("/portal/services/dashboard/").status_code == 403
    assert client_as(caregiver_user).get("/portal/services/dashboard.json").status_code == 403


def test_dashboard_query_count_is_fixed(client_as, bureau_user, assert_fixed_queries):
    def add_rows(n=1):
        for _ in range(n):
            agreement = _agreement_in("燕塔街道")
            _now_visit(agreement, status=VisitStatus.EXCEPTION, exception_reasons=["too_far"])
            _now_visit(agreement, ended_at=None, duration_minutes=None)
            PlannedVisit.objects.create(
                provider=agreement.provider,
                agreement=agreement,
                caregiver=agreement.caregiver,
                recipient=agreement.recipient,
                town=agreement.town,
                day=timezone.localdate(),
                planned_time=datetime.time(0, 0),
                created_by=bureau_user,
            )
        actions.visit_flag_overdue()

    add_rows()
    client = client_as(bureau_user)
    assert_fixed_queries(lambda: client.get("/portal/services/dashboard/"), lambda: add_rows(5))
    assert_fixed_queries(lambda: client.get("/portal/services/dashboard.json"), lambda: add_rows(5))


def test_planned_visit_not_started_in_time_raises_an_alert(client_as, bureau_user, provider_user, provider):
    agreement = _agreement_in("燕塔街道", provider=provider)
    started = _agreement_in("燕塔街道", provider=provider)
    now = timezone.localtime()
    for a in (agreement, started):
        PlannedVisit.objects.create(
            provider=provider,
            agreement=a,
            caregiver=a.caregiver,
            recipient=a.recipient,
            town=a.town,
            day=now.date(),
            planned_time=datetime.time(0, 0),
            created_by=provider_user,
        )
    _now_visit(started)
    data = client_as(bureau_user).get("/portal/services/dashboard.json").json()
    if now.hour * 60 + now.minute >= 120:  # the default grace is two hours after the planned time
        assert [p["recipient"] for p in data["late_plans"]] == [agreement.recipient.name]
    else:
        assert data["late_plans"] == []


def test_daily_task_flags_overdue_recipients_and_caregivers_with_exceptions():
    today = timezone.localdate()
    recent = _agreement_in("燕塔街道")
    VisitFactory(agreement=recent, started_at=timezone.now() - datetime.timedelta(days=2))
    stale = _agreement_in("燕塔街道")
    VisitFactory(agreement=stale, started_at=timezone.now() - datetime.timedelta(days=15))
    never = _agreement_in("朝城镇")
    VisitFactory(
        agreement=recent,
        started_at=timezone.now() - datetime.timedelta(days=1),
        status=VisitStatus.EXCEPTION,
        exception_reasons=["too_short"],
    )

    result = visit_flag_overdue_task.delay().get()
    again = visit_flag_overdue_task.delay(today.isoformat()).get()  # re-run replaces, never doubles

    assert result == again == {"day": today.isoformat(), "recipients_overdue": 2, "caregivers_with_exceptions": 1}
    overdue = {f.recipient_id: f.days_since_visit for f in VisitFlag.objects.filter(kind=FlagKind.RECIPIENT_OVERDUE)}
    assert overdue == {stale.recipient_id: 15, never.recipient_id: None}
    assert VisitFlag.objects.get(kind=FlagKind.CAREGIVER_EXCEPTIONS).caregiver_id == recent.caregiver_id


def test_flags_show_on_the_dashboard_scoped_and_drop_once_visited(client_as, town_user):
    visited_later = _agreement_in("燕塔街道")
    never = _agreement_in("燕塔街道")
    _agreement_in("朝城镇")
    exceptions = _agreement_in("燕塔街道")
    VisitFactory(
        agreement=exceptions,
        started_at=timezone.now() - datetime.timedelta(days=20),
        status=VisitStatus.EXCEPTION,
        exception_reasons=["too_far"],
    )
    actions.visit_flag_overdue()
    _now_visit(visited_later)  # visited after the daily check ran

    data = client_as(town_user).get("/portal/services/dashboard.json").json()

    assert [row["recipient"] for row in data["overdue"]] == [never.recipient.name, exceptions.recipient.name]
    assert data["overdue"][0]["days"] is None and data["overdue"][1]["days"] == 20
    assert data["counts"]["overdue"] == 2
    assert [row["who"] for row in data["flags"]["rows"]] == [exceptions.caregiver.name]


def test_the_months_figures_are_computed_at_most_once_a_minute_per_scope_and_the_live_ones_every_time(
    client_as, bureau_user, town_user, settings
):
    # given the month's figures kept for a minute
    settings.DASHBOARD_MONTH_SECONDS = 60
    import time_machine

    yanta = _agreement_in("燕塔街道")
    with time_machine.travel(timezone.now(), tick=False) as clock:
        first = client_as(bureau_user).get("/portal/services/dashboard.json").json()
        assert (first["counts"]["month"], first["counts"]["today"]) == (0, 0)

        # when a visit is logged, 30 seconds later the poll shows it today, and this month's figures as computed
        _now_visit(yanta)
        clock.shift(30)
        polled = client_as(bureau_user).get("/portal/services/dashboard.json").json()
        assert polled["counts"]["today"] == 1
        assert polled["counts"]["month"] == 0 and polled["month_figures_at"] == first["month_figures_at"]
        # a town's dashboard never shares the bureau's figures: its own, computed now
        assert client_as(town_user).get("/portal/services/dashboard.json").json()["counts"]["month"] == 1

        # then a minute after they were computed, they are computed again
        clock.shift(31)
        later = client_as(bureau_user).get("/portal/services/dashboard.json").json()
        assert later["counts"]["month"] == 1 and later["month_figures_at"] != first["month_figures_at"]


@pytest.fixture
def dashboards_refreshed(settings):
    """The month figures kept for a minute, as in production, with nothing watched or refreshing yet."""
    from django.core.cache import cache

    from services import monitoring

    settings.DASHBOARD_MONTH_SECONDS = 60
    cache.delete_many([monitoring.WATCHED_KEY, monitoring.REFRESH_LOCK_KEY])
    yield monitoring
    cache.delete_many([monitoring.WATCHED_KEY, monitoring.REFRESH_LOCK_KEY])


def test_an_open_dashboard_has_its_month_figures_refreshed_by_beat_so_the_poll_never_computes_them(
    client_as, bureau_user, town_user, dashboards_refreshed, django_assert_max_num_queries
):
    import time_machine

    from services.tasks import dashboard_refresh_task

    yanta = _agreement_in("燕塔街道")
    with time_machine.travel(timezone.now(), tick=False) as clock:
        # given the bureau and the town's official each have the dashboard open (the first view computes)
        first = client_as(bureau_user).get("/portal/services/dashboard.json").json()
        town_first = client_as(town_user).get("/portal/services/dashboard.json").json()
        assert first["counts"]["month"] == town_first["counts"]["month"] == 0

        # when a visit is logged and, 20 seconds later, beat's refresh runs
        _now_visit(yanta)
        clock.shift(20)
        assert dashboard_refresh_task.delay().get() == 2
        refreshed_at = timezone.localtime().strftime("%Y-%m-%d %H:%M:%S")

        # then the next polls show the visit in the month, computed by the refresh and not by the request
        clock.shift(5)
        polled = client_as(bureau_user).get("/portal/services/dashboard.json").json()
        assert polled["counts"]["month"] == 1 and polled["month_figures_at"] == refreshed_at
        town_polled = client_as(town_user).get("/portal/services/dashboard.json").json()
        assert town_polled["counts"]["month"] == 1 and town_polled["month_figures_at"] == refreshed_at


def test_the_refresh_computes_each_scope_once_and_only_for_dashboards_open_in_the_last_ten_minutes(
    client_as, bureau_user, town_user, dashboards_refreshed
):
    import time_machine

    from shenxian_care.models import Role
    from tests.factories import UserFactory

    monitoring = dashboards_refreshed
    second_bureau = UserFactory(username="bureau-2", role=Role.BUREAU)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        # two bureau staff (one scope) and a town official open the dashboard; the town also with a provider filter
        client_as(bureau_user).get("/portal/services/dashboard.json")
        client_as(second_bureau).get("/portal/services/dashboard.json")
        client_as(town_user).get("/portal/services/dashboard.json")
        # then one refresh computes the bureau's view once and the town's once
        clock.shift(30)
        assert monitoring.refresh_month_figures() == 2

        # the town's official closes the page; the bureau keeps polling
        for _ in range(20):
            clock.shift(30)
            client_as(bureau_user).get("/portal/services/dashboard.json")
        # ten minutes after the town's last poll, only the bureau's view is refreshed
        assert monitoring.refresh_month_figures() == 1


def test_the_refresh_follows_the_viewers_current_role_a_deactivated_viewer_is_not_computed(
    client_as, town_user, other_town_user, dashboards_refreshed
):
    import time_machine

    from tests.factories import town as town_named

    monitoring = dashboards_refreshed
    _now_visit(_agreement_in("燕塔街道"))
    _now_visit(_agreement_in("朝城镇"))
    with time_machine.travel(timezone.now(), tick=False) as clock:
        client_as(town_user).get("/portal/services/dashboard.json")
        client_as(other_town_user).get("/portal/services/dashboard.json")
        # when one official is deactivated and the other moves to 朝城镇 before the refresh
        town_user.is_active = False
        town_user.save()
        other_town_user.town = town_named("燕塔街道")
        other_town_user.save()
        clock.shift(30)
        # then only the moved official's new view is computed: 燕塔街道's figures, under 燕塔街道's scope
        assert monitoring.refresh_month_figures() == 1
        clock.shift(5)
        data = monitoring.dashboard_data(actor=other_town_user)
        assert data["month_by_town"] == [{"id": town_named("燕塔街道").pk, "name": "燕塔街道", "visits": 1}]


def test_one_refresh_at_a_time(client_as, bureau_user, dashboards_refreshed):
    from django.core.cache import cache

    monitoring = dashboards_refreshed
    client_as(bureau_user).get("/portal/services/dashboard.json")
    # while another worker's refresh holds the lock, a second one does nothing
    cache.add(monitoring.REFRESH_LOCK_KEY, True, 60)
    assert monitoring.refresh_month_figures() == 0
    # and once it is done, the next one runs and leaves the lock free
    cache.delete(monitoring.REFRESH_LOCK_KEY)
    assert monitoring.refresh_month_figures() == 1
    assert cache.get(monitoring.REFRESH_LOCK_KEY) is None


def test_without_month_figures_kept_there_is_nothing_to_refresh(client_as, bureau_user, settings):
    from services import monitoring

    settings.DASHBOARD_MONTH_SECONDS = 0
    client_as(bureau_user).get("/portal/services/dashboard.json")
    assert monitoring.refresh_month_figures() == 0


def test_beat_refreshes_the_open_dashboards_every_30_seconds(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["dashboard-refresh"]
    assert entry["task"] == "services.tasks.dashboard_refresh_task"
    # more often than the figures lapse, so an open dashboard never waits for them
    assert entry["schedule"] == 30.0
    assert entry["options"]["expires"] < entry["schedule"]


def test_the_refresh_goes_to_the_queue_the_settings_name_and_other_work_to_the_default_one(settings):
    # a province gives the refresh a worker of its own (DASHBOARD_REFRESH_QUEUE, README "Production")
    from celery.app.routes import Router, prepare

    from shenxian_care.celery import app

    assert app.conf.task_routes == {
        "services.tasks.dashboard_refresh_task": {"queue": settings.DASHBOARD_REFRESH_QUEUE},
        "services.tasks.dashboard_view_task": {"queue": settings.DASHBOARD_REFRESH_QUEUE},
    }
    assert app.amqp.router.route({}, "services.tasks.dashboard_refresh_task")["queue"].name == "celery"
    assert app.amqp.router.route({}, "services.tasks.dashboard_view_task")["queue"].name == "celery"
    province = Router(
        prepare(
            {
                "services.tasks.dashboard_refresh_task": {"queue": "dashboard"},
                "services.tasks.dashboard_view_task": {"queue": "dashboard"},
            }
        ),
        app.amqp.queues,
        True,
        app=app,
    )
    assert province.route({}, "services.tasks.dashboard_refresh_task")["queue"].name == "dashboard"
    assert province.route({}, "services.tasks.dashboard_view_task")["queue"].name == "dashboard"
    assert province.route({}, "billing.tasks.settlement_compute_task")["queue"].name == "celery"


@pytest.fixture
def dear_views(dashboards_refreshed, settings, monkeypatch):
    """Views whose last computation counts as dear (any time at all), a worker queue that only records what is sent
    to it, and a spy on the month's computation. Yields (monitoring, queued, computed)."""
    from django.core.cache import cache

    from services import tasks

    monitoring = dashboards_refreshed
    cache.clear()
    settings.DASHBOARD_INLINE_SECONDS = 0
    queued, computed = [], []
    monkeypatch.setattr(tasks.dashboard_view_task, "delay", lambda *args: queued.append(args))
    real = monitoring._compute_month_figures

    def spy(**kwargs):
        computed.append(kwargs["actor"].pk)
        return real(**kwargs)

    monkeypatch.setattr(monitoring, "_compute_month_figures", spy)
    yield monitoring, queued, computed
    cache.clear()


def _after_it_lapsed(client, clock, url="/portal/services/dashboard.json"):
    """A view's first request (its cost then known), and the next one a minute later, its figures lapsed (no one kept
    it open, so beat did not refresh it)."""
    client.get(url)
    clock.shift(61)
    return client.get(url)


def test_a_dear_view_no_one_kept_is_computed_by_a_worker_while_the_page_shows_the_rest_at_once(
    client_as, bureau_user, dear_views
):
    import time_machine

    monitoring, queued, computed = dear_views
    _now_visit(_agreement_in("燕塔街道"))
    url = "/portal/services/dashboard.json"
    with time_machine.travel(timezone.now(), tick=False) as clock:
        # given the bureau's dashboard, computed once by its request (its first view ever: what it costs is not known)
        first = client_as(bureau_user).get(url).json()
        assert first["month_pending"] is False and first["counts"]["month"] == 1 and computed == [bureau_user.pk]

        # when it is opened again after its figures lapsed (no one kept it open, so beat did not refresh it)
        clock.shift(61)
        again = client_as(bureau_user).get(url).json()

        # then the request does not compute the month: the live part is there, the month's figures are being computed
        assert computed == [bureau_user.pk]
        assert again["month_pending"] is True
        assert again["counts"]["today"] == 1
        assert (again["counts"]["month"], again["counts"]["overdue"], again["month_figures_at"]) == (None, None, None)
        assert again["month_by_town"] == again["month_by_provider"] == again["provider_compliance"] == []
        # queued once for a worker, as this viewer's view (user, town, provider, month)
        month = timezone.localdate().replace(day=1).isoformat()
        assert queued == [(bureau_user.pk, 0, 0, month)]
        # and a poll while it is computed queues nothing more
        clock.shift(3)
        assert client_as(bureau_user).get(url).json()["month_pending"] is True
        assert len(queued) == 1

        # when the worker has computed it, the next poll shows it
        from services.tasks import dashboard_view_task

        clock.shift(2)
        assert dashboard_view_task.run(*queued[0]) is True
        computed_at = timezone.localtime().strftime("%Y-%m-%d %H:%M:%S")
        clock.shift(1)
        polled = client_as(bureau_user).get(url).json()
        assert polled["month_pending"] is False
        assert polled["counts"]["month"] == 1 and polled["month_figures_at"] == computed_at
        assert computed == [bureau_user.pk, bureau_user.pk]

        # and when they lapse again, the next view queues them again (the worker's computation is done)
        clock.shift(61)
        assert client_as(bureau_user).get(url).json()["month_pending"] is True
        assert len(queued) == 2 and computed == [bureau_user.pk, bureau_user.pk]


def test_the_page_says_the_months_figures_are_being_computed(client_as, bureau_user, dear_views):
    import time_machine

    _now_visit(_agreement_in("燕塔街道"))
    with time_machine.travel(timezone.now(), tick=False) as clock:
        page = _after_it_lapsed(client_as(bureau_user), clock, "/portal/services/dashboard/").content.decode()
    assert '<span id="dash-month-time">计算中…</span>' in page
    assert '<td colspan="4" class="muted">计算中…</td>' in page


def test_a_view_queued_for_a_worker_that_never_comes_is_computed_by_a_request_a_minute_later(
    client_as, bureau_user, dear_views
):
    import time_machine

    monitoring, queued, computed = dear_views
    _now_visit(_agreement_in("燕塔街道"))
    url = "/portal/services/dashboard.json"
    with time_machine.travel(timezone.now(), tick=False) as clock:
        assert _after_it_lapsed(client_as(bureau_user), clock).json()["month_pending"] is True
        # a worker queue no one takes: still being computed half a minute later
        clock.shift(30)
        assert client_as(bureau_user).get(url).json()["month_pending"] is True
        # a whole minute after it was queued, the request computes it itself
        clock.shift(31)
        late = client_as(bureau_user).get(url).json()
    assert late["month_pending"] is False and late["counts"]["month"] == 1
    assert len(queued) == 1 and computed == [bureau_user.pk, bureau_user.pk]


def test_a_broker_that_cannot_be_reached_leaves_the_view_to_its_request(
    client_as, bureau_user, dear_views, monkeypatch
):
    import time_machine

    from services import tasks

    monitoring, queued, computed = dear_views

    def unreachable(*args):
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.dashboard_view_task, "delay", unreachable)
    _now_visit(_agreement_in("燕塔街道"))
    with time_machine.travel(timezone.now(), tick=False) as clock:
        data = _after_it_lapsed(client_as(bureau_user), clock).json()
        assert data["month_pending"] is False and data["counts"]["month"] == 1
        assert computed == [bureau_user.pk, bureau_user.pk]
        # and the next time it lapses it is offered to a worker again, not left marked as queued
        monkeypatch.setattr(tasks.dashboard_view_task, "delay", lambda *args: queued.append(args))
        clock.shift(61)
        assert client_as(bureau_user).get("/portal/services/dashboard.json").json()["month_pending"] is True
        assert len(queued) == 1


def test_a_cheap_view_is_computed_by_its_request_as_before(client_as, bureau_user, dear_views, settings):
    import time_machine

    monitoring, queued, computed = dear_views
    settings.DASHBOARD_INLINE_SECONDS = 60  # a county's views take a fraction of a second
    with time_machine.travel(timezone.now(), tick=False) as clock:
        data = _after_it_lapsed(client_as(bureau_user), clock).json()
    assert data["month_pending"] is False and data["counts"]["month"] == 0
    assert queued == [] and computed == [bureau_user.pk, bureau_user.pk]


def test_with_in_process_celery_the_queued_view_is_computed_for_the_request(
    client_as, bureau_user, dear_views, monkeypatch
):
    # `make run`: no broker, a task runs where it is sent, so the view is there for this very request
    import time_machine

    from services import tasks

    monitoring, queued, computed = dear_views
    monkeypatch.setattr(tasks.dashboard_view_task, "delay", lambda *args: tasks.dashboard_view_task.apply(args))
    _now_visit(_agreement_in("燕塔街道"))
    with time_machine.travel(timezone.now(), tick=False) as clock:
        data = _after_it_lapsed(client_as(bureau_user), clock).json()
    assert data["month_pending"] is False and data["counts"]["month"] == 1
    assert computed == [bureau_user.pk, bureau_user.pk]


@pytest.fixture
def through_a_broker(monkeypatch):
    """Tasks sent to a broker, as in production (not run in-process)."""
    from shenxian_care.celery import app

    monkeypatch.setitem(app.conf, "task_always_eager", False)


@pytest.fixture
def waits(dear_views, monkeypatch):
    """The deadlines the dashboard's requests wait for a worker's figures until (None: a single look)."""
    monitoring = dear_views[0]
    deadlines = []
    real = monitoring._await_figures

    def spy(key, deadline):
        deadlines.append(deadline)
        return real(key, deadline)

    monkeypatch.setattr(monitoring, "_await_figures", spy)
    return deadlines


def test_a_view_never_computed_is_given_to_a_worker_and_waited_for_with_what_is_left_of_its_requests_time(
    client_as, bureau_user, dear_views, settings, through_a_broker, monkeypatch, waits
):
    import time

    import time_machine

    monitoring, queued, computed = dear_views
    settings.DASHBOARD_INLINE_SECONDS = 0.8
    _now_visit(_agreement_in("燕塔街道"))
    url = "/portal/services/dashboard.json"
    # a live part (today's lists and counts) that takes 0.5 s
    live = monitoring._by_town_and_provider

    def slow_live(qs):
        time.sleep(0.5)
        return live(qs)

    monkeypatch.setattr(monitoring, "_by_town_and_provider", slow_live)
    with time_machine.travel(timezone.now(), tick=False) as clock:
        # given a view no one of its scope has opened in the last day (what it costs is not known) and a worker that
        # is busy when it is first opened
        started = time.monotonic()
        first = client_as(bureau_user).get(url).json()
        took = time.monotonic() - started

        # then the request did not compute the month: it queued it once and waited for it until
        # DASHBOARD_INLINE_SECONDS after the request began (the live part's 0.5 s out of it), not 0.8 s after it
        assert computed == [] and len(queued) == 1
        assert 0.8 <= took < 1.2
        assert first["month_pending"] is True and first["counts"]["today"] == 1 and first["counts"]["month"] is None
        assert len(waits) == 1 and waits[0] is not None
        # and the page's poll 3 seconds later neither waits nor queues it again
        clock.shift(3)
        assert client_as(bureau_user).get(url).json()["month_pending"] is True
        assert waits[1:] == [None]
        assert len(queued) == 1 and computed == []


def test_another_first_view_of_a_view_just_queued_waits_for_it_too(
    client_as, bureau_user, dear_views, settings, through_a_broker, waits
):
    import time_machine

    monitoring, queued, computed = dear_views
    settings.DASHBOARD_INLINE_SECONDS = 0.05
    url = "/portal/services/dashboard.json"
    with time_machine.travel(timezone.now(), tick=False):
        # two first views of the same view at the same moment (two of the bureau's staff)
        assert client_as(bureau_user).get(url).json()["month_pending"] is True
        assert client_as(bureau_user).get(url).json()["month_pending"] is True
    assert len(queued) == 1 and computed == []
    assert len(waits) == 2 and None not in waits


def test_a_view_known_to_be_dear_is_queued_without_waiting(
    client_as, bureau_user, dear_views, settings, through_a_broker, waits
):
    import time_machine
    from django.core.cache import cache

    monitoring, queued, computed = dear_views
    settings.DASHBOARD_INLINE_SECONDS = 0.5
    month = timezone.localdate().replace(day=1)
    cache.set(monitoring._cost_key(bureau_user, {}, month), 2.0, monitoring.COST_SECONDS)  # a city's view
    with time_machine.travel(timezone.now(), tick=False):
        data = client_as(bureau_user).get("/portal/services/dashboard.json").json()
    assert data["month_pending"] is True and len(queued) == 1 and computed == []
    assert waits == [None]


@pytest.mark.parametrize("scope_cost, pending", [(2.0, True), (0.01, False)])
def test_a_view_never_computed_is_judged_by_the_dearest_view_of_its_scope(
    client_as, bureau_user, dear_views, settings, through_a_broker, waits, scope_cost, pending
):
    """A new filter or month of a scope whose views were computed today: as dear as the dearest of them (a filter
    only narrows the scope), so it is queued without a wait, or computed by its request."""
    import time_machine
    from django.core.cache import cache

    monitoring, queued, computed = dear_views
    settings.DASHBOARD_INLINE_SECONDS = 0.5
    cache.set(monitoring._scope_cost_key(bureau_user), scope_cost, monitoring.COST_SECONDS)
    yanta = _agreement_in("燕塔街道")
    with time_machine.travel(timezone.now(), tick=False):
        data = client_as(bureau_user).get(f"/portal/services/dashboard.json?town={yanta.town_id}").json()
    assert data["month_pending"] is pending
    assert (len(queued), len(computed)) == ((1, 0) if pending else (0, 1))
    assert waits == ([None] if pending else [])


def test_a_scope_remembers_the_cost_of_its_dearest_view(client_as, bureau_user, dear_views, monkeypatch, settings):
    import time
    from types import SimpleNamespace

    from django.core.cache import cache

    monitoring, queued, computed = dear_views
    settings.DASHBOARD_INLINE_SECONDS = 5  # both computed by their requests
    yanta = _agreement_in("燕塔街道")
    # the computations' clock: the whole county's view takes 0.9 s, then one town's 0.2 s
    ticks = iter([10.0, 10.9, 20.0, 20.2])
    clock = SimpleNamespace(perf_counter=lambda: next(ticks), monotonic=time.monotonic, sleep=time.sleep)
    monkeypatch.setattr(monitoring, "time", clock)
    client_as(bureau_user).get("/portal/services/dashboard.json")
    client_as(bureau_user).get(f"/portal/services/dashboard.json?town={yanta.town_id}")
    assert computed == [bureau_user.pk, bureau_user.pk]
    assert round(cache.get(monitoring._scope_cost_key(bureau_user)), 3) == 0.9
    month = timezone.localdate().replace(day=1)
    assert round(cache.get(monitoring._cost_key(bureau_user, {"town": yanta.town_id}, month)), 3) == 0.2


def test_a_view_never_computed_that_a_worker_computes_within_the_wait_is_shown_whole(
    client_as, bureau_user, dear_views, settings, through_a_broker, monkeypatch
):
    """A county's view: the worker computes it in a fraction of a second, and its first request shows it whole, as
    soon as it is there (not at the end of the wait)."""
    import threading
    import time

    from django.core.cache import cache

    from services import tasks

    monitoring, queued, computed = dear_views
    settings.DASHBOARD_INLINE_SECONDS = 5  # a generous wait: the worker below answers after 50 ms
    timers = []

    def worker(*args):
        # a worker whose figures are there 50 ms after the view is sent to it: computed now, kept 50 ms later
        held = []
        with monkeypatch.context() as patched:
            patched.setattr(cache, "set", lambda *kept: held.append(kept))
            assert monitoring.compute_view(user_id=args[0], town=args[1], provider=args[2], month=args[3]) is True
        timers.append(threading.Timer(0.05, lambda: [cache.set(*entry) for entry in held]))
        timers[-1].start()

    monkeypatch.setattr(tasks.dashboard_view_task, "delay", worker)
    _now_visit(_agreement_in("燕塔街道"))
    started = time.monotonic()
    try:
        data = client_as(bureau_user).get("/portal/services/dashboard.json").json()
    finally:
        for timer in timers:
            timer.join()
    assert time.monotonic() - started < 2
    assert len(timers) == 1
    assert data["month_pending"] is False and data["counts"]["month"] == 1
    assert computed == [bureau_user.pk]  # by the worker, not by the request


def test_a_worker_does_not_compute_the_view_of_a_viewer_since_deactivated_or_without_a_dashboard(
    bureau_user, caregiver_user, dear_views
):
    monitoring, queued, computed = dear_views
    bureau_user.is_active = False
    bureau_user.save()
    assert monitoring.compute_view(user_id=bureau_user.pk) is False
    assert monitoring.compute_view(user_id=caregiver_user.pk) is False
    assert monitoring.compute_view(user_id=10**9) is False
    assert computed == []


@pytest.mark.parametrize("filters", ["", "?town=0"])
def test_the_dashboards_lists_are_read_in_the_order_of_an_index_not_sorted(client_as, bureau_user, filters):
    """Flat with the backlog: the visits in progress, the newest exceptions and the caregivers with most exceptions
    come straight off an index however many there are (services.models: visit_open_start, visit_status_day_start,
    visitflag_day_kind_exceptions). PostgreSQL's plans are asked with sorting made prohibitively dear, so a missing
    index shows as a Sort node."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    yanta = _agreement_in("燕塔街道")
    _now_visit(yanta, ended_at=None, duration_minutes=None)
    _now_visit(_agreement_in("朝城镇"), status=VisitStatus.EXCEPTION, exception_reasons=["too_far"])
    actions.visit_flag_overdue()
    if filters:
        filters = f"?town={yanta.town_id}"
    client = client_as(bureau_user)
    with CaptureQueriesContext(connection) as ctx:
        data = client.get(f"/portal/services/dashboard.json{filters}").json()
    assert data["counts"]["in_progress"] == 1
    lists = {
        name: next(q["sql"] for q in ctx.captured_queries if marker in q["sql"] and "LIMIT 20" in q["sql"])
        for name, marker in {
            "in progress": '"services_visit"."ended_at" IS NULL',
            "exceptions": "'exception'",
            "caregivers with exceptions": '"services_visitflag"."kind" = ',
        }.items()
    }
    if connection.vendor != "postgresql":
        return
    for name, sql in lists.items():
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_sort = off")
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("EXPLAIN " + sql)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        assert "Sort" not in plan, (name, plan)
