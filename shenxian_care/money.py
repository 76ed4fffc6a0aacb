"""Money helpers: yuan as Decimal, rounded once, half-up, to the fen."""

from decimal import ROUND_HALF_UP, Decimal

FEN = Decimal("0.01")
ZERO = Decimal("0.00")


def quantize_fen(amount) -> Decimal:
    if isinstance(amount, float):
        raise TypeError("money must not be a float")
    return Decimal(amount).quantize(FEN, rounding=ROUND_HALF_UP)


def format_yuan(amount) -> str:
    """¥1,234.56 — as people in the bureau read money."""
    value = quantize_fen(amount if amount is not None else ZERO)
    sign = "-" if value < 0 else ""
    return f"{sign}¥{abs(value):,.2f}"
