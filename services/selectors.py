"""Reads of visits: the figures other apps build on, scoped lists, the caregiver's day."""

import calendar
import datetime
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from contracts.models import Agreement
from contracts.selectors import caregiver_assigned_recipients
from recipients.models import CareLevel
from recipients.selectors import levels_on
from shenxian_care.fields import secret_columns, without_secrets
from shenxian_care.models import Role
from shenxian_care.scoping import actor_role, caregiver_of, get_for_actor_or_404

from .models import PlannedVisit, Visit, VisitPhoto, VisitStatus
from .standards import standard_on

RATE_PLACES = Decimal("0.0001")
FLAGGED_STATUSES = (VisitStatus.EXCEPTION, VisitStatus.ACCEPTED, VisitStatus.REJECTED)


def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def month_end(day: datetime.date) -> datetime.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def next_month(day: datetime.date) -> datetime.date:
    return (day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)


def months_between(start: datetime.date, end: datetime.date):
    month = month_start(start)
    while month <= end:
        yield month
        month = next_month(month)


def required_from_days(visits_per_month: int, days: int, days_in_month: int) -> int:
    """The standard prorated to the days served, rounded half-up once: a full month is the standard itself."""
    if days >= days_in_month:
        return visits_per_month
    value = Decimal(visits_per_month * days) / Decimal(days_in_month)
    return int(value.quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def required_visits(*, agreements, start: datetime.date, end: datetime.date) -> dict:
    """{(recipient_id, month): required visits} for the given agreements over [start, end] (inclusive).

    A recipient-month requires the standard for their approved level (as on the last day of the window in
    that month), prorated by the days they were both in support and under one of these agreements.
    """
    rows = list(
        agreements.exclude(status="draft")
        .filter(start_date__lte=end)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=start))
        .values_list("recipient_id", "start_date", "end_date", "recipient__entry_date", "recipient__exit_date")
    )
    result = {}
    for month in months_between(start, end):
        window_start, window_end = max(start, month), min(end, month_end(month))
        days_in_month = calendar.monthrange(month.year, month.month)[1]
        days = defaultdict(int)
        for recipient_id, a_start, a_end, entry, exit_date in rows:
            a_last = a_end or window_end
            support_last = (exit_date - datetime.timedelta(days=1)) if exit_date else window_end
            first, last = max(a_start, entry, window_start), min(a_last, support_last, window_end)
            if last >= first:
                days[recipient_id] += (last - first).days + 1
        if not days:
            continue
        standard = standard_on(month)
        levels = levels_on(list(days), window_end)
        for recipient_id, served in days.items():
            result[(recipient_id, month)] = required_from_days(
                standard.visits_for(levels.get(recipient_id)), min(served, days_in_month), days_in_month
            )
    return result


def provider_visit_figures(*, provider, start: datetime.date, end: datetime.date) -> dict:
    """A provider's visit figures over [start, end] (both dates inclusive), by the visit's local date.

    - visits / minutes: finished visits that count (rejected ones never do)
    - required_visits: Σ over recipient-months of the standard for their level, prorated to days served
    - compliance_rate: Σ min(done, required) / Σ required per recipient-month (1 when nothing was required),
      so extra visits to one person never make up for another person left without
    - exception_rate: finished visits that verification flagged (whatever the review decided) / all finished
    """
    finished = Visit.objects.filter(provider=provider, visit_date__gte=start, visit_date__lte=end).filter(
        ended_at__isnull=False
    )
    totals = finished.aggregate(
        all=Count("pk"),
        flagged=Count("pk", filter=Q(status__in=FLAGGED_STATUSES)),
        counted=Count("pk", filter=~Q(status=VisitStatus.REJECTED)),
        minutes=Sum("duration_minutes", filter=~Q(status=VisitStatus.REJECTED)),
    )
    done = {
        (row["recipient_id"], row["month"]): row["n"]
        for row in finished.exclude(status=VisitStatus.REJECTED)
        .annotate(month=TruncMonth("visit_date"))
        .values("recipient_id", "month")
        .annotate(n=Count("pk"))
    }
    required = required_visits(agreements=Agreement.objects.filter(provider=provider), start=start, end=end)
    required_total = sum(required.values())
    met = sum(min(done.get(key, 0), need) for key, need in required.items())
    compliance = Decimal(1) if required_total == 0 else Decimal(met) / Decimal(required_total)
    exception_rate = Decimal(0) if not totals["all"] else Decimal(totals["flagged"]) / Decimal(totals["all"])
    return {
        "visits": totals["counted"],
        "minutes": max(totals["minutes"] or 0, 0),
        "required_visits": required_total,
        "compliance_rate": compliance.quantize(RATE_PLACES, rounding=ROUND_HALF_UP),
        "exception_rate": exception_rate.quantize(RATE_PLACES, rounding=ROUND_HALF_UP),
    }


def _parse_date(value):
    try:
        return datetime.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def parse_month(value, default=None):
    """'2025-03' → date(2025, 3, 1); anything else → `default`."""
    try:
        return datetime.datetime.strptime(value, "%Y-%m").date() if value else default
    except ValueError:
        return default


def visit_list(*, actor, filters=None):
    """Visits the actor may see, newest first, filtered by town, provider, status, date or month."""
    filters = filters or {}
    qs = without_secrets(
        Visit.objects.for_actor(actor).select_related("recipient", "caregiver", "provider", "town"),
        "recipient",
        "caregiver",
        "provider",
    )
    for key in ("town", "provider"):
        value = filters.get(key)
        if value and str(value).isdigit():
            qs = qs.filter(**{f"{key}_id": int(value)})
    if filters.get("status") in VisitStatus.values:
        qs = qs.filter(status=filters["status"])
    day = _parse_date(filters.get("date"))
    if day:
        qs = qs.filter(visit_date=day)
    month = parse_month(filters.get("month"))
    if month:
        qs = qs.filter(visit_date__gte=month, visit_date__lte=month_end(month))
    # The same order as started_at alone (visit_date is started_at's day), but led by visit_date so that the
    # (visit_date, town) index gives the newest rows first: a page reads its rows, not a sort of the whole table.
    return qs.order_by("-visit_date", "-started_at", "-pk")


def with_photo_counts(visits):
    """Set `photo_count` on each of `visits` (a page, a list) by one query over their photos alone, rather than a
    `Count("photos")` that groups every visit the list could show."""
    visits = list(visits)
    counts = (
        dict(
            VisitPhoto.objects.filter(visit__in=[v.pk for v in visits])
            .order_by()
            .values_list("visit")
            .annotate(n=Count("pk"))
        )
        if visits
        else {}
    )
    for visit in visits:
        visit.photo_count = counts.get(visit.pk, 0)
    return visits


def visit_get_for_actor(*, actor, client_id):
    return get_for_actor_or_404(
        Visit.objects.select_related("recipient", "caregiver", "provider", "town", "agreement"),
        actor,
        client_id=client_id,
    )


def caregiver_day(*, actor, day=None) -> list[dict]:
    """The caregiver's recipients on `day` (their active agreements): full address (they need it to go there),
    approved level, and how many visits the month still needs (all caregivers' counted visits)."""
    if actor_role(actor) != Role.CAREGIVER or (caregiver := caregiver_of(actor)) is None:
        return []
    day = day or timezone.localdate()
    agreements = list(caregiver_assigned_recipients(caregiver=caregiver, day=day))
    if not agreements:
        return []
    ids = [a.recipient_id for a in agreements]
    levels = levels_on(ids, day)
    first, last = month_start(day), month_end(day)
    required = required_visits(agreements=Agreement.objects.filter(recipient_id__in=ids), start=first, end=last)
    done = dict(
        Visit.objects.counted()
        .filter(recipient_id__in=ids, visit_date__gte=first, visit_date__lte=last)
        .values("recipient_id")
        .annotate(n=Count("pk"))
        .values_list("recipient_id", "n")
    )
    open_visits = dict(
        Visit.objects.in_progress()
        .filter(caregiver=caregiver, recipient_id__in=ids, visit_date__gte=day - datetime.timedelta(days=1))
        .order_by("started_at")
        .values_list("recipient_id", "client_id")
    )
    labels = dict(CareLevel.choices)
    rows = []
    for agreement in agreements:
        recipient = agreement.recipient
        need = required.get((recipient.pk, first), 0)
        rows.append(
            {
                "agreement": agreement.pk,
                "recipient": recipient.pk,
                "name": recipient.name,
                "address": recipient.address,
                "village": agreement.village.name,
                "level": levels.get(recipient.pk),
                "level_label": labels.get(levels.get(recipient.pk), "未审定"),
                "required": need,
                "done": done.get(recipient.pk, 0),
                "remaining": max(need - done.get(recipient.pk, 0), 0),
                "open_visit": open_visits.get(recipient.pk),
            }
        )
    return rows


def plan_rows(*, actor, month: datetime.date) -> list[dict]:
    """Agreements of the actor's provider covering any day of `month`, with the days already planned."""
    last = month_end(month)
    agreements = list(
        Agreement.objects.for_actor(actor)
        .exclude(status="draft")
        .filter(start_date__lte=last)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=month))
        .select_related("recipient", "caregiver", "town")
        .order_by("town__sort_order", "caregiver__name", "recipient__name", "pk")
        .defer(*secret_columns(Agreement, "recipient", "caregiver"))
    )
    planned = defaultdict(list)
    times = {}
    for agreement_id, day, at in (
        PlannedVisit.objects.filter(agreement__in=[a.pk for a in agreements], day__gte=month, day__lte=last)
        .order_by("day")
        .values_list("agreement_id", "day", "planned_time")
    ):
        planned[agreement_id].append(day.day)
        times[agreement_id] = at
    return [
        {
            "agreement": a,
            "days": ",".join(str(d) for d in planned.get(a.pk, [])),
            "count": len(planned.get(a.pk, [])),
            "time": times.get(a.pk, datetime.time(9, 0)).strftime("%H:%M"),
        }
        for a in agreements
    ]
