"""The visit lists' and the caregiver's day's query parameters (see shenxian_care.filters)."""

from django import forms

from contracts.models import Agreement
from shenxian_care.filters import (
    ChoiceFilter,
    DateFilter,
    FilterSet,
    IdFilter,
    MonthFilter,
    PageField,
    TextField,
    TextFilter,
)
from shenxian_care.months import month_end

from .models import ExceptionReason, Visit, VisitStatus


class PageQuery(forms.Form):
    """`?page=` of the compliance report (paged by the report itself, not a Paginator)."""

    page = PageField(required=False, label="页码")


class CardSearchQuery(forms.Form):
    """`?q=` of the confirmation-card list: a name or a masked ID fragment, bounded like every list's search."""

    q = TextField(required=False, max_length=32, label="姓名或身份证号片段")


class MonitoringFilter(FilterSet):
    """The town, provider and month the dashboard, the compliance report and the exception queue are narrowed
    by: only what the viewer may choose (`choices`, from monitoring.filter_choices). A value that is not one is
    left out, as if not given."""

    town = ChoiceFilter(choices=[])
    provider = ChoiceFilter(choices=[])
    month = MonthFilter()

    class Meta:
        model = Visit
        fields = []

    def __init__(self, data=None, *args, choices, **kwargs):
        super().__init__(data, *args, **kwargs)
        for name, key in (("town", "towns"), ("provider", "providers")):
            self.filters[name].extra["choices"] = [(str(pk), label) for pk, label in choices[key]]

    def chosen(self):
        """({"town": id, "provider": id} of the valid ones, the month or None)."""
        self.is_valid()
        values = self.form.cleaned_data
        return {k: int(values[k]) for k in ("town", "provider") if values.get(k)}, values.get("month")


class ExceptionQueueFilter(MonitoringFilter):
    """The exception queue's filters: the monitoring ones and the exception's reason. A bad value is named on the
    page (`errors`) and left out."""

    reason = ChoiceFilter(choices=ExceptionReason.choices, help_text="异常原因")

    def chosen(self):
        filters, month = super().chosen()
        if self.form.cleaned_data.get("reason"):
            filters["reason"] = self.form.cleaned_data["reason"]
        return filters, month


class VisitFilter(FilterSet):
    town = IdFilter(field_name="town_id", help_text="镇（街道）ID")
    provider = IdFilter(field_name="provider_id", help_text="服务机构ID")
    status = ChoiceFilter(choices=VisitStatus.choices)
    date = DateFilter(field_name="visit_date", help_text="服务日期 YYYY-MM-DD")
    month = MonthFilter(method="in_month", help_text="服务月份 YYYY-MM")
    reason = ChoiceFilter(choices=ExceptionReason.choices, method="with_reason", help_text="异常原因")

    class Meta:
        model = Visit
        fields = []

    def with_reason(self, queryset, name, value):
        return queryset.with_reason(value)

    def in_month(self, queryset, name, value):
        return queryset.filter(visit_date__gte=value, visit_date__lte=month_end(value))


class CaregiverDayFilter(FilterSet):
    """The caregiver's day (今日服务) narrowed to the people whose name contains `q`."""

    q = TextFilter(
        field_name="recipient__name", lookup_expr="contains", max_length=32, label="姓名", help_text="按姓名查找"
    )

    class Meta:
        model = Agreement
        fields = []
