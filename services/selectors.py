"""Reads of visits: the figures other apps build on, scoped lists, the caregiver's day."""

import datetime
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Max, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from contracts.models import Agreement, agreement_window, served_pieces
from contracts.selectors import caregiver_assigned_recipients, contract_windows
from recipients.models import CareLevel, Recipient, in_support_q, support_window
from recipients.selectors import levels_on
from shenxian_care.fields import secret_columns, without_secrets
from shenxian_care.models import Role
from shenxian_care.months import days_in_month, month_end, month_start, months_between, window_days
from shenxian_care.scoping import actor_role, caregiver_in_post_of, get_for_actor_or_404

from .filters import CaregiverDayFilter
from .models import (
    ConfirmationCard,
    ConfirmationCode,
    ExceptionReason,
    PlannedVisit,
    Visit,
    VisitPhoto,
    VisitStatus,
)
from .standards import standard_on

RATE_PLACES = Decimal("0.0001")
FLAGGED_STATUSES = (VisitStatus.EXCEPTION, VisitStatus.ACCEPTED, VisitStatus.REJECTED)


def required_from_days(visits_per_month: int, days: int, days_in_month: int) -> int:
    """The standard prorated to the days served, rounded half-up once: a full month is the standard itself."""
    if days >= days_in_month:
        return visits_per_month
    # whole numbers: n × d ÷ m rounded half-up is ⌊(2·n·d + m) ÷ 2m⌋, exactly (no Decimal per row of a report)
    return (2 * visits_per_month * days + days_in_month) // (2 * days_in_month)


def due_through(month: datetime.date, today: datetime.date) -> datetime.date:
    """截至今日: the last day of `month` whose share of the standard is due when the month is judged on `today`.

    A month's standard falls due day by day. A month that has ended is judged whole (its last day); the current
    month up to and including today (today's visits count as done, so today's share counts as due); a month not
    yet begun has nothing due (the day before it starts: no day). The visits due are then the standard prorated to
    the days served up to that day by the one proration rule (`required_from_days`: standard × days ÷ days in the
    month, rounded half-up once), so a recipient who joined mid-month is prorated the same way.

    Worked example, with ../shared/domain.md's placeholder standard (4 / 8 / 16 visits a month for 自理 / 半失能 /
    失能), in December 2026 (31 days), for a recipient served since before the month:
    - judged on 2 December (2 days): 自理 4 × 2 ÷ 31 = 0.26 → 0 due, 半失能 8 × 2 ÷ 31 = 0.52 → 1, 失能 16 × 2 ÷ 31 =
      1.03 → 1. A 失能 recipient visited once is 100 % (1 of 1 due), not 6.3 % (1 of the month's 16).
    - judged on 16 December (16 days): 自理 2.06 → 2, 半失能 4.13 → 4, 失能 8.26 → 8.
    - November, judged on any day of December, is the whole month: 4 / 8 / 16.
    """
    if month_end(month) <= today:
        return month_end(month)
    return today if today >= month_start(month) else month_start(month) - datetime.timedelta(days=1)


def judged_to_date(month: datetime.date, today: datetime.date) -> bool:
    """Whether `month`'s figures are judged only to `today` (截至今日) rather than as a whole month."""
    return due_through(month, today) < month_end(month)


def served_days(*, agreements, first: datetime.date, last: datetime.date) -> dict:
    """{recipient_id: days served in [first, last]} under the given agreements: the days the recipient was in
    support, the agreement in force and the provider's contract for the town in force (the days billing pays)."""
    rows = list(
        agreements.in_force_between(first, last).values_list(
            "recipient_id",
            "provider_id",
            "town_id",
            "status",
            "start_date",
            "signed_on",
            "end_date",
            "recipient__entry_date",
            "recipient__exit_date",
        )
    )
    contracts = contract_windows(first=first, last=last, provider_ids={row[1] for row in rows})
    days = defaultdict(int)
    for recipient_id, provider_id, town_id, status, a_start, signed_on, a_end, entry, exit_date in rows:
        for piece_first, piece_last, _ in served_pieces(
            within=(first, last),
            support=support_window(entry, exit_date),
            agreement=agreement_window(status, a_start, signed_on, a_end),
            contracts=contracts.get((provider_id, town_id), ()),
        ):
            days[recipient_id] += window_days((piece_first, piece_last))
    return days


def required_visits(*, agreements, start: datetime.date, end: datetime.date) -> dict:
    """{(recipient_id, month): required visits} for the given agreements over [start, end] (inclusive).

    A recipient-month requires the standard for their approved level (as on the last day of the window in
    that month), prorated by the days they were served (`served_days`) under one of these agreements.
    """
    result = {}
    for month in months_between(start, end):
        window_start, window_end = max(start, month), min(end, month_end(month))
        month_days = days_in_month(month)
        days = served_days(agreements=agreements, first=window_start, last=window_end)
        if not days:
            continue
        standard = standard_on(month)
        levels = levels_on(list(days), window_end)
        for recipient_id, served in days.items():
            result[(recipient_id, month)] = required_from_days(
                standard.visits_for(levels.get(recipient_id)), min(served, month_days), month_days
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


def town_provider_visit_facts(*, town, provider, month: datetime.date) -> dict:
    """One provider's visits in one town over a month, as the town's evaluation sheet shows them beside the scores.

    - required: Σ over the town's recipients served by the provider of the standard, prorated to days served
    - done: finished visits that count (rejected ones never do); met: Σ min(done, required) per recipient
    - verified: passed verification; exceptions: flagged by verification, of which still to review (pending),
      accepted and rejected by the reviewer
    """
    first, last = month_start(month), month_end(month)
    finished = Visit.objects.filter(
        provider=provider, town=town, visit_date__gte=first, visit_date__lte=last, ended_at__isnull=False
    )
    totals = finished.aggregate(
        done=Count("pk", filter=~Q(status=VisitStatus.REJECTED)),
        verified=Count("pk", filter=Q(status=VisitStatus.VERIFIED)),
        exceptions=Count("pk", filter=Q(status__in=FLAGGED_STATUSES)),
        pending=Count("pk", filter=Q(status=VisitStatus.EXCEPTION)),
        accepted=Count("pk", filter=Q(status=VisitStatus.ACCEPTED)),
        rejected=Count("pk", filter=Q(status=VisitStatus.REJECTED)),
    )
    done = dict(
        finished.exclude(status=VisitStatus.REJECTED)
        .values("recipient_id")
        .annotate(n=Count("pk"))
        .values_list("recipient_id", "n")
    )
    required = required_visits(agreements=Agreement.objects.filter(provider=provider, town=town), start=first, end=last)
    required_total = sum(required.values())
    met = sum(min(done.get(recipient_id, 0), need) for (recipient_id, _month), need in required.items())
    return {
        **totals,
        "recipients": len([need for need in required.values() if need]),
        "required": required_total,
        "met": met,
        "short": required_total - met,
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
    """Visits the actor may see, newest first, filtered by town, provider, status, exception reason, date or
    month."""
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
    if filters.get("reason") in ExceptionReason.values:
        qs = qs.with_reason(filters["reason"])
    day = _parse_date(filters.get("date"))
    if day:
        qs = qs.filter(visit_date=day)
    month = parse_month(filters.get("month"))
    if month:
        qs = qs.filter(visit_date__gte=month, visit_date__lte=month_end(month))
    # The same order as started_at alone (visit_date is started_at's day), but led by visit_date so that a day or
    # month filter and the order are one index (visit_day_start): a page reads its rows, nothing is sorted.
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


def caregiver_day(*, actor, day=None, filters=None) -> list[dict]:
    """The caregiver's recipients on `day` (their active agreements): full address (they need it to go there),
    approved level, how many visits the month still needs (all caregivers' counted visits) and the last visit;
    ordered by need. `filters`: CaregiverDayFilter's parameters (`q`: only those whose name contains it)."""
    if actor_role(actor) != Role.CAREGIVER or (caregiver := caregiver_in_post_of(actor)) is None:
        return []
    day = day or timezone.localdate()
    assigned = caregiver_assigned_recipients(caregiver=caregiver, day=day)
    agreements = list(CaregiverDayFilter(filters, queryset=assigned).qs if filters else assigned)
    if not agreements:
        return []
    ids = [a.recipient_id for a in agreements]
    levels = levels_on(ids, day)
    first, last = month_start(day), month_end(day)
    required = required_visits(agreements=Agreement.objects.filter(recipient_id__in=ids), start=first, end=last)
    # The month's counted visits and the last visit ever, in one grouped pass.
    done, last_visit = {}, {}
    for recipient_id, n, latest in (
        Visit.objects.counted()
        .filter(recipient_id__in=ids, visit_date__lte=last)
        .values("recipient_id")
        .annotate(
            n=Count("pk", filter=Q(visit_date__gte=first, visit_date__lte=last)),
            latest=Max("visit_date", filter=Q(visit_date__lte=day)),
        )
        .values_list("recipient_id", "n", "latest")
    ):
        done[recipient_id], last_visit[recipient_id] = n, latest
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
        latest = last_visit.get(recipient.pk)
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
                "last_visit": latest,
                "days_since_visit": (day - latest).days if latest else None,
            }
        )
    # By need: a visit under way first, then the most visits still due, then the longest since the last visit
    # (never visited before anyone visited), then by name.
    rows.sort(
        key=lambda r: (
            r["open_visit"] is None,
            -r["remaining"],
            r["last_visit"] or datetime.date.min,
            r["village"],
            r["name"],
        )
    )
    return rows


def plan_rows(*, actor, month: datetime.date) -> list[dict]:
    """Agreements of the actor's provider covering any day of `month`, with the days already planned."""
    last = month_end(month)
    agreements = list(
        Agreement.objects.for_actor(actor)
        .in_force_between(month, last)
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


def confirmation_card_list(*, actor, q=""):
    """The actor's recipients in support today (a town: its own; the bureau: all), each with its confirmation code
    card in use: `card_number`, `card_issued_at`, `codes_left` (None without a card). Names and masked ID numbers
    only: nothing here decrypts."""
    today = timezone.localdate()
    in_use = ConfirmationCard.objects.filter(recipient=OuterRef("pk"), revoked_at__isnull=True)
    left = (
        ConfirmationCode.objects.filter(card=OuterRef("card_id"), used_at__isnull=True)
        .order_by()
        .values("card")
        .annotate(n=Count("pk"))
        .values("n")
    )
    recipients = (
        without_secrets(Recipient.objects.for_actor(actor).select_related("town", "village"))
        .filter(in_support_q(today, datetime.date.max))  # in support today or from a later entry
        .annotate(
            card_id=Subquery(in_use.values("pk")[:1]),
            card_number=Subquery(in_use.values("number")[:1]),
            card_issued_at=Subquery(in_use.values("issued_at")[:1]),
        )
        .annotate(codes_left=Coalesce(Subquery(left), 0))
        .order_by("town__name", "village__name", "name", "pk")
    )
    q = (q or "").strip()
    if q:
        recipients = recipients.filter(Q(name__contains=q) | Q(village__name__contains=q))
    return recipients
