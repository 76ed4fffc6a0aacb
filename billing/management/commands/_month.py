import datetime

from django.core.management.base import CommandError


def parse_month(text: str) -> datetime.date:
    try:
        return datetime.datetime.strptime(text, "%Y-%m").date()
    except ValueError:
        raise CommandError("月份格式应为 YYYY-MM，例如 2024-03") from None
