"""Excel helpers shared by every import and export: how a cell is read, and one rule for text a
spreadsheet would run as a formula."""

import datetime
import re

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value):
    """Text cells never start a formula (CSV/formula injection, e.g. =HYPERLINK(...)): prefix a quote, as
    OWASP advises. Numbers stay numbers; only strings are touched."""
    if isinstance(value, str) and value and value[0] in FORMULA_START:
        return "'" + value
    return value


def safe_row(values):
    return [safe_text(v) for v in values]


def cell_text(value) -> str:
    """A cell as people meant it: None is empty, 371522.0 (a number typed into a text column) is 371522."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


_DATE_FORMS = (re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?"), re.compile(r"(\d{4})(\d{2})(\d{2})"))


def cell_date(value):
    """A date cell, or a date typed as 2026-10-05, 2026/10/5, 2026年10月5日 or 20261005. None when empty;
    ValueError when it is not a date."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = cell_text(value)
    for form in _DATE_FORMS:
        match = form.fullmatch(text)
        if match:
            return datetime.date(int(match[1]), int(match[2]), int(match[3]))
    raise ValueError(text)
