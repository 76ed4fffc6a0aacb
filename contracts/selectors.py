"""Reads of providers, contracts, rates, caregivers and agreements."""

import datetime
from collections import defaultdict

from django.db.models import Exists, OuterRef, Q

from recipients.models import Recipient
from shenxian_care.fields import secret_columns, without_secrets
from shenxian_care.models import Role
from shenxian_care.scoping import actor_role, get_for_actor_or_404

from .models import (
    SIGNED_STATUSES,
    Agreement,
    AgreementStatus,
    Caregiver,
    ContractStatus,
    ProviderNotice,
    PurchaseContract,
    RateTable,
    contract_window,
)


def rate_table_on(day: datetime.date) -> RateTable:
    """The rate table row in force in the month of `day`."""
    table = RateTable.objects.filter(effective_month__lte=day.replace(day=1)).order_by("-effective_month").first()
    if table is None:
        raise LookupError(f"{day:%Y-%m} 没有生效的服务费标准")
    return table


def rate_tables_between(start: datetime.date, end: datetime.date):
    """Rate rows that can apply to any day in [start, end], oldest first."""
    first = rate_table_on(start)
    return list(
        RateTable.objects.filter(effective_month__gte=first.effective_month, effective_month__lte=end).order_by(
            "effective_month"
        )
    )


def contract_covering(*, provider, town, day):
    """The provider's contract in force on `day` that serves `town`, or None. A terminated contract takes no new
    agreements, even for the days before its termination date."""
    return (
        PurchaseContract.objects.in_force_on(day)
        .exclude(status=ContractStatus.TERMINATED)
        .filter(provider=provider, towns=town)
        .order_by("-start_date")
        .first()
    )


def contract_windows(*, first, last, provider_ids=None):
    """{(provider_id, town_id): [(first day, last day, contract id), ...]} of the contracts in force some day of
    [first, last], oldest first: what `served_pieces` cuts agreements by."""
    qs = PurchaseContract.objects.in_force_between(first, last)
    if provider_ids is not None:
        qs = qs.filter(provider_id__in=provider_ids)
    windows = defaultdict(list)
    for pk, provider_id, town_id, start, end, terminated_on in qs.order_by("start_date", "pk").values_list(
        "pk", "provider_id", "towns", "start_date", "end_date", "terminated_on"
    ):
        if town_id is not None:
            windows[(provider_id, town_id)].append((*contract_window(start, end, terminated_on), pk))
    return dict(windows)


def contracts_ending_within(days, today):
    """Contracts still running whose term ends within `days` days from `today` (the bureau renews or lets go)."""
    return (
        PurchaseContract.objects.ending_between(today, today + datetime.timedelta(days=days))
        .select_related("provider")
        .order_by("end_date", "pk")
    )


def agreements_overlapping(*, recipient, start_date, end_date, exclude_pk=None):
    """Signed (or terminated) agreements of the recipient whose term meets [start_date, end_date]: a recipient
    has at most one agreement on any day, whether or not it is in force yet."""
    qs = Agreement.objects.filter(recipient=recipient, status__in=SIGNED_STATUSES)
    qs = qs.filter(Q(end_date__isnull=True) | Q(end_date__gte=start_date))
    if end_date is not None:
        qs = qs.filter(start_date__lte=end_date)
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    return qs


def agreement_active_on(*, recipient, day):
    """The agreement under which the recipient is served on `day` (see `AgreementQuerySet.serving_on`)."""
    return Agreement.objects.serving_on(day).filter(recipient=recipient).select_related("provider", "caregiver").first()


def agreement_list(*, actor, filters=None):
    filters = filters or {}
    qs = without_secrets(
        Agreement.objects.for_actor(actor).select_related(
            "provider", "town", "village", "recipient", "caregiver", "contract"
        ),
        "provider",
        "recipient",
        "caregiver",
    )
    for key in ("status", "town", "provider", "caregiver", "recipient"):
        if filters.get(key):
            qs = qs.filter(**{key: filters[key]})
    if filters.get("active_on"):
        qs = qs.serving_on(filters["active_on"])
    return qs


def agreement_get_for_actor(*, actor, pk):
    return get_for_actor_or_404(
        Agreement.objects.select_related("provider", "town", "village", "recipient", "caregiver", "contract"),
        actor,
        pk=pk,
    )


def caregiver_list(*, actor, filters=None):
    filters = filters or {}
    qs = Caregiver.objects.for_actor(actor).select_related("provider", "home_town")
    if filters.get("provider"):
        qs = qs.filter(provider=filters["provider"])
    if filters.get("active") is not None:
        qs = qs.filter(is_active=filters["active"])
    return qs


def caregiver_get_for_actor(*, actor, pk):
    return get_for_actor_or_404(without_secrets(Caregiver.objects.select_related("user"), "user"), actor, pk=pk)


def caregiver_assigned_recipients(*, caregiver, day):
    """Agreements (with their recipients) the caregiver serves on `day`."""
    return (
        Agreement.objects.serving_on(day)
        .filter(caregiver=caregiver)
        .select_related("recipient", "recipient__village", "town", "village")
        .defer(*secret_columns(Agreement, "recipient"))
        .order_by("village__name", "recipient__name")
    )


def notice_list(*, actor):
    return ProviderNotice.objects.for_actor(actor).select_related("provider").order_by("-created_at", "-pk")


def recipients_needing_agreement(*, actor, day: datetime.date):
    """People in support on `day`, in the towns the provider's contracts serve that day, with neither an agreement
    in force that day nor a draft waiting: someone must sign one before service can start. Providers only."""
    if actor_role(actor) != Role.PROVIDER:
        return Recipient.objects.none()
    towns = PurchaseContract.objects.in_force_on(day).filter(provider_id=actor.provider_id).values("towns")
    covered = Agreement.objects.in_force_on(day).filter(recipient=OuterRef("pk"))
    drafted = Agreement.objects.filter(recipient=OuterRef("pk"), status=AgreementStatus.DRAFT)
    return Recipient.objects.in_support_on(day).filter(town__in=towns).exclude(Exists(covered)).exclude(Exists(drafted))
