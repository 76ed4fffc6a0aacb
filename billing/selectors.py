"""Reads of settlements, all scoped by the actor.

Who sees what (shared/domain.md "Roles"): bureau everything; the finance bureau reads everything of
billing; provider staff only their own provider's figures, lines and payments (the county totals and
other providers are hidden, 404 when asked by id); town officials and caregivers see no settlement:
the money is between the bureau and the providers, and a town's lines would show provider figures.
"""

import datetime
from decimal import Decimal

from django.db.models import Count, Sum

from contracts.models import PurchaseContract
from recipients.models import CareLevel
from shenxian_care.fields import secret_columns
from shenxian_care.models import Role
from shenxian_care.money import quantize_fen
from shenxian_care.months import next_month
from shenxian_care.scoping import actor_role, get_for_actor_or_404

from .models import (
    DeductionApplication,
    DeductionProposal,
    LineKind,
    Payment,
    ProviderSettlement,
    Settlement,
    SettlementLine,
)


def sees_county_totals(actor) -> bool:
    return actor_role(actor) in (Role.BUREAU, Role.FINANCE)


def can_read_billing(actor) -> bool:
    return actor_role(actor) in (Role.BUREAU, Role.FINANCE, Role.PROVIDER)


def settlement_list(*, actor):
    return Settlement.objects.for_actor(actor).select_related("confirmed_by").order_by("-month")


def settlement_get_for_actor(*, actor, pk):
    qs = Settlement.objects.select_related("confirmed_by", "computed_by", "paid_by")
    return get_for_actor_or_404(qs, actor, pk=pk)


def settlement_for_month(*, actor, month: datetime.date):
    return get_for_actor_or_404(Settlement.objects.all(), actor, month=month.replace(day=1))


def provider_totals(*, actor, settlement):
    return (
        ProviderSettlement.objects.for_actor(actor)
        .filter(settlement=settlement)
        .select_related("provider", "contract")
        .order_by("provider__name", "pk")
    )


def provider_settlement_list(*, actor, filters=None):
    filters = filters or {}
    qs = ProviderSettlement.objects.for_actor(actor).select_related("settlement", "provider", "contract")
    if filters.get("settlement"):
        qs = qs.filter(settlement_id=filters["settlement"])
    if filters.get("month"):
        qs = qs.filter(settlement__month=filters["month"])
    return qs.order_by("-settlement__month", "provider__name", "pk")


def own_totals(*, actor, settlement):
    """The figures this actor may see for the month: the county's, or the sum of its own providers'."""
    if sees_county_totals(actor):
        return {
            "gross": settlement.gross,
            "deductions_applied": settlement.deductions_applied,
            "carried_forward": settlement.carried_forward,
            "net": settlement.net,
        }
    totals = {"gross": 0, "deductions_applied": 0, "carried_forward": 0, "net": 0}
    for row in provider_totals(actor=actor, settlement=settlement):
        for key in totals:
            totals[key] += getattr(row, key)
    return {key: quantize_fen(value) for key, value in totals.items()}


def town_totals(*, actor, settlement):
    """Per town: recipients, days and amount of the lines this actor may see (money summed exactly)."""
    rows = (
        SettlementLine.objects.for_actor(actor)
        .billed()
        .filter(settlement=settlement)
        .values("town_id", "town__name", "town__sort_order")
        .annotate(
            lines=Count("pk"),
            recipients=Count("recipient_id", distinct=True),
            days=Sum("days"),
            amount=Sum("amount"),
        )
        .order_by("town__sort_order", "town_id")
    )
    # SQLite sums decimals as floats; PostgreSQL exactly. Round to the fen either way.
    return [{**row, "amount": quantize_fen(str(row["amount"]))} for row in rows]


def line_list(*, actor, settlement, filters=None):
    filters = filters or {}
    qs = (
        SettlementLine.objects.for_actor(actor)
        .filter(settlement=settlement)
        .select_related("recipient", "town", "provider", "caregiver")
        .order_by("town__sort_order", "town_id", "recipient__name", "recipient_id", "kind", "period_month")
    )
    if filters.get("town"):
        qs = qs.filter(town_id=filters["town"])
    if filters.get("provider"):
        qs = qs.filter(provider_id=filters["provider"])
    if filters.get("kind") in LineKind.values:
        qs = qs.filter(kind=filters["kind"])
    return qs


def line_get_for_actor(*, actor, pk):
    return get_for_actor_or_404(
        SettlementLine.objects.select_related("recipient", "town", "provider", "caregiver", "settlement"), actor, pk=pk
    )


def payment_list(*, actor, settlement=None):
    qs = Payment.objects.for_actor(actor).select_related("provider", "caregiver", "settlement")
    if settlement is not None:
        qs = qs.filter(settlement=settlement)
    return qs.order_by("-settlement__month", "provider__name", "payee_kind", "payee_name", "pk")


def deduction_applications(*, actor, settlement):
    return (
        DeductionApplication.objects.for_actor(actor)
        .filter(settlement=settlement)
        .select_related("deduction", "provider_settlement__provider")
    )


def level_totals(*, actor, settlement):
    """Spend by care level (the line's month-end level) of the lines this actor may see, every level in order,
    for the chart and table on the month's page."""
    labels = dict(CareLevel.choices)
    rows = (
        SettlementLine.objects.for_actor(actor)
        .billed()
        .filter(settlement=settlement)
        .values("level")
        .annotate(recipients=Count("recipient_id", distinct=True), amount=Sum("amount"))
    )
    totals = {row["level"]: row for row in rows}
    result = []
    for level in (CareLevel.SELF_CARE, CareLevel.PARTIAL, CareLevel.FULL):
        row = totals.get(level, {"recipients": 0, "amount": 0})
        result.append(
            {"level": labels[level], "recipients": row["recipients"], "amount": quantize_fen(str(row["amount"] or 0))}
        )
    return result


def held_corrections(*, actor, settlement):
    """Corrections to months beyond the county's look-back limit (待处理追溯): count and amount, for the bureau to
    settle by hand. Never part of the month's money."""
    rows = list(
        SettlementLine.objects.for_actor(actor)
        .filter(settlement=settlement, kind=LineKind.HELD)
        .values_list("amount", flat=True)
    )
    return {"count": len(rows), "amount": quantize_fen(sum(rows, Decimal(0)))}


def payment_get_for_actor(*, actor, pk):
    return get_for_actor_or_404(Payment.objects.select_related("settlement", "provider"), actor, pk=pk)


def receivables(*, actor, settlement):
    """应追回: what providers whose contracts have all ended still owe after this month (deductions carried forward
    and a deficit), for the finance bureau to recover; a provider still under contract works it off instead."""
    first_after = next_month(settlement.month)
    live = PurchaseContract.objects.in_force_between(first_after, datetime.date.max).values("provider_id")
    rows = (
        ProviderSettlement.objects.for_actor(actor)
        .filter(settlement=settlement)
        .exclude(provider_id__in=live)
        .select_related("provider")
        .order_by("provider__name")
    )
    owed = []
    for row in rows:
        amount = row.carried_forward + row.deficit_carried
        if amount > 0:
            owed.append(
                {
                    "provider": row.provider,
                    "carried": row.carried_forward,
                    "deficit": row.deficit_carried,
                    "amount": amount,
                }
            )
    return owed


def proposal_list(*, actor, settlement):
    return (
        DeductionProposal.objects.for_actor(actor)
        .filter(settlement=settlement)
        .select_related("provider", "recipient", "decided_by")
        .defer(*secret_columns(DeductionProposal, "provider", "recipient"))
        .order_by("status", "provider__name", "kind", "pk")
    )
