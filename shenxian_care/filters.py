"""Query-parameter filters shared by every list (API and portal pages).

Each list's parameters are a django-filter FilterSet: every value is checked by a form field before it reaches
the database, so a bad one (`?town=abc`, a NUL byte, a month that does not exist) answers 400 with a Chinese
message in the API and a form error on a page, never a 500; and drf-spectacular lists them in the schema.
"""

import django_filters
from django import forms
from django.core.validators import ProhibitNullCharactersValidator
from django.db import models
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.rest_framework import FilterSet as RestFilterSet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from .validators import earliest_date, latest_date

# ids are PostgreSQL bigints: a larger number can name nothing (and would overflow the query parameter)
MAX_ID = 2**63 - 1


class IdField(forms.IntegerField):
    default_error_messages = {
        "invalid": "请填写有效的编号（正整数）。",
        "min_value": "请填写有效的编号（正整数）。",
        "max_value": "请填写有效的编号（正整数）。",
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)


class PageField(forms.IntegerField):
    """A page number (`?page=2`): a positive whole number."""

    default_error_messages = {
        "invalid": "页码应为正整数。",
        "min_value": "页码应为正整数。",
        "max_value": "页码过大。",
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.NumberFilter):
    """An id (`?town=3`): a positive integer, or 400."""

    field_class = IdField


class TextField(forms.CharField):
    default_error_messages = {"max_length": "查询内容过长（最多 %(limit_value)d 个字符）。"}

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # forms.CharField already refuses a NUL byte; say so in our own words, once
        self.validators = [v for v in self.validators if not isinstance(v, ProhibitNullCharactersValidator)]
        self.validators.append(ProhibitNullCharactersValidator(message="查询内容含有不允许的空字符。"))


class TextFilter(django_filters.CharFilter):
    """Free text: bounded in length, and no NUL byte (PostgreSQL refuses one in a query)."""

    field_class = TextField

    def __init__(self, *args, max_length=50, **kwargs):
        super().__init__(*args, max_length=max_length, **kwargs)


class ChoiceField(django_filters.fields.ChoiceField):
    default_error_messages = {"invalid_choice": "“%(value)s”不是可选的值。"}


class ChoiceFilter(django_filters.ChoiceFilter):
    """One of a TextChoices' values, or 400 naming the value."""

    field_class = ChoiceField


class BooleanField(forms.NullBooleanField):
    """`1`/`true`/`0`/`false`; anything else is refused rather than read as "not given"."""

    widget = forms.TextInput  # the select widgets would turn an unknown value into "not given"

    def to_python(self, value):
        if value in (None, ""):
            return None
        if str(value).lower() in ("1", "true"):
            return True
        if str(value).lower() in ("0", "false"):
            return False
        raise forms.ValidationError("请填写 true 或 false。", code="invalid")

    def validate(self, value):
        pass


class BooleanFilter(django_filters.BooleanFilter):
    field_class = BooleanField


class DateField(forms.DateField):
    """A date in ISO form within the plausible window (see validators.validate_plausible_date)."""

    input_formats = ["%Y-%m-%d"]
    default_error_messages = {"invalid": "日期格式应为 YYYY-MM-DD，例如 2026-10-01。"}

    def validate(self, value):
        super().validate(value)
        if value and not earliest_date() <= value <= latest_date():
            raise forms.ValidationError(
                "日期超出可查询范围（%(start)s 至 %(end)s）。",
                code="out_of_range",
                params={"start": earliest_date(), "end": latest_date()},
            )


class DateFilter(django_filters.DateFilter):
    field_class = DateField


class MonthField(DateField):
    """A month as `YYYY-MM` (a date in it, `YYYY-MM-DD`, is taken too); cleaned to its first day."""

    input_formats = ["%Y-%m", "%Y-%m-%d"]
    default_error_messages = {"invalid": "月份格式应为 YYYY-MM，例如 2026-10。"}

    def to_python(self, value):
        day = super().to_python(value)
        return day.replace(day=1) if day else day


@extend_schema_field({"type": "string", "pattern": r"^\d{4}-\d{2}$", "example": "2026-10"})
class MonthFilter(django_filters.DateFilter):
    field_class = MonthField


class FilterSet(RestFilterSet):
    """The base of every list's filters: a model field named in `Meta.fields` (or a view's `filterset_fields`)
    gets one of the checked filters above."""

    FILTER_DEFAULTS = {
        **RestFilterSet.FILTER_DEFAULTS,
        models.AutoField: {"filter_class": IdFilter},
        models.BigAutoField: {"filter_class": IdFilter},
        models.ForeignKey: {"filter_class": IdFilter},
        models.OneToOneField: {"filter_class": IdFilter},
        models.CharField: {"filter_class": TextFilter},
        models.TextField: {"filter_class": TextFilter},
        models.DateField: {"filter_class": DateFilter},
        models.BooleanField: {"filter_class": BooleanFilter},
    }

    @classmethod
    def filter_for_lookup(cls, field, lookup_type):
        filter_class, params = super().filter_for_lookup(field, lookup_type)
        if filter_class is django_filters.ChoiceFilter:
            filter_class = ChoiceFilter
        return filter_class, params


class FilterBackend(DjangoFilterBackend):
    """DjangoFilterBackend whose filters made from a view's `filterset_fields` are the checked ones above."""

    filterset_base = FilterSet
