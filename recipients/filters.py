"""The registry lists' query parameters (see shenxian_care.filters)."""

from django.utils import timezone

from shenxian_care.filters import BooleanFilter, ChoiceFilter, FilterSet, IdFilter, TextFilter

from . import selectors
from .models import CareLevel, Recipient, Village


class RecipientFilter(FilterSet):
    town = IdFilter(field_name="town_id", help_text="镇（街道）ID")
    village = IdFilter(field_name="village_id", help_text="村（居）委会ID")
    level = ChoiceFilter(field_name="level_today", choices=CareLevel.choices, help_text="今日的审定等级")
    q = TextFilter(method="search", max_length=32, help_text="姓名，或身份证号后4位")
    in_support = BooleanFilter(method="filter_in_support", help_text="仅今日在供养的人员")

    class Meta:
        model = Recipient
        fields = []

    def search(self, queryset, name, value):
        return selectors.recipient_search(queryset, value) if value.strip() else queryset

    def filter_in_support(self, queryset, name, value):
        return queryset.in_support_on(timezone.localdate()) if value else queryset


class VillageFilter(FilterSet):
    town = IdFilter(field_name="town_id", help_text="镇（街道）ID")

    class Meta:
        model = Village
        fields = []
