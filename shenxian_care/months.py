"""Calendar months as the county counts them: the one place for month arithmetic (python-dateutil).

A month is named by its first day. Windows of days are inclusive at both ends unless a name says otherwise
(`*_bounds` give the half-open [first, first of next month) that database filters like).
"""

import calendar
import datetime

from dateutil.relativedelta import relativedelta


def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def days_in_month(day: datetime.date) -> int:
    return calendar.monthrange(day.year, day.month)[1]


def month_end(day: datetime.date) -> datetime.date:
    """The last day of the month `day` is in."""
    return day.replace(day=days_in_month(day))


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The first day of the month `months` after (or before, if negative) the month of `day`."""
    return month_start(day) + relativedelta(months=months)


def next_month(day: datetime.date) -> datetime.date:
    return add_months(day, 1)


def previous_month(day: datetime.date) -> datetime.date:
    return add_months(day, -1)


def month_bounds(day: datetime.date) -> tuple[datetime.date, datetime.date, int]:
    """(first day, first day of the next month, days in month)."""
    return month_start(day), next_month(day), days_in_month(day)


def months_between(start: datetime.date, end: datetime.date):
    """The months (first days) that meet [start, end], oldest first."""
    month = month_start(start)
    while month <= end:
        yield month
        month = next_month(month)


def month_has_ended(month: datetime.date, today: datetime.date) -> bool:
    return month_end(month) < today


def overlap(*windows):
    """The days common to inclusive windows (first, last), where None is an open end; None if they share none."""
    first = last = None
    for w_first, w_last in windows:  # one pass, no lists: a report calls this twice per agreement
        if w_first is not None and (first is None or w_first > first):
            first = w_first
        if w_last is not None and (last is None or w_last < last):
            last = w_last
    if first is not None and last is not None and last < first:
        return None
    return first, last


def window_days(window) -> int:
    """The number of days of a closed window (both ends set); 0 for None."""
    if window is None:
        return 0
    return (window[1] - window[0]).days + 1
