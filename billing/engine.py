"""The settlement engine: one month's lines, adjustments for frozen months, provider totals, deductions applied
and payments, written for a draft. Called by `billing.actions.settlement_compute` under the month's lock; it
decides money through `billing.calculation` and reads its inputs through `billing.persistence`."""

import datetime
from collections import Counter, defaultdict
from contextlib import ExitStack
from fractions import Fraction

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from contracts.models import Caregiver, PayeeMode, Provider, PurchaseContract
from contracts.selectors import contract_windows
from supervision.models import Deduction, DeductionStatus

from . import calculation as calc
from . import persistence
from .models import (
    DeductionApplication,
    LineKind,
    PayeeKind,
    Payment,
    ProviderSettlement,
    RunState,
    Settlement,
    SettlementLine,
    SettlementStatus,
)
from .proposals import propose

FROZEN = [SettlementStatus.CONFIRMED, SettlementStatus.PAID]


def lookback_months():
    """How far back corrections reach (months before the one computed); None, the default, is no limit (the
    setting is always defined: shenxian_care/settings/base.py)."""
    return settings.BILLING_ADJUSTMENT_LOOKBACK_MONTHS


class _ProviderMonth:
    __slots__ = ("gross", "days", "recipients", "contract_days", "weights", "caregiver_days", "recipient_caregiver")

    def __init__(self):
        self.recipient_caregiver = {}  # only for recipients a deduction of the month is tied to
        self.gross = 0
        self.days = 0
        self.recipients = 0
        self.contract_days = Counter()
        self.weights = defaultdict(int)  # becomes a Fraction only where a line is shared
        self.caregiver_days = Counter()

    def add_regular(self, line, targeted=frozenset()):
        if line.recipient_id in targeted:
            self.recipient_caregiver[line.recipient_id] = line.caregiver_id
        self.gross += line.amount_fen
        self.days += line.days
        self.recipients += 1
        if line.contract_id:
            self.contract_days[line.contract_id] += line.days
        total = line.days
        for caregiver_id, days in line.caregiver_days.items():
            caregiver_id = int(caregiver_id)
            # exact share of the line's amount for the days this caregiver served
            self.weights[caregiver_id] += line.amount_fen if days == total else Fraction(line.amount_fen * days, total)
            self.caregiver_days[caregiver_id] += days

    def add_adjustment(self, line):
        self.gross += line.amount_fen
        self.days += line.days
        if line.caregiver_id:
            self.weights[line.caregiver_id] += line.amount_fen
            self.caregiver_days[line.caregiver_id] += line.days


def _rates_of(settlement_or_table):
    if isinstance(settlement_or_table, Settlement):
        s = settlement_or_table
        return calc.Rates.from_yuan(s.rate_self_care, s.rate_partial, s.rate_full)
    t = settlement_or_table
    return calc.Rates.from_yuan(t.self_care, t.partial, t.full)


def clear_draft(settlement):
    Payment.objects.filter(settlement=settlement).delete()
    DeductionApplication.objects.filter(settlement=settlement).delete()
    ProviderSettlement.objects.filter(settlement=settlement).delete()
    persistence.delete_lines(settlement.pk)


def compute(settlement, table, actor, progress, stats):
    """Replace the draft's lines, totals, deduction applications and payments with a fresh result.

    Every frozen month before this one is recomputed from today's data, whatever its age, and what it should
    have been minus what was billed for it becomes adjustment lines naming the month and line corrected. If
    the county sets a limit (`BILLING_ADJUSTMENT_LOOKBACK_MONTHS`), corrections to older months are written
    as 待处理追溯 lines: listed with their amounts for the bureau, outside the month's money."""
    month = settlement.month
    first, end, _ = calc.month_bounds(month)
    rates = _rates_of(table)
    clear_draft(settlement)

    priors = list(Settlement.objects.filter(status__in=FROZEN, month__lt=month).order_by("month"))
    limit = lookback_months()
    oldest_paid = calc.add_months(month, -limit) if limit is not None else None
    total = persistence.recipients_in_window(first, end).count()
    for prior in priors:
        p_first, p_end, _ = calc.month_bounds(prior.month)
        total += persistence.recipients_in_window(p_first, p_end).count()
    progress.start(total)

    due_info = _dues_for(first, end)
    targeted = frozenset(due_info[2].values())
    providers: dict[int, _ProviderMonth] = defaultdict(_ProviderMonth)
    writer = persistence.LineWriter(settlement)
    with ExitStack() as cleanup:
        cleanup.callback(writer.discard)
        streams = persistence.input_streams(first, end)
        cleanup.callback(persistence.close_streams, streams)
        recipients, agreements, approvals = streams
        for line in calc.month_lines(
            month=month,
            rates=rates,
            recipients=recipients,
            agreements=agreements,
            approvals=approvals,
            contracts=contract_windows(first=first, last=end - datetime.timedelta(days=1)),
            on_recipient=progress.tick,
        ):
            writer.add(line, rate_fen=line.rate_fen)
            providers[line.provider_id].add_regular(line, targeted)
        persistence.close_streams(streams)

        for prior in priors:
            held = oldest_paid is not None and prior.month < oldest_paid
            for line, corrects_id in _adjustments_for(prior, progress, cleanup):
                writer.add(
                    line,
                    kind=LineKind.HELD if held else LineKind.ADJUSTMENT,
                    period_month=prior.month,
                    corrects_id=corrects_id,
                    rate_fen=line.rate_fen,
                )
                if not held:
                    providers[line.provider_id].add_adjustment(line)
        writer.close()

    totals = _settle_providers(settlement, providers, due_info)
    stats["proposals"] = propose(settlement, ProviderSettlement.objects.filter(settlement=settlement))

    settlement.rate_self_care = table.self_care
    settlement.rate_partial = table.partial
    settlement.rate_full = table.full
    settlement.gross = calc.from_fen(totals["gross"])
    settlement.deductions_applied = calc.from_fen(totals["applied"])
    settlement.carried_forward = calc.from_fen(totals["carried"])
    settlement.net = calc.from_fen(totals["net"])
    settlement.line_count = writer.count
    settlement.adjustment_count = writer.adjustments
    settlement.run_state = RunState.DONE
    settlement.progress_done = progress.total
    settlement.progress_total = progress.total
    settlement.run_finished_at = timezone.now()
    settlement.run_error = ""
    settlement.computed_by = actor
    # Not `rerun_requested`: a request that arrived while this ran must survive this save.
    settlement.save(
        update_fields=[f.name for f in Settlement._meta.concrete_fields if f.name not in ("id", "rerun_requested")]
    )
    stats.update(lines=writer.count, adjustments=writer.adjustments, line_write_statements=writer.statements)


def _adjustments_for(prior: Settlement, progress, cleanup):
    """Adjustment lines for a frozen month: what it should be now minus what was billed for it (its own
    lines plus adjustments already frozen in later months). Yields (line, frozen line id or None)."""
    first, end, _ = calc.month_bounds(prior.month)
    rates = _rates_of(prior)
    streams = persistence.input_streams(first, end)
    recipients, agreements, approvals = streams
    fresh = calc.month_lines(
        month=prior.month,
        rates=rates,
        recipients=recipients,
        agreements=agreements,
        approvals=approvals,
        contracts=contract_windows(first=first, last=end - datetime.timedelta(days=1)),
        on_recipient=progress.tick,
    )
    billed = _billed_for(prior.month)
    cleanup.callback(persistence.close_streams, [*streams, fresh, billed])
    new = next(fresh, None)
    old = next(billed, None)
    while new is not None or old is not None:
        new_key = (new.recipient_id, new.provider_id) if new is not None else None
        old_key = (old["recipient_id"], old["provider_id"]) if old is not None else None
        if old_key is None or (new_key is not None and new_key < old_key):
            line, corrects_id = _difference(new, None, rates), None
            new = next(fresh, None)
        elif new_key is None or old_key < new_key:
            line, corrects_id = _difference(None, old, rates), old["frozen_id"]
            old = next(billed, None)
        else:
            line, corrects_id = _difference(new, old, rates), old["frozen_id"]
            new, old = next(fresh, None), next(billed, None)
        # Nothing to correct (e.g. a line already fully reversed by an earlier adjustment): no line.
        if line.amount_fen or any(line.days_by_level.values()):
            yield line, corrects_id


def _billed_for(period_month):
    """What frozen settlements billed for `period_month`, per (recipient, provider), in key order.

    Summed in Python on exact Decimals (SQLite would sum money as floats)."""
    rows = (
        SettlementLine.objects.filter(
            period_month=period_month, settlement__status__in=FROZEN, kind__in=[LineKind.REGULAR, LineKind.ADJUSTMENT]
        )
        .order_by("recipient_id", "provider_id", "kind", "pk")
        .values_list(
            "recipient_id",
            "provider_id",
            "kind",
            "pk",
            "amount",
            "days_self_care",
            "days_partial",
            "days_full",
            "town_id",
            "contract_id",
            "caregiver_id",
            "level",
        )
        .iterator(chunk_size=persistence.STREAM_CHUNK)
    )
    current = None
    for recipient_id, provider_id, kind, pk, amount, d_sc, d_p, d_f, town_id, contract_id, caregiver_id, level in rows:
        if current is None or (current["recipient_id"], current["provider_id"]) != (recipient_id, provider_id):
            if current is not None:
                yield current
            current = {
                "recipient_id": recipient_id,
                "provider_id": provider_id,
                "amount": 0,
                "d_self_care": 0,
                "d_partial": 0,
                "d_full": 0,
                "frozen_id": None,
                "town": town_id,
                "contract": contract_id,
                "caregiver": caregiver_id,
                "last_level": level,
            }
        current["amount"] += calc.to_fen(amount)
        current["d_self_care"] += d_sc
        current["d_partial"] += d_p
        current["d_full"] += d_f
        if kind == LineKind.REGULAR:
            current["frozen_id"] = pk
            current["last_level"] = level
    if current is not None:
        yield current


def _difference(new, old, rates):
    old_days = (
        {"self_care": old["d_self_care"], "partial": old["d_partial"], "full": old["d_full"]}
        if old
        else dict.fromkeys(calc.LEVELS, 0)
    )
    old_amount = old["amount"] if old else 0
    if new is not None:
        line = calc.Line(
            recipient_id=new.recipient_id,
            town_id=new.town_id,
            provider_id=new.provider_id,
            contract_id=new.contract_id,
            caregiver_id=new.caregiver_id,
            level=new.level,
        )
        new_days, new_amount = new.days_by_level, new.amount_fen
    else:
        line = calc.Line(
            recipient_id=old["recipient_id"],
            town_id=old["town"],
            provider_id=old["provider_id"],
            contract_id=old["contract"],
            caregiver_id=old["caregiver"],
            level=old["last_level"],  # every frozen line has a level
        )
        new_days, new_amount = dict.fromkeys(calc.LEVELS, 0), 0
    line.days_by_level = {level: new_days[level] - old_days[level] for level in calc.LEVELS}
    line.days = sum(line.days_by_level.values())
    line.amount_fen = new_amount - old_amount
    line.rate_fen = rates.of(line.level)
    return line


def _dues_for(month_first, month_end):
    """Remaining verified deductions up to the month's end, per provider, oldest first; and, first of all, credits:
    what frozen months deducted beyond a deduction's amount since cancelled or lowered (maker-checker), paid back
    in this month as a negative application naming the deduction."""
    applied_before = Counter()
    for deduction_id, amount in DeductionApplication.objects.filter(
        settlement__month__lt=month_first, settlement__status__in=FROZEN
    ).values_list("deduction_id", "amount_applied"):
        applied_before[deduction_id] += calc.to_fen(amount)
    dues = defaultdict(list)
    contracts = {}
    targets = {}
    for pk, provider_id, contract_id, amount, recipient_id, status in (
        Deduction.objects.filter(
            Q(status=DeductionStatus.VERIFIED, verified_on__lt=month_end) | Q(pk__in=list(applied_before))
        )
        .order_by("verified_on", "pk")
        .values_list("pk", "provider_id", "contract_id", "amount", "recipient_id", "status")
    ):
        owed = calc.to_fen(amount) if status == DeductionStatus.VERIFIED else 0
        remaining = owed - applied_before[pk]
        if remaining:
            dues[provider_id].append(calc.Due(key=pk, amount_fen=remaining))
            contracts.setdefault(provider_id, contract_id)
            if recipient_id is not None:
                targets[pk] = recipient_id
    return dues, contracts, targets


def _settle_providers(settlement, providers, due_info):
    dues, due_contracts, targets = due_info
    deficits = dict(
        ProviderSettlement.objects.filter(
            settlement__month=calc.previous_month(settlement.month),
            settlement__status__in=FROZEN,
            deficit_carried__gt=0,
        ).values_list("provider_id", "deficit_carried")
    )
    provider_ids = sorted(set(providers) | set(dues) | set(deficits))
    contract_ids = {
        max(p.contract_days.items(), key=lambda kv: (kv[1], kv[0]))[0] for p in providers.values() if p.contract_days
    } | set(due_contracts.values())
    payee_modes = dict(PurchaseContract.objects.filter(pk__in=contract_ids).values_list("pk", "payee_mode"))
    provider_info = {
        p["pk"]: p
        for p in Provider.objects.filter(pk__in=provider_ids).values(
            "pk", "name", "bank_name", "bank_account_name", "bank_account_number"
        )
    }

    totals = {"gross": 0, "applied": 0, "carried": 0, "net": 0}
    rows, applications, payment_plans = [], [], []
    for provider_id in provider_ids:
        month = providers.get(provider_id) or _ProviderMonth()
        contract_id = (
            max(month.contract_days.items(), key=lambda kv: (kv[1], kv[0]))[0]
            if month.contract_days
            else due_contracts.get(provider_id)
        )
        payee_mode = payee_modes.get(contract_id, PayeeMode.PROVIDER)
        deficit_brought = calc.to_fen(deficits.get(provider_id) or 0)
        applied, net, deficit_carried = calc.apply_deductions(
            gross_fen=month.gross, deficit_brought_fen=deficit_brought, dues=dues.get(provider_id, [])
        )
        applied_fen = sum(a.applied_fen for a in applied)
        carried_fen = sum(a.carried_fen for a in applied)
        row = ProviderSettlement(
            settlement=settlement,
            provider_id=provider_id,
            contract_id=contract_id,
            payee_mode=payee_mode,
            recipients=month.recipients,
            days=month.days,
            gross=calc.from_fen(month.gross),
            deficit_brought=calc.from_fen(deficit_brought),
            deductions_due=calc.from_fen(sum(a.due_fen for a in applied)),
            deductions_applied=calc.from_fen(applied_fen),
            carried_forward=calc.from_fen(carried_fen),
            deficit_carried=calc.from_fen(deficit_carried),
            net=calc.from_fen(net),
        )
        rows.append(row)
        applications.append(applied)
        payment_plans.append((provider_id, payee_mode, net, month))
        totals["gross"] += month.gross
        totals["applied"] += applied_fen
        totals["carried"] += carried_fen
        totals["net"] += net
    ProviderSettlement.objects.bulk_create(rows)

    DeductionApplication.objects.bulk_create(
        [
            DeductionApplication(
                settlement=settlement,
                provider_settlement=row,
                deduction_id=a.key,
                amount_due=calc.from_fen(a.due_fen),
                amount_applied=calc.from_fen(a.applied_fen),
                amount_carried=calc.from_fen(a.carried_fen),
            )
            for row, applied in zip(rows, applications, strict=True)
            for a in applied
        ]
    )
    Payment.objects.bulk_create(_payments(settlement, rows, payment_plans, provider_info, applications, targets))
    return totals


def _caregiver_weights(month, applied, targets):
    """Where caregivers are paid directly: each caregiver's share of the gross, less the deductions applied this
    month that are tied to a recipient they served (those fall on that caregiver alone). What is left of the
    month (provider-wide deductions, a deficit brought forward) is then shared pro rata to these weights (the split
    shares over the positive ones only: a caregiver whose deductions took all of their share is paid nothing)."""
    weights = dict(month.weights)
    for application in applied:
        caregiver_id = month.recipient_caregiver.get(targets.get(application.key))
        if caregiver_id is not None and application.applied_fen:
            weights[caregiver_id] = weights.get(caregiver_id, 0) - application.applied_fen
    return weights


def _payments(settlement, rows, plans, provider_info, applications, targets):
    caregiver_providers = [pid for pid, mode, net, _ in plans if mode == PayeeMode.CAREGIVERS and net > 0]
    caregivers = {
        c["pk"]: c
        for c in Caregiver.objects.filter(provider_id__in=caregiver_providers).values(
            "pk", "name", "bank_name", "bank_account_number"
        )
    }
    payments = []
    for row, (provider_id, payee_mode, net, month), applied in zip(rows, plans, applications, strict=True):
        if net <= 0:
            continue
        info = provider_info[provider_id]
        shares = (
            calc.split_largest_remainder(net, _caregiver_weights(month, applied, targets))
            if payee_mode == PayeeMode.CAREGIVERS
            else {}
        )
        if not shares:
            payments.append(
                Payment(
                    settlement=settlement,
                    provider_settlement=row,
                    provider_id=provider_id,
                    payee_kind=PayeeKind.PROVIDER,
                    payee_name=info["bank_account_name"] or info["name"],
                    bank_name=info["bank_name"],
                    account_number=info["bank_account_number"],
                    days=month.days,
                    amount=calc.from_fen(net),
                )
            )
            continue
        for caregiver_id, fen in sorted(shares.items()):
            caregiver = caregivers[caregiver_id]
            payments.append(
                Payment(
                    settlement=settlement,
                    provider_settlement=row,
                    provider_id=provider_id,
                    payee_kind=PayeeKind.CAREGIVER,
                    caregiver_id=caregiver_id,
                    payee_name=caregiver["name"],
                    bank_name=caregiver["bank_name"],
                    account_number=caregiver["bank_account_number"],
                    days=month.caregiver_days.get(caregiver_id, 0),
                    amount=calc.from_fen(fen),
                )
            )
    return payments
