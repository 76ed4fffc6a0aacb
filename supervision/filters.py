"""The supervision lists' query parameters, for the API and the portal pages alike (see shenxian_care.filters)."""

from shenxian_care.filters import FilterSet, TextFilter

from .models import (
    Complaint,
    CrossCheckHit,
    Evaluation,
    HalfYearReview,
    RectificationNotice,
    SeriousProblemReport,
    SpotCheck,
)


class EvaluationFilter(FilterSet):
    class Meta:
        model = Evaluation
        fields = ["status", "town", "provider", "month"]


class SeriousProblemFilter(FilterSet):
    class Meta:
        model = SeriousProblemReport
        fields = ["status", "town", "provider", "category"]


class RectificationFilter(FilterSet):
    class Meta:
        model = RectificationNotice
        fields = ["status", "provider", "town", "source"]


class ComplaintFilter(FilterSet):
    class Meta:
        model = Complaint
        fields = ["status", "town", "provider", "channel", "priority", "route_to"]


class SpotCheckFilter(FilterSet):
    class Meta:
        model = SpotCheck
        fields = ["method", "result", "town", "provider", "draw"]


class ReviewFilter(FilterSet):
    half = TextFilter(method="in_half", max_length=6, help_text="半年度，如 2026H1")

    class Meta:
        model = HalfYearReview
        fields = ["half", "status", "provider", "proposal", "decision", "veto"]

    def in_half(self, queryset, name, value):
        return queryset.filter(half=value.strip().upper()) if value.strip() else queryset


class CrossCheckHitFilter(FilterSet):
    class Meta:
        model = CrossCheckHit
        fields = ["batch", "status"]
