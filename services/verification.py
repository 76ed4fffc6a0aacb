"""Electronic visit verification: the one function that decides a visit's status, one rule per function.

`verify_visit(visit)` runs every rule and returns the exception reasons (empty → verified). It fills in
what the rules work out on the way (the covering agreement, the distance from home) but never saves:
the action that called it does.
"""

import datetime
import math
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone

from contracts.models import Agreement

from .models import ExceptionReason, GpsRuleStatus, RecipientGpsRule, ServiceStandard, Visit, VisitKind, VisitStatus
from .standards import standard_on

EARTH_RADIUS_M = 6_371_000
# Phone clocks drift; a few minutes ahead of the server is not "in the future".
CLOCK_TOLERANCE = datetime.timedelta(minutes=5)
# An open (not yet checked-out) visit occupies its first minute when checking overlaps.
OPEN_VISIT_SPAN = datetime.timedelta(minutes=1)


def haversine_m(lat1, lng1, lat2, lng2) -> float:
    """Great-circle distance in metres between two WGS-84 points."""
    p1, p2 = math.radians(float(lat1)), math.radians(float(lat2))
    dp, dl = p2 - p1, math.radians(float(lng2) - float(lng1))
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


@dataclass
class Context:
    standard: ServiceStandard
    now: datetime.datetime
    agreement: Agreement | None
    gps_rule: RecipientGpsRule | None


def _rule_agreement(visit, ctx):
    if ctx.agreement is None:
        return [ExceptionReason.NO_AGREEMENT]
    return []


def _rule_caregiver(visit, ctx):
    if ctx.agreement is None:
        return []
    reasons = []
    if visit.caregiver.provider_id != ctx.agreement.provider_id:
        reasons.append(ExceptionReason.WRONG_PROVIDER)
    if visit.caregiver_id != ctx.agreement.caregiver_id:
        reasons.append(ExceptionReason.NOT_ASSIGNED)
    return reasons


def _rule_position(visit, ctx):
    rule = ctx.gps_rule
    visit.checkin_distance_m = None
    if rule is not None and rule.gps_exempt:
        return []
    if visit.checkin_latitude is None or visit.checkin_longitude is None:
        return [ExceptionReason.NO_POSITION]
    home = visit.recipient
    if home.home_latitude is None or home.home_longitude is None:
        return [ExceptionReason.HOME_UNLOCATED]
    distance = haversine_m(visit.checkin_latitude, visit.checkin_longitude, home.home_latitude, home.home_longitude)
    visit.checkin_distance_m = round(distance)
    radius = rule.radius_m if rule is not None and rule.radius_m else ctx.standard.radius_m
    return [ExceptionReason.TOO_FAR] if distance > radius else []


def _rule_order(visit, ctx):
    if visit.ended_at is not None and visit.ended_at < visit.started_at:
        return [ExceptionReason.END_BEFORE_START]
    return []


def _rule_duration(visit, ctx):
    if visit.kind != VisitKind.REGULAR or visit.ended_at is None or visit.ended_at < visit.started_at:
        return []
    if visit.ended_at - visit.started_at < datetime.timedelta(minutes=ctx.standard.minimum_minutes):
        return [ExceptionReason.TOO_SHORT]
    return []


def _rule_future(visit, ctx):
    limit_start = (visit.received_at or ctx.now) + CLOCK_TOLERANCE
    limit_end = (visit.checkout_received_at or ctx.now) + CLOCK_TOLERANCE
    if visit.started_at > limit_start or (visit.ended_at is not None and visit.ended_at > limit_end):
        return [ExceptionReason.IN_FUTURE]
    return []


def _rule_late(visit, ctx):
    limit = datetime.timedelta(hours=ctx.standard.late_logging_hours)
    late_start = visit.received_at is not None and visit.received_at - visit.started_at > limit
    late_end = (
        visit.ended_at is not None
        and visit.checkout_received_at is not None
        and visit.checkout_received_at - visit.ended_at > limit
    )
    return [ExceptionReason.LOGGED_LATE] if late_start or late_end else []


def _rule_overlap(visit, ctx):
    if visit.kind != VisitKind.REGULAR:
        return []
    start = visit.started_at
    end = visit.ended_at or start + OPEN_VISIT_SPAN
    if end < start:
        return []
    others = (
        Visit.objects.filter(caregiver_id=visit.caregiver_id, kind=VisitKind.REGULAR, started_at__lt=end)
        .exclude(status=VisitStatus.REJECTED)
        .filter(Q(ended_at__gt=start) | Q(ended_at__isnull=True, started_at__gt=start - OPEN_VISIT_SPAN))
    )
    if visit.pk:
        others = others.exclude(pk=visit.pk)
    return [ExceptionReason.OVERLAP] if others.exists() else []


RULES = (
    _rule_agreement,
    _rule_caregiver,
    _rule_position,
    _rule_order,
    _rule_duration,
    _rule_future,
    _rule_late,
    _rule_overlap,
)


def covering_agreement(recipient, day):
    """The signed agreement covering `day`, if the recipient is in support that day."""
    if not recipient.in_support_on(day):
        return None
    return Agreement.objects.covering(day).filter(recipient=recipient).first()


def approved_gps_rule(recipient):
    return (
        RecipientGpsRule.objects.filter(recipient=recipient, status=GpsRuleStatus.APPROVED)
        .order_by("-decided_at", "-pk")
        .first()
    )


def verify_visit(visit: Visit, *, now=None) -> list[str]:
    """Run every rule on `visit` and return its exception reasons (codes, in rule order)."""
    now = now or timezone.now()
    agreement = covering_agreement(visit.recipient, visit.visit_date)
    visit.agreement = agreement
    ctx = Context(
        standard=standard_on(visit.visit_date),
        now=now,
        agreement=agreement,
        gps_rule=approved_gps_rule(visit.recipient),
    )
    reasons = []
    for rule in RULES:
        reasons.extend(str(code) for code in rule(visit, ctx))
    return reasons


def apply_verification(visit: Visit, *, now=None) -> Visit:
    """Verify and set status and reasons (the caller saves)."""
    reasons = verify_visit(visit, now=now)
    visit.exception_reasons = reasons
    visit.status = VisitStatus.EXCEPTION if reasons else VisitStatus.VERIFIED
    visit.reviewed_by = None
    visit.reviewed_at = None
    visit.review_reason = ""
    return visit
