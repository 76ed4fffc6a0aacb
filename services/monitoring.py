"""The bureau's live dashboard (线上监管): what is happening now, today and this month, scoped to the viewer.

Everything here is a read over a fixed number of queries whatever the data size; the page polls
`dashboard_data` as JSON every 30 seconds.
"""

import datetime
import logging
import time

from celery import current_app
from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Exists, F, Max, OuterRef
from django.utils import timezone

from contracts.models import Provider
from recipients.models import Town
from shenxian_care.fields import secret_columns
from shenxian_care.models import Role, User
from shenxian_care.months import month_end
from shenxian_care.scoping import actor_role, scope_key

from .models import FlagKind, PlannedVisit, Visit, VisitFlag, VisitKind, VisitStatus
from .reports import compliance_rows
from .selectors import due_through, judged_to_date
from .standards import standard_on

logger = logging.getLogger(__name__)
LIST_LIMIT = 20
MONTH_CACHE_KEY = "services:dashboard:month:v1"
# An open visit older than this is a forgotten check-out, not a visit "in progress now".
OPEN_VISIT_WINDOW = datetime.timedelta(hours=12)
# The roles that watch the dashboard (the page refuses the others).
WATCHERS = (Role.BUREAU, Role.TOWN, Role.PROVIDER)


def _filtered(qs, filters, town="town_id", provider="provider_id"):
    if filters.get("town"):
        qs = qs.filter(**{town: filters["town"]})
    if filters.get("provider"):
        qs = qs.filter(**{provider: filters["provider"]})
    return qs


def _by_town_and_provider(qs):
    """Visits of `qs` by town and by provider (most first), and their total, from one pass over the rows grouped
    by ids alone (a month of a province's visits is read once, and not joined to names: the few towns' and
    providers' names are read after)."""
    towns, providers, total = {}, {}, 0
    for town_id, provider_id, n in qs.values_list("town_id", "provider_id").annotate(n=Count("*")).order_by():
        total += n
        towns[town_id] = towns.get(town_id, 0) + n
        providers[provider_id] = providers.get(provider_id, 0) + n

    def ranked(counts, model):
        names = dict(model.objects.filter(pk__in=list(counts)).values_list("pk", "name")) if counts else {}
        rows = [{"id": pk, "name": names.get(pk, ""), "visits": n} for pk, n in counts.items()]
        return sorted(rows, key=lambda r: (-r["visits"], r["name"]))

    return ranked(towns, Town), ranked(providers, Provider), total


def dashboard_data(*, actor, filters=None, now=None) -> dict:
    began = time.monotonic()
    filters = filters or {}
    now = now or timezone.now()
    today = timezone.localdate(now)
    month = filters.get("month") or today.replace(day=1)
    standard = standard_on(month)
    visits = _filtered(Visit.objects.for_actor(actor), filters)
    # the lists name people: never read (or decrypt) their ID and bank numbers
    names_only = secret_columns(Visit, "recipient", "caregiver")

    in_progress = (
        visits.in_progress()
        .filter(started_at__gte=now - OPEN_VISIT_WINDOW)
        .select_related("recipient", "caregiver", "town")
        .defer(*names_only)
    )
    today_visits = visits.filter(visit_date=today)
    exceptions = (
        visits.filter(status=VisitStatus.EXCEPTION).select_related("recipient", "caregiver", "town").defer(*names_only)
    )

    # recipients with no counted visit for N days: the daily check's list (services.tasks.visit_flag_overdue_task),
    # less those visited since it ran, so the dashboard never scans every agreement of the province
    flags, flag_day = _flags(actor, filters)

    # planned visits due today and not started within the grace time
    grace = datetime.timedelta(minutes=standard.plan_grace_minutes)
    local_now = timezone.localtime(now)
    latest_due = (local_now - grace).time() if (local_now - grace).date() == today else None
    late_plans = PlannedVisit.objects.none()
    if latest_due is not None:
        started = Visit.objects.filter(
            caregiver_id=OuterRef("caregiver_id"), recipient_id=OuterRef("recipient_id"), visit_date=today
        )
        late_plans = (
            _filtered(PlannedVisit.objects.for_actor(actor), filters)
            .filter(day=today, planned_time__lte=latest_due)
            .filter(~Exists(started))
            .select_related("recipient", "caregiver", "town")
            .defer(*secret_columns(PlannedVisit, "recipient", "caregiver"))
            .order_by("planned_time", "pk")
        )

    latest_flags = (
        flags.filter(day=flag_day, kind=FlagKind.CAREGIVER_EXCEPTIONS)
        .select_related("caregiver", "town")
        .defer(*secret_columns(VisitFlag, "caregiver"))
        .order_by("-exception_count", "pk")  # most exceptions first, in the order of an index
        if flag_day
        else []
    )

    def visit_row(v):
        return {
            "client_id": str(v.client_id),
            "recipient": v.recipient.name,
            "caregiver": v.caregiver.name,
            "town": v.town.name,
            "started_at": timezone.localtime(v.started_at).strftime("%m-%d %H:%M"),
            "reasons": v.reason_labels(),
            "kind": v.get_kind_display(),
        }

    in_progress_list = list(in_progress.order_by("-started_at")[:LIST_LIMIT])
    # newest first, as the (status, visit_date, started_at, id) index gives them: however long the backlog, not sorted
    exception_list = list(exceptions.order_by("-visit_date", "-started_at", "-pk")[:LIST_LIMIT])
    late_list = list(late_plans[:LIST_LIMIT])
    flag_list = list(latest_flags[:LIST_LIMIT]) if flag_day else []
    # separate counts, each on an index (the open visits', the day's, the status's), not one pass over every visit
    today_by_town, today_by_provider, today_total = _by_town_and_provider(today_visits)
    counts = {
        "in_progress": in_progress.count(),  # the list's own rows
        "today": today_total,
        "exceptions": exceptions.count(),
        "emergencies_today": today_visits.filter(kind=VisitKind.EMERGENCY).count(),
        "late_synced_today": today_visits.filter(synced_late=True).count(),
    }
    # last, so that a view waited for from a worker is waited for with what is left of the request's time
    monthly = _month_figures(
        actor=actor, filters=filters, month=month, today=today, now=now, flags=flags, flag_day=flag_day, began=began
    )
    pending = monthly is None  # being computed by a worker: the page shows the rest now and asks again soon
    if pending:
        monthly = PENDING_MONTH
    counts["month"] = monthly["month_total"]
    to_date = judged_to_date(month, today)
    return {
        "generated_at": timezone.localtime(now).strftime("%Y-%m-%d %H:%M:%S"),
        "month": month.strftime("%Y-%m"),
        "month_label": f"{month:%Y年%m月}",
        # the provider compliance below counts the visits due by this day (the month's last for an ended month)
        "due_through": due_through(month, today).isoformat(),
        "to_date": to_date,
        "compliance_title": "服务机构本月达标率（截至今日）" if to_date else f"服务机构{month:%Y年%m月}达标率",
        "overdue_days": standard.overdue_days,
        # the month's figures below (month_by_*, overdue, provider_compliance) were computed at this moment; while
        # `month_pending` they are being computed (none shown, counts None) and the page polls again in seconds
        "month_figures_at": monthly["computed_at"],
        "month_pending": pending,
        "counts": {**counts, "overdue": monthly["overdue_count"], "late_plans": len(late_list)},
        "in_progress": [visit_row(v) for v in in_progress_list],
        "today_by_town": today_by_town,
        "today_by_provider": today_by_provider,
        "month_by_town": monthly["month_by_town"],
        "month_by_provider": monthly["month_by_provider"],
        "exceptions": [visit_row(v) for v in exception_list],
        "overdue": monthly["overdue"],
        "late_plans": [
            {
                "recipient": p.recipient.name,
                "caregiver": p.caregiver.name,
                "town": p.town.name,
                "planned_time": p.planned_time.strftime("%H:%M"),
            }
            for p in late_list
        ],
        "flags": {
            "day": flag_day.isoformat() if flag_day else None,
            "rows": [
                {
                    "kind": f.get_kind_display(),
                    "who": f.recipient.name if f.recipient_id else (f.caregiver.name if f.caregiver_id else ""),
                    "town": f.town.name if f.town_id else "",
                    "detail": (
                        f"{f.days_since_visit}天未上门"
                        if f.kind == FlagKind.RECIPIENT_OVERDUE and f.days_since_visit is not None
                        else ("从未上门" if f.kind == FlagKind.RECIPIENT_OVERDUE else f"{f.exception_count}条异常")
                    ),
                }
                for f in flag_list
            ],
        },
        "provider_compliance": monthly["provider_compliance"],
    }


def _flags(actor, filters):
    """The daily check's flags the viewer may see, and the day of the latest check."""
    flags = _filtered(VisitFlag.objects.for_actor(actor), filters)
    return flags, flags.aggregate(day=Max("day"))["day"]


def _view_key(actor, filters, month):
    """A dashboard view as its figures are shared: the viewer's scope, the filters and the month."""
    return ":".join(
        [scope_key(actor), str(filters.get("town") or ""), str(filters.get("provider") or ""), month.isoformat()]
    )


def _month_key(actor, filters, month, today, flag_day):
    flag = flag_day.isoformat() if flag_day else ""
    return f"{MONTH_CACHE_KEY}:{_view_key(actor, filters, month)}:{today.isoformat()}:{flag}"


# What a dashboard shows of the month while a worker computes it (`month_pending`): nothing, no count.
PENDING_MONTH = {
    "computed_at": None,
    "month_total": None,
    "overdue_count": None,
    "month_by_town": [],
    "month_by_provider": [],
    "overdue": [],
    "provider_compliance": [],
}
# How long a view's last computation is remembered (a day: the first view of the morning knows yesterday's).
COST_SECONDS = 86400


def _month_figures(*, actor, filters, month, today, now, flags, flag_day, began):
    """The dashboard's costly part: the month's visits by town and by provider, the providers' compliance (judged to
    today in the current month, 截至今日) and the recipients overdue. Computed at most once per
    settings.DASHBOARD_MONTH_SECONDS for the same viewer's scope, filters, month and day, and shared by the page and
    its JSON poll, so the figures are never older than that; the cache unreachable, they are computed.

    While a dashboard is open, beat recomputes its figures every 30 seconds (`refresh_month_figures`), so the page
    and its poll read them and no viewer waits for the computation. A view not kept (a first view, or one no one
    had open) is computed by the request when its last computation took at most settings.DASHBOARD_INLINE_SECONDS
    (a county's, in a fraction of a second); a costlier one (a city's or a province's) is queued for a worker
    (`services.tasks.dashboard_view_task`) and None is returned: the page shows the rest now and polls again in
    seconds. A view not computed in the last day is judged by the dearest view of the same scope computed in that
    day (`_scope_cost_key`). If neither is known (the scope's first view of the day), the view is queued too. Its
    request then waits for the worker until DASHBOARD_INLINE_SECONDS after it `began`. An idle worker returns a
    county's view within that, so it is shown whole; a city's is shown as being computed. Only the request that
    queued it, and any other first view within that moment, wait: the page's polls do not. Queued once per view; if
    no worker has computed it within DASHBOARD_MONTH_SECONDS (none running), the next request computes it.
    In-process Celery (`make run`) computes a view of unknown cost in its request, and a queued one at once."""
    seconds = settings.DASHBOARD_MONTH_SECONDS
    key = _month_key(actor, filters, month, today, flag_day)
    if seconds > 0:
        _watch(actor, filters, now)
        cached = _cache(cache.get, key)
        if cached is not None:
            return cached
        cost = _cache(cache.get, _cost_key(actor, filters, month))
        if cost is None:
            cost = _cache(cache.get, _scope_cost_key(actor))
        unknown = cost is None and not current_app.conf.task_always_eager
        if unknown or (cost is not None and cost > settings.DASHBOARD_INLINE_SECONDS):
            # a view of unknown cost is waited for with what is left of its request's time (`began`: time.monotonic())
            deadline = began + settings.DASHBOARD_INLINE_SECONDS if unknown else None
            queued = _queue_view(actor, filters, month, key, now, seconds, deadline=deadline)
            if queued:
                return queued["figures"]
    return _compute_and_keep(
        actor=actor, filters=filters, month=month, today=today, now=now, flags=flags, flag_day=flag_day
    )


def _cost_key(actor, filters, month):
    """What the view's last computation took (seconds), whatever the day."""
    return f"{MONTH_CACHE_KEY}:cost:{_view_key(actor, filters, month)}"


def _scope_cost_key(actor):
    """What the dearest view of the viewer's scope took, of those computed in the last day (filters only narrow it)."""
    return f"{MONTH_CACHE_KEY}:scope-cost:{scope_key(actor)}"


def _queue_view(actor, filters, month, key, now, seconds, *, deadline=None):
    """Queue the view's computation for a worker unless it is queued already; with a `deadline` (time.monotonic()), a
    first view waits for it until then, as does another first view within DASHBOARD_INLINE_SECONDS of its queueing
    (never a poll seconds later). Returns {"figures": the figures, or None while they are computed}, or None when
    the request should compute them itself: the cache cannot say (unreachable), or a computation queued a whole
    DASHBOARD_MONTH_SECONDS ago has not come (no worker takes the queue)."""
    from .tasks import dashboard_view_task  # the task module imports this one

    marker = key + ":queued"
    stamp = now.timestamp()
    added = _cache(cache.add, marker, stamp, 2 * seconds)
    if added is None:
        return None
    if added:
        try:
            # the view as beat's refresh knows a watched one: (user, town, provider, month)
            dashboard_view_task.delay(*_watch_entry(actor, {**filters, "month": month}))
        except Exception:  # noqa: BLE001 - any broker's connection error: the request computes it, as before
            logger.warning("dashboard view not queued", exc_info=True)
            _cache(cache.delete, marker)
            return None
        # computed already by in-process Celery (no broker); by a worker, within the deadline or not
        return {"figures": _await_figures(key, deadline)}
    queued_at = _cache(cache.get, marker)
    if queued_at is not None and stamp - queued_at < seconds:
        just_queued = stamp - queued_at < settings.DASHBOARD_INLINE_SECONDS
        return {"figures": _await_figures(key, deadline if just_queued else None)}
    _cache(cache.delete, marker)
    return None


AWAIT_STEP_SECONDS = 0.02


def _await_figures(key, deadline):
    """The figures kept under `key`, looked for every 20 ms until `deadline` (time.monotonic(); None: once) while a
    worker computes them; None if they have not come by then."""
    steps = 0 if deadline is None else int(max(deadline - time.monotonic(), 0) / AWAIT_STEP_SECONDS) + 1
    for _ in range(steps):  # a bounded number of looks, whatever the clocks do
        figures = _cache(cache.get, key)
        left = deadline - time.monotonic()
        if figures is not None or left <= 0:
            return figures
        time.sleep(min(AWAIT_STEP_SECONDS, left))
    return _cache(cache.get, key)


def _compute_and_keep(*, actor, filters, month, today, now, flags, flag_day):
    """Compute one view's month figures, keep them for DASHBOARD_MONTH_SECONDS and how long they took for a day."""
    started = time.perf_counter()
    figures = _compute_month_figures(
        actor=actor, filters=filters, month=month, today=today, now=now, flags=flags, flag_day=flag_day
    )
    seconds = settings.DASHBOARD_MONTH_SECONDS
    if seconds > 0:
        key = _month_key(actor, filters, month, today, flag_day)
        _cache(cache.set, key, figures, seconds)
        took = time.perf_counter() - started
        _cache(cache.set, _cost_key(actor, filters, month), took, COST_SECONDS)
        scope_cost = _cache(cache.get, _scope_cost_key(actor))
        if scope_cost is None or took > scope_cost:
            _cache(cache.set, _scope_cost_key(actor), took, COST_SECONDS)
        _cache(cache.delete, key + ":queued")  # done: the next time it is not kept, it may be queued again
    return figures


def compute_view(*, user_id, town=0, provider=0, month="", now=None) -> bool:
    """A worker's computation of one dashboard view queued by a request (`_queue_view`), as its viewer would see it
    now (their current role and scope: a deactivated or re-scoped viewer's view is not computed). Returns whether it
    was computed."""
    now = now or timezone.now()
    actor = User.objects.filter(pk=user_id, is_active=True).first()
    if actor is None or actor_role(actor) not in WATCHERS:
        return False
    _refresh_view(actor, town, provider, month, now, set())
    return True


WATCHED_KEY = "services:dashboard:watched:v1"
REFRESH_LOCK_KEY = "services:dashboard:refreshing:v1"
# A dashboard polled within this time has its month figures kept fresh by beat; one closed longer ago is dropped.
WATCH_SECONDS = 600


def _watch_entry(actor, filters):
    month = filters.get("month")
    return (actor.pk, filters.get("town") or 0, filters.get("provider") or 0, month.isoformat() if month else "")


def _watch(actor, filters, now):
    """Note that this viewer has this dashboard open (user, filters, month), at most once every half minute: what
    `refresh_month_figures` keeps fresh. Only ids: no names or figures."""
    entry = _watch_entry(actor, filters)
    stamp = now.timestamp()
    watched = _cache(cache.get, WATCHED_KEY) or {}
    if stamp - watched.get(entry, 0) < 30:
        return
    watched = {k: seen for k, seen in watched.items() if stamp - seen <= WATCH_SECONDS}
    watched[entry] = stamp
    _cache(cache.set, WATCHED_KEY, watched, WATCH_SECONDS)


def refresh_month_figures(*, now=None) -> int:
    """Beat's job every 30 seconds (`services.tasks.dashboard_refresh_task`): compute again the month figures of
    every dashboard polled in the last WATCH_SECONDS, as its viewer would see them (their current role and scope:
    a deactivated or re-scoped viewer's old view is not computed), once per scope and filters however many people
    watch it, and store them for the page to read. One refresh at a time (a lock in the shared cache). Returns how
    many views were computed."""
    seconds = settings.DASHBOARD_MONTH_SECONDS
    if seconds <= 0 or not _cache(cache.add, REFRESH_LOCK_KEY, True, seconds):
        return 0
    try:
        now = now or timezone.now()
        stamp = now.timestamp()
        watched = _cache(cache.get, WATCHED_KEY) or {}
        watched = {k: seen for k, seen in watched.items() if stamp - seen <= WATCH_SECONDS}
        users = User.objects.filter(pk__in={user_id for user_id, *_ in watched}, is_active=True).in_bulk()
        done = set()
        for user_id, town, provider, month in watched:
            actor = users.get(user_id)
            if actor is None or actor_role(actor) not in WATCHERS:
                continue
            _refresh_view(actor, town, provider, month, now, done)
        return len(done)
    finally:
        _cache(cache.delete, REFRESH_LOCK_KEY)


def _refresh_view(actor, town, provider, month, now, done):
    """Compute and keep one view's month figures (a watched entry: town and provider ids or 0, the month as text or
    "" for the current one), unless a view of the same key is in `done`."""
    today = timezone.localdate(now)
    filters = {k: v for k, v in (("town", town), ("provider", provider)) if v}
    chosen = datetime.date.fromisoformat(month) if month else today.replace(day=1)
    flags, flag_day = _flags(actor, filters)
    key = _month_key(actor, filters, chosen, today, flag_day)
    if key in done:
        return
    done.add(key)
    _compute_and_keep(actor=actor, filters=filters, month=chosen, today=today, now=now, flags=flags, flag_day=flag_day)


def _compute_month_figures(*, actor, filters, month, today, now, flags, flag_day):
    visits = _filtered(Visit.objects.for_actor(actor), filters)
    month_visits = (
        visits.filter(ended_at__isnull=False)
        .exclude(status=VisitStatus.REJECTED)
        .filter(visit_date__gte=month, visit_date__lte=month_end(month))
    )
    month_by_town, month_by_provider, month_total = _by_town_and_provider(month_visits)
    # recipients with no counted visit for N days: the daily check's list (services.tasks.visit_flag_overdue_task),
    # less those visited since it ran, so the dashboard never scans every agreement of the province
    visited_since = Visit.objects.filter(
        recipient_id=OuterRef("recipient_id"), visit_date__gte=OuterRef("day"), ended_at__isnull=False
    ).exclude(status=VisitStatus.REJECTED)
    overdue = (
        flags.filter(day=flag_day, kind=FlagKind.RECIPIENT_OVERDUE)
        .filter(~Exists(visited_since))
        .select_related("recipient", "caregiver", "town")
        .defer(*secret_columns(VisitFlag, "recipient", "caregiver"))
        .order_by(F("days_since_visit").desc(nulls_first=True), "pk")
        if flag_day
        else VisitFlag.objects.none()
    )
    # the current month is judged against what is due by today (截至今日), an ended month as a whole
    providers = compliance_rows(actor=actor, month=month, group="provider", filters=filters, today=today)
    return {
        "computed_at": timezone.localtime(now).strftime("%Y-%m-%d %H:%M:%S"),
        "month_by_town": month_by_town,
        "month_by_provider": month_by_provider,
        "month_total": month_total,
        "overdue_count": overdue.count(),
        "overdue": [
            {
                "recipient": f.recipient.name,
                "town": f.town.name if f.town_id else "",
                "caregiver": f.caregiver.name if f.caregiver_id else "",
                "days": f.days_since_visit,
            }
            for f in overdue[:LIST_LIMIT]
        ],
        "provider_compliance": [
            {
                "id": row.key,
                "name": row.label,
                "recipients": row.recipients,
                "required": row.required_visits,
                "visits": row.visits,
                "met": row.met_visits,
                "rate": float(row.compliance),
                "percent": row.compliance_percent,
            }
            for row in sorted(providers, key=lambda r: r.compliance)
        ],
    }


def _cache(operation, *args):
    """A cache that cannot be reached (Redis down) never stops the dashboard: the figures are computed instead."""
    try:
        return operation(*args)
    except Exception:  # noqa: BLE001 - any cache backend's connection error
        logger.warning("dashboard cache unavailable", exc_info=True)
        return None


def filter_choices(*, actor):
    """Towns and providers the viewer may filter by."""
    return {
        "towns": list(Town.objects.for_actor(actor).values_list("pk", "name")),
        "providers": list(Provider.objects.for_actor(actor).values_list("pk", "name")),
    }
