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


_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_UNITS = ("", "拾", "佰", "仟")
_SECTIONS = ("", "万", "亿", "万亿")


def _section(n: int) -> str:
    """0 < n < 10000 in capitals, with 零 for inner zeros (e.g. 1005 → 壹仟零伍)."""
    text, zero = "", False
    for position in range(3, -1, -1):
        digit = n // 10**position % 10
        if digit == 0:
            zero = bool(text)
            continue
        if zero:
            text += "零"
            zero = False
        text += _DIGITS[digit] + _UNITS[position]
    return text


def chinese_capital(amount) -> str:
    """The amount in Chinese capitals as written on a payment approval (大写金额): 1234.50 → 壹仟贰佰叁拾肆元伍角整,
    100.07 → 壹佰元零柒分, 0 → 零元整. Negative amounts are refused: nothing negative is paid."""
    value = quantize_fen(amount)
    if value < 0:
        raise ValueError("大写金额不能为负数")
    fen_total = int(value * 100)
    yuan, jiao, fen = fen_total // 100, fen_total // 10 % 10, fen_total % 10
    parts, n, section = [], yuan, 0
    need_zero = False
    while n:
        n, chunk = divmod(n, 10000)
        if chunk:
            text = _section(chunk) + _SECTIONS[section]
            if need_zero:
                text += "零"
            parts.insert(0, text)
            need_zero = chunk < 1000 and n > 0
        else:
            need_zero = bool(parts)
        section += 1
    integer = "".join(parts) or "零"
    if not jiao and not fen:
        return f"{integer}元整"
    if yuan == 0:  # 0.50 → 伍角整, 0.05 → 伍分, 0.53 → 伍角叁分
        return (_DIGITS[jiao] + "角" if jiao else "") + (_DIGITS[fen] + "分" if fen else "整")
    tail = (_DIGITS[jiao] + "角") if jiao else "零"
    tail += (_DIGITS[fen] + "分") if fen else "整"
    return f"{integer}元{tail}"
