"""The billing rules as pure functions over rows (no database): days per level per provider, the amount
rounded once, deductions applied without going below zero, payments split to the fen.

Input streams are ordered by recipient id; `month_lines` merges them and yields one line per
recipient per provider, so a month is computed in one pass with memory bounded by one recipient.
"""

import datetime
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from contracts.models import AgreementStatus, agreement_window, served_pieces
from recipients.models import support_window
from shenxian_care.months import add_months, month_bounds, next_month, previous_month  # noqa: F401  (re-exported)

LEVELS = ("self_care", "partial", "full")


def to_fen(amount: Decimal) -> int:
    fen = Decimal(amount) * 100
    if fen != fen.to_integral_value():
        raise ValueError(f"{amount} 不是整分金额")
    return int(fen)


def from_fen(fen: int) -> Decimal:
    return (Decimal(fen) / 100).quantize(Decimal("0.01"))


def fen_text(fen: int) -> str:
    """'-12.05' for -1205: the fen as decimal text, without going through Decimal."""
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"


def div_half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half away from zero (ROUND_HALF_UP), exactly, on integers."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    sign = -1 if numerator < 0 else 1
    return sign * ((2 * abs(numerator) + denominator) // (2 * denominator))


@dataclass(frozen=True)
class Rates:
    """Rates in fen per level for one month."""

    self_care: int
    partial: int
    full: int

    @classmethod
    def from_yuan(cls, self_care, partial, full):
        return cls(to_fen(self_care), to_fen(partial), to_fen(full))

    def of(self, level: str) -> int:
        return getattr(self, level)


@dataclass
class Line:
    recipient_id: int
    town_id: int
    provider_id: int
    contract_id: int | None = None
    caregiver_id: int | None = None
    level: str = ""
    rate_fen: int = 0
    days_by_level: dict = field(default_factory=lambda: dict.fromkeys(LEVELS, 0))
    caregiver_days: dict = field(default_factory=dict)
    amount_fen: int = 0
    days: int = 0  # sum of days_by_level, set when the line is complete
    _last_day: datetime.date = datetime.date.min

    def amount(self) -> Decimal:
        return from_fen(self.amount_fen)


def _level_changes(approvals) -> list[tuple[datetime.date, str]]:
    """[(effective_date, level)] with same-day ties resolved to the last approval.

    `approvals` are (effective_date, level) already ordered by effective_date, approved_at, pk.
    """
    by_day: dict[datetime.date, str] = {}
    for effective_date, level in approvals:
        by_day[effective_date] = level
    return sorted(by_day.items())


def recipient_lines(
    *,
    first: datetime.date,
    end: datetime.date,
    days_in_month: int,
    rates: Rates,
    recipient: tuple,
    agreements: list[tuple],
    approvals: list[tuple],
    contracts: dict | None = None,
) -> list[Line]:
    """The lines of one recipient for the month [first, end).

    recipient: (id, town_id, entry_date, exit_date)
    agreements: (provider_id, town_id, caregiver_id, start_date, signed_on, end_date_inclusive_or_None), signed
    approvals: (effective_date, level), ordered by effective_date, approved_at, pk
    contracts: {(provider_id, town_id): [(first, last, contract_id)]}: a day is paid only inside one of them
    """
    recipient_id, town_id, entry_date, exit_date = recipient
    if not agreements:
        return []
    contracts = contracts or {}
    within = (first, end - datetime.timedelta(days=1))
    support = support_window(entry_date, exit_date)
    segments = []
    for provider_id, agreement_town_id, caregiver_id, start_date, signed_on, end_date in agreements:
        for piece_first, piece_last, contract_id in served_pieces(
            within=within,
            support=support,
            agreement=agreement_window(AgreementStatus.SIGNED, start_date, signed_on, end_date),
            contracts=contracts.get((provider_id, agreement_town_id), ()),
        ):
            segments.append(
                (provider_id, contract_id, caregiver_id, piece_first, piece_last + datetime.timedelta(days=1))
            )
    if not segments:
        return []
    changes = _level_changes(approvals)
    lines: dict[int, Line] = {}
    for provider_id, contract_id, caregiver_id, seg_start, seg_end in segments:
        line = lines.get(provider_id)
        if line is None:
            line = lines[provider_id] = Line(recipient_id=recipient_id, town_id=town_id, provider_id=provider_id)
        billed = 0
        # Walk the level timeline across [seg_start, seg_end).
        level = None
        cursor = seg_start
        for change_day, change_level in changes:
            if change_day <= seg_start:
                level = change_level
                continue
            if change_day >= seg_end:
                break
            if level is not None:
                n = (change_day - cursor).days
                line.days_by_level[level] += n
                billed += n
            cursor, level = change_day, change_level
        if level is not None:
            n = (seg_end - cursor).days
            line.days_by_level[level] += n
            billed += n
            last_day = seg_end - datetime.timedelta(days=1)
            if last_day >= line._last_day:
                line._last_day = last_day
                line.level = level
                line.contract_id = contract_id
                line.caregiver_id = caregiver_id
        if billed:
            key = str(caregiver_id)
            line.caregiver_days[key] = line.caregiver_days.get(key, 0) + billed
    result = []
    for provider_id in sorted(lines):
        line = lines[provider_id]
        line.days = sum(line.days_by_level.values())
        if not line.days:
            continue
        numerator = sum(rates.of(level) * days for level, days in line.days_by_level.items())
        line.amount_fen = div_half_up(numerator, days_in_month)
        line.rate_fen = rates.of(line.level)
        result.append(line)
    return result


def _group(rows: Iterable[tuple]) -> Iterator[tuple[int, list[tuple]]]:
    """Group rows (recipient_id, *rest) ordered by recipient_id into (recipient_id, [rest, ...])."""
    current, bucket = None, []
    for row in rows:
        if row[0] != current:
            if bucket:
                yield current, bucket
            current, bucket = row[0], []
        bucket.append(row[1:])
    if bucket:
        yield current, bucket


class _Cursor:
    """A grouped stream we can advance to a recipient id (merge join)."""

    def __init__(self, rows):
        self._groups = _group(rows)
        self._head = next(self._groups, None)

    def take(self, recipient_id) -> list:
        while self._head is not None and self._head[0] < recipient_id:
            self._head = next(self._groups, None)
        if self._head is not None and self._head[0] == recipient_id:
            rows = self._head[1]
            self._head = next(self._groups, None)
            return rows
        return []


def month_lines(
    *,
    month: datetime.date,
    rates: Rates,
    recipients: Iterable[tuple],
    agreements: Iterable[tuple],
    approvals: Iterable[tuple],
    contracts: dict | None = None,
    on_recipient=None,
) -> Iterator[Line]:
    """Merge three streams ordered by recipient id into the month's lines.

    recipients: (id, town_id, entry_date, exit_date)
    agreements: (recipient_id, provider_id, town_id, caregiver_id, start_date, signed_on, end_date)
    contracts: the contract windows (see `recipient_lines`)
    approvals: (recipient_id, effective_date, level) ordered by recipient, effective_date, approved_at, pk
    """
    first, end, days_in_month = month_bounds(month)
    agreement_cursor = _Cursor(agreements)
    approval_cursor = _Cursor(approvals)
    for recipient in recipients:
        recipient_id = recipient[0]
        yield from recipient_lines(
            first=first,
            end=end,
            days_in_month=days_in_month,
            rates=rates,
            recipient=recipient,
            agreements=agreement_cursor.take(recipient_id),
            approvals=approval_cursor.take(recipient_id),
            contracts=contracts,
        )
        if on_recipient is not None:
            on_recipient()


@dataclass
class Due:
    """Something a provider owes back, applied oldest first: a verified deduction's remaining amount."""

    key: object
    amount_fen: int


@dataclass
class Applied:
    key: object
    due_fen: int
    applied_fen: int

    @property
    def carried_fen(self):
        return self.due_fen - self.applied_fen


def apply_deductions(*, gross_fen: int, deficit_brought_fen: int, dues: list[Due]):
    """Apply dues (oldest first) to a provider's month without going below zero.

    Returns (applied list, net_fen, deficit_carried_fen). A negative base (adjustments larger than the
    month) pays nothing and carries the shortfall forward as a deficit. A negative due is a credit (a
    deduction cancelled or lowered after a frozen month took it): paid back in full before anything is taken.
    """
    credits = [due for due in dues if due.amount_fen < 0]
    base = gross_fen - deficit_brought_fen - sum(due.amount_fen for due in credits)
    deficit_carried = 0
    if base < 0:
        deficit_carried, base = -base, 0
    applied = [Applied(key=due.key, due_fen=due.amount_fen, applied_fen=due.amount_fen) for due in credits]
    left = base
    for due in dues:
        if due.amount_fen < 0:
            continue
        take = min(due.amount_fen, left)
        left -= take
        applied.append(Applied(key=due.key, due_fen=due.amount_fen, applied_fen=take))
    return applied, left, deficit_carried


def split_largest_remainder(total_fen: int, weights: dict) -> dict:
    """Split total_fen over keys in proportion to positive weights; shares sum to total_fen exactly.

    Floors first, then one fen each to the largest remainders (ties: by key order).
    """
    positive = {k: Fraction(w) for k, w in weights.items() if w > 0}
    if total_fen <= 0 or not positive:
        return {}
    weight_sum = sum(positive.values())
    shares, remainders = {}, []
    for key in sorted(positive):
        exact = Fraction(total_fen) * positive[key] / weight_sum
        floor = exact.numerator // exact.denominator
        shares[key] = floor
        remainders.append((-(exact - floor), key))
    left = total_fen - sum(shares.values())
    for _, key in sorted(remainders)[:left]:
        shares[key] += 1
    return {k: v for k, v in shares.items() if v > 0}
