"""The admin's date bar drawn from the calendar rather than from the rows.

Django's own date bar lists only the years, months and days that have records, and finds them with a
`SELECT DISTINCT date_trunc(...)` over every row the list could show (the whole visits table on the first
page). This one lists every year from the first record's to this one, every month of a year and every day of a
month up to today: one index look-up of the first date, whatever the size of the table. A period without
records opens an empty list."""

import datetime

from django import template
from django.contrib.admin.utils import get_fields_from_path
from django.db import models
from django.utils import formats, timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from shenxian_care.months import days_in_month

register = template.Library()


def _first_year(cl, field_name):
    first = cl.model._default_manager.order_by(field_name).values_list(field_name, flat=True).first()
    if first is None:
        return None
    if isinstance(first, datetime.datetime):
        first = timezone.localtime(first) if timezone.is_aware(first) else first
    return first.year


@register.inclusion_tag("admin/date_hierarchy.html")
def calendar_date_hierarchy(cl):
    field_name = cl.date_hierarchy
    if isinstance(get_fields_from_path(cl.model, field_name)[-1], models.DateTimeField):
        raise template.TemplateSyntaxError("calendar_date_hierarchy is for date fields")
    year_field, month_field, day_field = (f"{field_name}__{part}" for part in ("year", "month", "day"))
    today = timezone.localdate()

    def param(name):
        value = cl.params.get(name)
        value = value[-1] if isinstance(value, list) else value
        return int(value) if value else None

    def link(filters):
        return cl.get_query_string(filters, [f"{field_name}__"])

    year, month, day = param(year_field), param(month_field), param(day_field)
    if year is None:
        first = _first_year(cl, field_name)
        if first is None:
            return {"show": False}
        if first < today.year:
            return {
                "show": True,
                "back": None,
                "choices": [{"link": link({year_field: y}), "title": str(y)} for y in range(first, today.year + 1)],
            }
        year = today.year
    if month is None:
        last = today.month if year == today.year else 12
        return {
            "show": True,
            "back": {"link": link({}), "title": _("All dates")},
            "choices": [
                {
                    "link": link({year_field: year, month_field: m}),
                    "title": capfirst(formats.date_format(datetime.date(year, m, 1), "YEAR_MONTH_FORMAT")),
                }
                for m in range(1, last + 1)
            ],
        }
    if day is None:
        last = days_in_month(datetime.date(year, month, 1))
        if (year, month) == (today.year, today.month):
            last = today.day
        return {
            "show": True,
            "back": {"link": link({year_field: year}), "title": str(year)},
            "choices": [
                {
                    "link": link({year_field: year, month_field: month, day_field: d}),
                    "title": capfirst(formats.date_format(datetime.date(year, month, d), "MONTH_DAY_FORMAT")),
                }
                for d in range(1, last + 1)
            ],
        }
    chosen = datetime.date(year, month, day)
    return {
        "show": True,
        "back": {
            "link": link({year_field: year, month_field: month}),
            "title": capfirst(formats.date_format(chosen, "YEAR_MONTH_FORMAT")),
        },
        "choices": [{"title": capfirst(formats.date_format(chosen, "MONTH_DAY_FORMAT"))}],
    }
