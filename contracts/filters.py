"""Agreement and caregiver lists' query parameters (see shenxian_care.filters)."""

from shenxian_care.filters import BooleanFilter, ChoiceFilter, FilterSet, IdFilter

from .models import Agreement, AgreementStatus, Caregiver


class AgreementFilter(FilterSet):
    status = ChoiceFilter(choices=AgreementStatus.choices)
    town = IdFilter(field_name="town_id", help_text="镇（街道）ID")
    provider = IdFilter(field_name="provider_id", help_text="服务机构ID")
    caregiver = IdFilter(field_name="caregiver_id", help_text="照料护理人ID")
    recipient = IdFilter(field_name="recipient_id", help_text="特困人员ID")

    class Meta:
        model = Agreement
        fields = []


class CaregiverFilter(FilterSet):
    provider = IdFilter(field_name="provider_id", help_text="服务机构ID")
    is_active = BooleanFilter()

    class Meta:
        model = Caregiver
        fields = []
