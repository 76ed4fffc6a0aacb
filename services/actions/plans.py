"""Monthly plans and the daily check of overdue recipients and caregivers with exceptions."""

import datetime

from django.db import transaction
from django.db.models import Count, Max, OuterRef, Q, Subquery
from django.http import Http404
from django.utils import timezone

from contracts.models import Agreement
from shenxian_care.exceptions import ApplicationError
from shenxian_care.models import Role
from shenxian_care.months import next_month
from shenxian_care.permissions import ensure_role
from shenxian_care.scoping import actor_role, get_for_actor_or_404
from shenxian_care.validators import require_plausible_date

from ..models import (
    FlagKind,
    PlannedVisit,
    Visit,
    VisitFlag,
    VisitStatus,
)
from ..standards import standard_on

# A record that reaches the server this long after the moment it records was kept on the phone.


@transaction.atomic
def plan_set_month(*, actor, agreement, month: datetime.date, days, planned_time: datetime.time):
    """The provider's monthly plan for one agreement: the days of `month` a visit is planned (replaces the plan)."""
    ensure_role(actor, Role.PROVIDER, Role.BUREAU)
    agreement = get_for_actor_or_404(
        Agreement.objects.select_related("recipient").select_for_update(of=("self",)), actor, pk=agreement.pk
    )
    if actor_role(actor) == Role.PROVIDER and agreement.provider_id != actor.provider_id:
        raise Http404
    month = month.replace(day=1)
    require_plausible_date(month, field="month")
    dates = set()
    for day in days:
        try:
            date = month.replace(day=int(day))
        except (TypeError, ValueError, OverflowError):
            raise ApplicationError(f"日期不正确：{day}", field="days") from None
        if not agreement.in_force_on(date):
            raise ApplicationError(f"{date:%m月%d日} 不在协议服务期内。", field="days")
        dates.add(date)
    PlannedVisit.objects.filter(agreement=agreement, day__gte=month, day__lt=next_month(month)).delete()
    PlannedVisit.objects.bulk_create(
        PlannedVisit(
            provider_id=agreement.provider_id,
            agreement=agreement,
            caregiver_id=agreement.caregiver_id,
            recipient_id=agreement.recipient_id,
            town_id=agreement.town_id,
            day=date,
            planned_time=planned_time,
            created_by=actor,
        )
        for date in sorted(dates)
    )
    return len(dates)


# How far back the daily check looks for a caregiver's exceptions.
EXCEPTION_LOOKBACK_DAYS = 30


@transaction.atomic
def visit_flag_overdue(*, day: datetime.date | None = None) -> dict:
    """The daily check (system action, run by `visit_flag_overdue_task`): recipients under an agreement today with
    no counted visit for the standard's N days, and caregivers with exceptions in the last 30 days. Re-running
    for the same day replaces that day's flags."""
    day = day or timezone.localdate()
    standard = standard_on(day)
    since = day - datetime.timedelta(days=standard.overdue_days)
    last_visit = (
        Visit.objects.filter(recipient=OuterRef("recipient_id"), ended_at__isnull=False, visit_date__lte=day)
        .exclude(status=VisitStatus.REJECTED)
        .order_by()
        .values("recipient_id")
        .annotate(last=Max("visit_date"))
        .values("last")
    )
    overdue = (
        Agreement.objects.serving_on(day)
        .annotate(last_visit=Subquery(last_visit))
        .filter(Q(last_visit__isnull=True) | Q(last_visit__lt=since))
        .values_list("recipient_id", "town_id", "provider_id", "caregiver_id", "last_visit")
    )
    VisitFlag.objects.filter(day=day).delete()
    flags = [
        VisitFlag(
            day=day,
            kind=FlagKind.RECIPIENT_OVERDUE,
            recipient_id=recipient_id,
            town_id=town_id,
            provider_id=provider_id,
            caregiver_id=caregiver_id,
            days_since_visit=(day - last).days if last else None,
        )
        for recipient_id, town_id, provider_id, caregiver_id, last in overdue.iterator(chunk_size=5000)
    ]
    flagged = (
        Visit.objects.filter(
            visit_date__gte=day - datetime.timedelta(days=EXCEPTION_LOOKBACK_DAYS),
            visit_date__lte=day,
            status__in=[VisitStatus.EXCEPTION, VisitStatus.REJECTED],
        )
        .values("caregiver_id", "provider_id")
        .annotate(n=Count("pk"), town_id=Max("town_id"))
        .order_by()
    )
    flags += [
        VisitFlag(
            day=day,
            kind=FlagKind.CAREGIVER_EXCEPTIONS,
            caregiver_id=row["caregiver_id"],
            provider_id=row["provider_id"],
            town_id=row["town_id"],
            exception_count=row["n"],
        )
        for row in flagged
    ]
    VisitFlag.objects.bulk_create(flags, batch_size=2000)
    return {
        "day": day.isoformat(),
        "recipients_overdue": sum(1 for f in flags if f.kind == FlagKind.RECIPIENT_OVERDUE),
        "caregivers_with_exceptions": sum(1 for f in flags if f.kind == FlagKind.CAREGIVER_EXCEPTIONS),
    }
