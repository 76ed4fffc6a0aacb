"""List filters of the billing API: each a FilterSet, so the OpenAPI schema lists it and a bad value is a 400."""

from shenxian_care.filters import ChoiceFilter, DateFilter, FilterSet, IdFilter

from .models import LineKind, Payment, ProviderSettlement, SettlementLine


class ProviderSettlementFilter(FilterSet):
    settlement = IdFilter(field_name="settlement_id", label="月度结算ID")
    month = DateFilter(field_name="settlement__month", label="结算月份（该月第一天）")
    provider = IdFilter(field_name="provider_id", label="服务机构ID")

    class Meta:
        model = ProviderSettlement
        fields = ["settlement", "month", "provider"]


class SettlementLineFilter(FilterSet):
    settlement = IdFilter(field_name="settlement_id", label="月度结算ID")
    provider = IdFilter(field_name="provider_id", label="服务机构ID")
    town = IdFilter(field_name="town_id", label="镇（街道）ID")
    kind = ChoiceFilter(choices=LineKind.choices, label="明细类型")
    period_month = DateFilter(label="所属月份（该月第一天）")

    class Meta:
        model = SettlementLine
        fields = ["settlement", "provider", "town", "kind", "period_month"]


class PaymentFilter(FilterSet):
    settlement = IdFilter(field_name="settlement_id", label="月度结算ID")
    month = DateFilter(field_name="settlement__month", label="结算月份（该月第一天）")
    provider = IdFilter(field_name="provider_id", label="服务机构ID")
    payee_kind = ChoiceFilter(choices=Payment._meta.get_field("payee_kind").choices, label="收款方类型")

    class Meta:
        model = Payment
        fields = ["settlement", "month", "provider", "payee_kind"]
