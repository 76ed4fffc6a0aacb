"""Reads of the registry: scoped lists, the level on a day, the month's roster."""

import datetime

from django.db.models import OuterRef, Subquery

from shenxian_care.scoping import get_for_actor_or_404

from .models import CareLevel, LevelApproval, MonthlyRoster, Recipient, RosterStatus, Village

# Number of indicators not achieved → level (特困人员认定办法).
_LEVEL_BY_LOST = {0: CareLevel.SELF_CARE, 1: CareLevel.PARTIAL, 2: CareLevel.PARTIAL, 3: CareLevel.PARTIAL}


def level_from_indicators(answers) -> CareLevel:
    """All six achieved → 自理; 1–3 not achieved → 半失能; 4–6 not achieved → 失能."""
    answers = list(answers)
    if len(answers) != 6 or any(not isinstance(a, bool) for a in answers):
        raise ValueError("需要六项指标的是/否结果")
    lost = answers.count(False)
    return _LEVEL_BY_LOST.get(lost, CareLevel.FULL)


def _latest_approval(recipient_ref, day):
    return (
        LevelApproval.objects.filter(recipient=recipient_ref, effective_date__lte=day)
        .order_by("-effective_date", "-approved_at", "-pk")
        .values("level")[:1]
    )


def level_on(recipient, day: datetime.date):
    """The approved level in force on `day`, or None if no level was approved by then."""
    row = _latest_approval(recipient, day).first()
    return row["level"] if row else None


def levels_on(recipient_ids, day: datetime.date) -> dict:
    """{recipient_id: level} on `day` for many recipients in one query."""
    result = {}
    rows = (
        LevelApproval.objects.filter(recipient_id__in=recipient_ids, effective_date__lte=day)
        .order_by("recipient_id", "-effective_date", "-approved_at", "-pk")
        .values_list("recipient_id", "level")
    )
    for recipient_id, level in rows:
        result.setdefault(recipient_id, level)
    return result


def level_history(recipient):
    return LevelApproval.objects.filter(recipient=recipient).select_related("approved_by").order_by(
        "-effective_date", "-approved_at", "-pk"
    )


def with_level_on(queryset, day: datetime.date):
    """Annotate `level_today` (the approved level on `day`) in the same query."""
    return queryset.annotate(level_today=Subquery(_latest_approval(OuterRef("pk"), day)))


def recipient_list(*, actor, filters=None, day=None):
    filters = filters or {}
    day = day or datetime.date.today()
    qs = Recipient.objects.for_actor(actor).select_related("town", "village")
    if filters.get("town"):
        qs = qs.filter(town_id=filters["town"])
    if filters.get("village"):
        qs = qs.filter(village_id=filters["village"])
    if filters.get("q"):
        q = filters["q"].strip()
        qs = qs.filter(name__contains=q) if len(q) < 18 else qs.filter(id_number=q.upper())
    if filters.get("in_support"):
        qs = qs.in_support_on(day)
    qs = with_level_on(qs, day)
    if filters.get("level"):
        qs = qs.filter(level_today=filters["level"])
    return qs


def recipient_get_for_actor(*, actor, pk):
    return get_for_actor_or_404(Recipient.objects.select_related("town", "village"), actor, pk=pk)


def village_list(*, actor, town=None):
    qs = Village.objects.for_actor(actor).select_related("town")
    return qs.filter(town=town) if town else qs


def roster_applied_for(month: datetime.date):
    return MonthlyRoster.objects.filter(month=month, status=RosterStatus.APPLIED).first()


def roster_previous_applied(month: datetime.date):
    return MonthlyRoster.objects.filter(month__lt=month, status=RosterStatus.APPLIED).order_by("-month").first()
