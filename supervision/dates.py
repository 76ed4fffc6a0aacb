"""Months and half years as the bureau counts them."""

import datetime
import re

from shenxian_care.months import month_end, month_start, previous_month  # noqa: F401  (re-exported)

_HALF_RE = re.compile(r"^(\d{4})H([12])$")


def half_bounds(half: str):
    """'2026H1' → (2026-01-01, 2026-06-30); '2026H2' → (2026-07-01, 2026-12-31). ValueError otherwise."""
    match = _HALF_RE.match((half or "").strip().upper())
    if not match:
        raise ValueError("半年度格式应为“2026H1”或“2026H2”。")
    year, part = int(match.group(1)), match.group(2)
    if part == "1":
        return datetime.date(year, 1, 1), datetime.date(year, 6, 30)
    return datetime.date(year, 7, 1), datetime.date(year, 12, 31)


def half_ended_before(day: datetime.date) -> str:
    """The half year that ended most recently before `day` (on 1 July 2026 → '2026H1')."""
    if day.month >= 7:
        return f"{day.year}H1"
    return f"{day.year - 1}H2"
