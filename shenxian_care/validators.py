"""Identity numbers of people (GB 11643) and organisations (GB 32100), checked by their check characters."""

import datetime
import re
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils import timezone

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_RE = re.compile(r"^\d{17}[\dX]$")
_OLD_ID_RE = re.compile(r"^\d{15}$")

_CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def id_check_char(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def normalize_id_number(value) -> str:
    """Strip spaces, upper-case the X, and turn a 15-digit (first-generation) number into its 18-digit form."""
    text = re.sub(r"\s+", "", str(value or "")).upper()
    if _OLD_ID_RE.match(text):
        first17 = text[:6] + "19" + text[6:]
        text = first17 + id_check_char(first17)
    return text


def parse_id_number(value):
    """Return (normalized number, birth date, sex 'M'/'F') or raise ValidationError with a Chinese message."""
    text = normalize_id_number(value)
    if len(text) != 18:
        raise ValidationError("身份证号应为18位（当前%(n)s位）。", code="length", params={"n": len(text)})
    if not _ID_RE.match(text):
        raise ValidationError("身份证号格式不正确：前17位应为数字，末位为数字或X。", code="format")
    try:
        birth = datetime.date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        raise ValidationError("身份证号中的出生日期无效。", code="birth_date") from None
    if birth > timezone.localdate() or birth.year < 1890:
        raise ValidationError("身份证号中的出生日期无效。", code="birth_date")
    if id_check_char(text[:17]) != text[17]:
        raise ValidationError("身份证号校验码错误，请核对。", code="check_digit")
    sex = "M" if int(text[16]) % 2 else "F"
    return text, birth, sex


def validate_id_number(value):
    parse_id_number(value)


def validate_credit_code(value):
    """Unified social credit code: 18 characters from the GB 32100 alphabet with a valid check character."""
    text = str(value or "").strip().upper()
    if len(text) != 18:
        raise ValidationError("统一社会信用代码应为18位。", code="length")
    if any(ch not in _CREDIT_CHARS for ch in text):
        raise ValidationError("统一社会信用代码含有无效字符（不使用I、O、Z、S、V）。", code="format")
    total = sum(_CREDIT_CHARS.index(ch) * w for ch, w in zip(text[:17], _CREDIT_WEIGHTS, strict=True))
    expected = _CREDIT_CHARS[(31 - total % 31) % 31]
    if text[17] != expected:
        raise ValidationError("统一社会信用代码校验码错误，请核对。", code="check_digit")


def credit_check_char(first17: str) -> str:
    total = sum(_CREDIT_CHARS.index(ch) * w for ch, w in zip(first17, _CREDIT_WEIGHTS, strict=True))
    return _CREDIT_CHARS[(31 - total % 31) % 31]


_PHONE_RE = re.compile(r"^(1\d{10}|0\d{2,3}-?\d{7,8})$")


def validate_phone(value):
    if value and not _PHONE_RE.match(str(value).strip()):
        raise ValidationError("联系电话格式不正确（手机11位，或区号-座机号）。", code="phone")


_BANK_ACCOUNT_RE = re.compile(r"^\d{8,32}$")


def bank_account_problem(value) -> str | None:
    """Why a bank account number cannot be paid to (in Chinese), or None: 8–32 digits, spaces ignored."""
    number = re.sub(r"\s", "", value or "")
    if not number:
        return "未登记银行账号"
    if not _BANK_ACCOUNT_RE.match(number):
        return "银行账号格式不正确（应为8至32位数字）"
    return None


# The window of dates anyone could mean. Nothing in the programme is older than the 1994 五保 regulations, and
# nothing is planned more than a few years ahead (a purchase contract's term, an agreement's end): a date
# outside is a typing slip (1900, 0001, 9999) or a wrong clock, refused before it reaches a rule or the database.
EARLIEST_DATE = datetime.date(1990, 1, 1)
FUTURE_YEARS = 5


def earliest_date() -> datetime.date:
    return EARLIEST_DATE


def latest_date(tz=None) -> datetime.date:
    """The last plausible day, five years on from today (in `tz`, the current time zone unless given)."""
    today = timezone.localdate(timezone=tz)
    try:
        return today.replace(year=today.year + FUTURE_YEARS)
    except ValueError:  # 29 February
        return today.replace(year=today.year + FUTURE_YEARS, day=28)


def validate_plausible_date(value):
    """Refuse a date (or the day of a datetime) outside the window above, with a Chinese message."""
    if value is None:
        return
    day = value
    # the current time zone looked up once (a phone's batch checks two moments per visit)
    tz = timezone.get_current_timezone()
    if isinstance(value, datetime.datetime):
        try:
            day = (timezone.localtime(value, tz) if timezone.is_aware(value) else value).date()
        except OverflowError:  # the last hours of year 9999 in UTC are in year 10000 here
            day = value.date()
    if not earliest_date() <= day <= latest_date(tz):
        raise ValidationError(
            "日期%(value)s超出合理范围（%(start)s 至 %(end)s），请核对。",
            code="date_out_of_range",
            params={"value": day.isoformat(), "start": earliest_date().isoformat(), "end": latest_date().isoformat()},
        )


def require_plausible_date(value, *, field):
    """validate_plausible_date for the actions: a date outside the window is an ApplicationError on `field`."""
    from .exceptions import ApplicationError

    try:
        validate_plausible_date(value)
    except ValidationError as exc:
        raise ApplicationError(exc.messages[0], field=field) from None


def finite_decimal(value) -> Decimal:
    """A number sent as text or a number, as a Decimal; InvalidOperation for anything else, "NaN" and "Infinity"
    included (Decimal takes them, and a later comparison or rounding would fail on them)."""
    number = Decimal(str(value))
    if not number.is_finite():
        raise InvalidOperation(value)
    return number
