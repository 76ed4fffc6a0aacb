"""Electronic visit verification: the one function that decides a visit's status, one rule per function.

`verify_visit(visit)` runs every rule and returns the exception reasons (empty → verified). It fills in
what the rules work out on the way (the covering agreement, the distance from home) but never saves:
the action that called it does.
"""

import datetime
import math
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import F, Q
from django.utils import timezone

from contracts.models import Agreement, agreement_in_force_q, contract_in_force_q, contract_window, served_pieces

from .models import ExceptionReason, GpsRuleStatus, RecipientGpsRule, ServiceStandard, Visit, VisitKind, VisitStatus
from .standards import standard_on

EARTH_RADIUS_M = 6_371_000
# Phone clocks drift; a few minutes ahead of the server is not "in the future".
CLOCK_TOLERANCE = datetime.timedelta(minutes=5)
# An open (not yet checked-out) visit occupies its first minute when checking overlaps.
OPEN_VISIT_SPAN = datetime.timedelta(minutes=1)
# Wrong confirmation codes typed for one visit before it goes to review (and takes no more).
MAX_WRONG_CODES = 5


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
    # (visit pk, start, end) of the caregiver's other regular, not rejected visits near this one
    neighbours: list = field(default_factory=list)


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


def _span(start, end):
    """An open (not checked-out) visit occupies its first minute."""
    return start, end if end is not None else start + OPEN_VISIT_SPAN


def _rule_overlap(visit, ctx):
    if visit.kind != VisitKind.REGULAR:
        return []
    start, end = _span(visit.started_at, visit.ended_at)
    if end < start:
        return []
    for pk, other_start, other_end in ctx.neighbours:
        if visit.pk is not None and pk == visit.pk:
            continue
        if other_start < end and start < other_end:
            return [ExceptionReason.OVERLAP]
    return []


def _rule_confirmation(visit, ctx):
    # Someone kept guessing the recipient's one-time code: a person, not the phone, decides about this visit.
    return [ExceptionReason.CONFIRMATION_FAILED] if visit.confirmation_failures >= MAX_WRONG_CODES else []


RULES = (
    _rule_agreement,
    _rule_caregiver,
    _rule_position,
    _rule_order,
    _rule_duration,
    _rule_future,
    _rule_late,
    _rule_overlap,
    _rule_confirmation,
)

# What the rules read of an agreement (`Agreement.window`, `_rule_caregiver`, the latest covering one).
AGREEMENT_FIELDS = (
    "recipient_id", "provider_id", "town_id", "caregiver_id", "status", "start_date", "signed_on", "end_date"
)  # fmt: skip
# Neighbours are read this far either side of a visit (longer visits than this are not plausible).
NEIGHBOUR_WINDOW = datetime.timedelta(hours=24)


class Loader:
    """Reads what the rules need for a set of visits in a fixed number of queries: the agreements of their
    recipients with the windows of the contracts they are served under, approved GPS rules, the standards of their
    months, and each caregiver's nearby visits."""

    def __init__(self, visits, now):
        self.now = now
        recipient_ids = {v.recipient_id for v in visits}
        days = [v.visit_date for v in visits]
        first, last = min(days), max(days)
        # the agreements in force, each with the windows of its provider's contracts in force for its town, in one
        # read: a row per (agreement, contract). An agreement no such contract covers covers no day
        # (`served_pieces`), so it is not read.
        self.agreements = defaultdict(list)
        self.contracts = defaultdict(list)
        seen = set()
        contract = "provider__contracts__"
        rows = (
            Agreement.objects.filter(
                agreement_in_force_q(first, last),
                contract_in_force_q(first, last, contract),
                recipient_id__in=recipient_ids,
                provider__contracts__towns=F("town_id"),
            )
            .annotate(
                served_contract_id=F(contract + "id"),
                served_contract_start=F(contract + "start_date"),
                served_contract_end=F(contract + "end_date"),
                served_contract_terminated_on=F(contract + "terminated_on"),
            )
            # what the rules and the visit's own row need of an agreement (fewer columns are cheaper to build)
            .only(*AGREEMENT_FIELDS)
            .order_by()
        )
        for row in rows:
            key = (row.provider_id, row.town_id)
            window = (
                *contract_window(row.served_contract_start, row.served_contract_end, row.served_contract_terminated_on),
                row.served_contract_id,
            )
            if window not in self.contracts[key]:
                self.contracts[key].append(window)
            if row.pk not in seen:
                seen.add(row.pk)
                self.agreements[row.recipient_id].append(row)
        self.gps_rules = {}
        for rule in (
            RecipientGpsRule.objects.filter(recipient_id__in=recipient_ids, status=GpsRuleStatus.APPROVED)
            .only("recipient_id", "gps_exempt", "radius_m")
            .order_by("decided_at", "pk")
        ):
            self.gps_rules[rule.recipient_id] = rule  # the latest approved wins
        self.standards = {}
        self.neighbours = defaultdict(list)
        starts = [v.started_at for v in visits]
        regular = {v.caregiver_id for v in visits if v.kind == VisitKind.REGULAR}
        if regular:
            rows = (
                Visit.objects.filter(
                    ~Q(status=VisitStatus.REJECTED),
                    caregiver_id__in=regular,
                    kind=VisitKind.REGULAR,
                    started_at__gte=min(starts) - NEIGHBOUR_WINDOW,
                    started_at__lte=max(starts) + NEIGHBOUR_WINDOW,
                )
                .order_by()
                .values_list("pk", "caregiver_id", "started_at", "ended_at")
            )
            for pk, caregiver_id, start, end in rows:
                self.neighbours[caregiver_id].append((pk, *_span(start, end)))

    def standard(self, day):
        month = day.replace(day=1)
        if month not in self.standards:
            self.standards[month] = standard_on(month)
        return self.standards[month]

    def agreement(self, recipient, day):
        """The agreement the recipient is served under on `day` (in support, agreement and contract in force)."""
        covering = [
            a
            for a in self.agreements.get(recipient.pk, [])
            if served_pieces(
                within=(day, day),
                support=recipient.support_window,
                agreement=a.window,
                contracts=self.contracts.get((a.provider_id, a.town_id), ()),
            )
        ]
        return max(covering, key=lambda a: (a.start_date, a.pk)) if covering else None

    def context(self, visit):
        return Context(
            standard=self.standard(visit.visit_date),
            now=self.now,
            agreement=self.agreement(visit.recipient, visit.visit_date),
            gps_rule=self.gps_rules.get(visit.recipient_id),
            neighbours=self.neighbours.get(visit.caregiver_id, []),
        )

    def remember(self, visit):
        """A visit of this batch is a neighbour of the ones after it."""
        if visit.kind == VisitKind.REGULAR and visit.status != VisitStatus.REJECTED:
            self.neighbours[visit.caregiver_id].append((visit.pk, *_span(visit.started_at, visit.ended_at)))


def verify_visit(visit: Visit, *, now=None, loader=None) -> list[str]:
    """Run every rule on `visit` and return its exception reasons (codes, in rule order). Sets the covering
    agreement and the distance from home on the visit on the way."""
    loader = loader or Loader([visit], now or timezone.now())
    ctx = loader.context(visit)
    visit.agreement = ctx.agreement
    reasons = []
    for rule in RULES:
        reasons.extend(str(code) for code in rule(visit, ctx))
    return reasons


def apply_verification(visit: Visit, *, now=None, loader=None) -> Visit:
    """Verify and set status and reasons (the caller saves). A new verification clears an earlier review."""
    reasons = verify_visit(visit, now=now, loader=loader)
    visit.exception_reasons = reasons
    visit.status = VisitStatus.EXCEPTION if reasons else VisitStatus.VERIFIED
    visit.reviewed_by = None
    visit.reviewed_at = None
    visit.review_reason = ""
    return visit
