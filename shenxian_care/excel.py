"""Excel helpers shared by every export: one rule for text a spreadsheet would run as a formula."""

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value):
    """Text cells never start a formula (CSV/formula injection, e.g. =HYPERLINK(...)): prefix a quote, as
    OWASP advises. Numbers stay numbers; only strings are touched."""
    if isinstance(value, str) and value and value[0] in FORMULA_START:
        return "'" + value
    return value


def safe_row(values):
    return [safe_text(v) for v in values]
