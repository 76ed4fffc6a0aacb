"""The visit list's query parameters (see shenxian_care.filters)."""

from shenxian_care.filters import ChoiceFilter, DateFilter, FilterSet, IdFilter, MonthFilter

from .models import Visit, VisitStatus
from .selectors import month_end


class VisitFilter(FilterSet):
    town = IdFilter(field_name="town_id", help_text="镇（街道）ID")
    provider = IdFilter(field_name="provider_id", help_text="服务机构ID")
    status = ChoiceFilter(choices=VisitStatus.choices)
    date = DateFilter(field_name="visit_date", help_text="服务日期 YYYY-MM-DD")
    month = MonthFilter(method="in_month", help_text="服务月份 YYYY-MM")

    class Meta:
        model = Visit
        fields = []

    def in_month(self, queryset, name, value):
        return queryset.filter(visit_date__gte=value, visit_date__lte=month_end(value))
