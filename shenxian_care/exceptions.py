from decimal import InvalidOperation

from django.db import DataError


class ApplicationError(Exception):
    """The one domain exception: a rule was broken. `message` is Chinese and shown to the user as is.

    `field` names the form field or column at fault, where there is one; `extra` carries details
    (e.g. per-row import errors) for the API response.
    """

    def __init__(self, message, *, field=None, extra=None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.extra = extra or {}


class ConflictError(ApplicationError):
    """What was sent contradicts what is already recorded under the same client id (a phone bug, or two phones):
    answered 409, never silently with the first record. `existing` is the record as it stands."""

    status_code = 409

    def __init__(self, message, *, existing, field=None, extra=None):
        super().__init__(message, field=field, extra=extra)
        self.existing = existing


def bad_input_message(exc):
    """The Chinese message for an exception that bad input raised deep in a request: a value Python's number and date
    types, the JSON parser or the database cannot hold (a NUL byte, a lone surrogate, a number past infinity, year 1,
    a text longer than its column, nesting thousands deep). None for any other exception: a real fault, still a 500.
    Where a write had begun, its transaction was rolled back by the same exception: nothing is changed."""
    if isinstance(exc, RecursionError):
        return "请求内容嵌套过深，无法处理。"
    if isinstance(exc, OverflowError):
        return "数值或日期超出可处理的范围。"
    if isinstance(exc, InvalidOperation):
        return "数值格式不正确。"
    if isinstance(exc, UnicodeError):
        return "内容含有无法识别的字符。"
    if isinstance(exc, DataError):
        return "内容过长或含有无法保存的字符，未保存。"
    if isinstance(exc, ValueError) and "NUL" in str(exc):
        return "内容含有无法保存的控制字符（NUL），未保存。"
    return None
