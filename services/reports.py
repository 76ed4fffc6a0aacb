"""The monthly compliance report (服务达标月报): visits and minutes done against the county standard.

One row per agreement-month (a recipient served by one provider's caregiver under one four-party agreement):
the days served that month, the visits the standard requires for the recipient's approved level (prorated to
those days; in the current month only the days so far, 截至今日: `selectors.due_through`), and the counted visits
logged under that agreement. Caregiver, provider and town figures are sums
of these rows, so every level of the report adds up. Query count is fixed: agreements, visit totals, levels
(and the standard, when it is not cached).
"""

import datetime
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Sum
from django.utils import timezone

from contracts.models import Agreement, Caregiver, Provider, agreement_window, served_pieces
from contracts.selectors import contract_windows
from recipients.models import CareLevel, Town, in_support_q, support_window
from recipients.selectors import levels_on
from shenxian_care.months import days_in_month as month_days
from shenxian_care.months import month_end, window_days
from shenxian_care.scoping import is_bureau

from .models import Visit, VisitStatus
from .selectors import due_through, required_from_days
from .standards import standard_on

GROUPS = {
    "recipient": "按服务对象",
    "caregiver": "按照料护理人",
    "provider": "按服务机构",
    "town": "按镇（街道）",
}
LEVEL_LABELS = dict(CareLevel.choices)


@dataclass
class Row:
    key: int
    label: str
    town: str = ""
    provider: str = ""
    caregiver: str = ""
    id_number_masked: str = ""
    level: str = ""
    recipients: int = 0
    days: int = 0
    required_visits: int = 0
    required_minutes: int = 0
    visits: int = 0
    minutes: int = 0
    met_visits: int = 0
    extra: dict = field(default_factory=dict)

    @property
    def compliance(self) -> Decimal:
        if not self.required_visits:
            return Decimal("1.0000")
        return (Decimal(self.met_visits) / Decimal(self.required_visits)).quantize(
            Decimal("0.0001"), rounding=ROUND_HALF_UP
        )

    @property
    def compliance_percent(self) -> str:
        return f"{self.compliance * 100:.1f}%"

    @property
    def shortfall(self) -> int:
        return max(self.required_visits - self.met_visits, 0)

    @property
    def level_label(self):
        return LEVEL_LABELS.get(self.level, "")


def _agreements(*, actor, month, filters):
    last = month_end(month)
    qs = (
        Agreement.objects.for_actor(actor)
        .in_force_between(month, last)
        .filter(in_support_q(month, last, "recipient__"))
    )
    if filters.get("town"):
        qs = qs.filter(town_id=filters["town"])
    if filters.get("provider"):
        qs = qs.filter(provider_id=filters["provider"])
    return qs.order_by("town__sort_order", "village__name", "recipient__name", "pk")


AGREEMENT_FIELDS = (
    "pk",
    "recipient_id",
    "recipient__name",
    "recipient__id_number_masked",
    "recipient__entry_date",
    "recipient__exit_date",
    "town_id",
    "town__name",
    "village__name",
    "provider_id",
    "provider__name",
    "caregiver_id",
    "caregiver__name",
    "start_date",
    "end_date",
    "status",
    "signed_on",
)


def _visit_totals(month, agreement_ids=None):
    """{agreement_id: (visits, minutes)} of counted visits in the month."""
    qs = (
        Visit.objects.filter(visit_date__gte=month, visit_date__lte=month_end(month), ended_at__isnull=False)
        .exclude(status=VisitStatus.REJECTED)
        .exclude(agreement_id__isnull=True)
    )
    if agreement_ids is not None:
        qs = qs.filter(agreement_id__in=agreement_ids)
    rows = (
        qs.values("agreement_id")
        .annotate(n=Count("pk"), m=Sum("duration_minutes"))
        .values_list("agreement_id", "n", "m")
    )
    return {agreement_id: (n, max(m or 0, 0)) for agreement_id, n, m in rows}


@dataclass
class _Judged:
    """What one month is judged by: the days due (`until`), the standard, and the month's levels, visit totals and
    contract windows as read once for the whole report."""

    month: datetime.date
    until: datetime.date
    days_in_month: int
    standard: object
    levels: dict
    totals: dict
    contracts: dict


def _judge(j, pk, recipient_id, entry, exit_date, town_id, provider_id, start, end, status, signed_on):
    """One agreement-month's figures, the rule every row and every group sums: (level, days served, visits
    required, visits, minutes). Days served: in support, the agreement in force and a contract of the provider for
    the town in force (`contracts.models.served_pieces`), up to the day due; the standard prorated to those days."""
    level = j.levels.get(recipient_id)
    days = sum(
        window_days((first, last))
        for first, last, _ in served_pieces(
            within=(j.month, j.until),
            support=support_window(entry, exit_date),
            agreement=agreement_window(status, start, signed_on, end),
            contracts=j.contracts.get((provider_id, town_id), ()),
        )
    )
    required = required_from_days(j.standard.visits_for(level), days, j.days_in_month)
    visits, minutes = j.totals.get(pk, (0, 0))
    return level, days, required, visits, minutes


def _recipient_row(values, j):
    (
        pk,
        recipient_id,
        name,
        id_number,
        entry,
        exit_date,
        town_id,
        town,
        village,
        provider_id,
        provider,
        caregiver_id,
        caregiver,
        start,
        end,
        status,
        signed_on,
    ) = values
    level, days, required, visits, minutes = _judge(
        j, pk, recipient_id, entry, exit_date, town_id, provider_id, start, end, status, signed_on
    )
    row = Row(
        key=pk,
        label=name,
        town=town,
        provider=provider,
        caregiver=caregiver,
        id_number_masked=id_number,  # the stored masked copy: lists never decrypt
        level=level or "",
        recipients=1,
        days=days,
        required_visits=required,
        required_minutes=required * j.standard.minimum_minutes,
        visits=visits,
        minutes=minutes,
        met_visits=min(visits, required),
    )
    row.extra = {
        "town_id": town_id,
        "provider_id": provider_id,
        "caregiver_id": caregiver_id,
        "village": village,
        "recipient_id": recipient_id,
    }
    return row


# A grouped report reads no names per agreement and sorts nothing: the few groups' names are read after.
GROUPED_FIELDS = (
    "pk",
    "recipient_id",
    "recipient__entry_date",
    "recipient__exit_date",
    "town_id",
    "provider_id",
    "caregiver_id",
    "start_date",
    "end_date",
    "status",
    "signed_on",
)


def compliance_rows(
    *, actor, month: datetime.date, group="recipient", filters=None, page=None, per_page=50, today=None
):
    """Rows of the report for `month` at the `group` level. With `page` (recipient level only), only that page
    of agreements is read: returns (rows, total_rows).

    The visits required are those due by `today` (default: the local date; `selectors.due_through`): a month that
    has ended is judged whole, the current month 截至今日, on the days served so far (the `days` of each row)."""
    filters = filters or {}
    month = month.replace(day=1)
    until = due_through(month, today or timezone.localdate())
    agreements = _agreements(actor=actor, month=month, filters=filters)
    total = None
    if group == "recipient" and page is not None:
        total = agreements.count()
        offset = (max(page, 1) - 1) * per_page
        values = list(agreements.values_list(*AGREEMENT_FIELDS)[offset : offset + per_page])
        totals = _visit_totals(month, [v[0] for v in values])
        levels = levels_on({v[1] for v in values}, max(until, month))
    else:
        fields = AGREEMENT_FIELDS if group == "recipient" else GROUPED_FIELDS
        values = list((agreements if group == "recipient" else agreements.order_by()).values_list(*fields))
        totals = (
            _visit_totals(month) if not filters and is_bureau(actor) else _visit_totals(month, agreements.values("pk"))
        )
        # every recipient's level in one pass over the approvals, not a lookup per agreement
        levels = levels_on(agreements.values("recipient_id"), max(until, month))
    judged = _Judged(
        month=month,
        until=until,
        days_in_month=month_days(month),
        standard=standard_on(month),
        levels=levels,
        totals=totals,
        contracts=contract_windows(first=month, last=month_end(month)),
    )
    if group != "recipient":
        return _grouped(values, judged, group)
    rows = [_recipient_row(v, judged) for v in values]
    return (rows, total if total is not None else len(rows)) if page is not None else rows


def _grouped(values, j, group):
    """The rows of a caregiver, provider or town report: sums of their agreements' figures (`_judge`), named and
    ordered after (towns by their order; providers by name; caregivers by their first town's order, then name)."""
    key_index = {"caregiver": 6, "provider": 5, "town": 4}[group]
    sums, towns_of, provider_of = {}, {}, {}
    for v in values:
        _, days, required, visits, minutes = _judge(j, *v[:6], *v[7:])
        key = v[key_index]
        target = sums.get(key)
        if target is None:
            target = sums[key] = Row(key=key, label="")
            provider_of[key] = v[5]
        target.recipients += 1
        target.days += days
        target.required_visits += required
        target.required_minutes += required * j.standard.minimum_minutes
        target.visits += visits
        target.minutes += minutes
        target.met_visits += min(visits, required)
        if group == "caregiver":
            towns_of.setdefault(key, set()).add(v[4])
    town_ids = {v[4] for v in values} if group != "provider" else set()
    towns = {
        pk: (order, name)
        for pk, name, order in Town.objects.filter(pk__in=town_ids).values_list("pk", "name", "sort_order")
    }
    if group == "town":
        for row in sums.values():
            row.label = row.town = towns[row.key][1]
        return sorted(sums.values(), key=lambda r: (towns[r.key][0], r.key))
    provider_names = dict(Provider.objects.filter(pk__in=set(provider_of.values())).values_list("pk", "name"))
    if group == "provider":
        for row in sums.values():
            row.label = provider_names.get(row.key, "")
        return sorted(sums.values(), key=lambda r: (r.label, r.key))
    names = dict(Caregiver.objects.filter(pk__in=list(sums)).values_list("pk", "name"))
    order = {}
    for row in sums.values():
        town_id = min(towns_of[row.key], key=lambda t: (towns[t][0], t))
        row.label, row.town, row.provider = (
            names.get(row.key, ""),
            towns[town_id][1],
            provider_names.get(provider_of[row.key], ""),
        )
        order[row.key] = (towns[town_id][0], town_id)
    return sorted(sums.values(), key=lambda r: (*order[r.key], r.label, r.key))


def totals_of(rows) -> Row:
    total = Row(key=0, label="合计")
    for row in rows:
        total.recipients += row.recipients
        total.required_visits += row.required_visits
        total.required_minutes += row.required_minutes
        total.visits += row.visits
        total.minutes += row.minutes
        total.met_visits += row.met_visits
    return total


# The same report for the whole county by one hand-written query (PostgreSQL): the floor bench/visits.py holds
# the ORM path above to (figures checked equal there). It is the best plain SQL we know for these figures: each
# recipient's level in one DISTINCT ON pass over the approvals, not a lookup per agreement. It follows the agreement's
# in-force window (from the later of its start and its last signature) but not the cut by the provider's contract
# windows, which the bench's data never exercises (every contract covers the whole month there): a floor for the
# bench, not a second definition of the days served (that is contracts.models.served_pieces). It carries the
# recipient's name and masked id number and the village, so that the bench's floor for the report's whole list of
# rows (bench/visits.py, `sql_report`) returns the same cells as the ORM path, names included, in the same order.
REPORT_SQL = """
WITH std AS (
    SELECT %(visits_self_care)s AS self_care, %(visits_partial)s AS partial, %(visits_full)s AS full_,
           %(minimum_minutes)s AS min_minutes
), lv AS (
    SELECT DISTINCT ON (recipient_id) recipient_id, level
      FROM recipients_levelapproval
     WHERE effective_date <= %(last)s
     ORDER BY recipient_id, effective_date DESC, approved_at DESC, id DESC
), a AS (
    SELECT ag.id, ag.recipient_id, ag.town_id, ag.provider_id, ag.caregiver_id, ag.village_id, lv.level,
           r.name AS recipient_name, r.id_number_masked,
           GREATEST(0, LEAST(COALESCE(ag.end_date, %(last)s), COALESCE(r.exit_date - 1, %(last)s), %(last)s)
                     - GREATEST(ag.start_date, ag.signed_on, r.entry_date, %(first)s) + 1) AS days
      FROM contracts_agreement ag JOIN recipients_recipient r ON r.id = ag.recipient_id
      LEFT JOIN lv ON lv.recipient_id = ag.recipient_id
     WHERE ag.status IN ('signed', 'terminated') AND ag.start_date <= %(last)s AND ag.signed_on <= %(last)s
       AND (ag.end_date IS NULL OR ag.end_date >= %(first)s)
       AND r.entry_date <= %(last)s AND (r.exit_date IS NULL OR r.exit_date > %(first)s)
), v AS (
    SELECT agreement_id, COUNT(*) AS visits, COALESCE(SUM(duration_minutes), 0) AS minutes
      FROM services_visit
     WHERE visit_date BETWEEN %(first)s AND %(last)s AND ended_at IS NOT NULL AND status <> 'rejected'
       AND agreement_id IS NOT NULL
     GROUP BY agreement_id
), req AS (
    SELECT a.*, CASE WHEN a.days >= %(days_in_month)s THEN s.n
                     ELSE FLOOR(s.n * a.days::numeric / %(days_in_month)s + 0.5)::int END AS required,
           COALESCE(v.visits, 0) AS visits, COALESCE(v.minutes, 0) AS minutes
      FROM a
      CROSS JOIN LATERAL (SELECT CASE a.level WHEN 'self_care' THEN std.self_care WHEN 'partial' THEN std.partial
                                 WHEN 'full' THEN std.full_ ELSE 0 END AS n FROM std) s
      LEFT JOIN v ON v.agreement_id = a.id
)
SELECT id, recipient_id, town_id, provider_id, caregiver_id, level, days, required,
       required * (SELECT min_minutes FROM std) AS required_minutes, visits, minutes, LEAST(visits, required) AS met,
       village_id, recipient_name, id_number_masked
  FROM req
"""
