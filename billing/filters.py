"""List filters of the billing API: each a FilterSet, so the OpenAPI schema lists it and a bad value is a 400."""

import django_filters

from .models import LineKind, Payment, ProviderSettlement, SettlementLine


class ProviderSettlementFilter(django_filters.FilterSet):
    settlement = django_filters.NumberFilter(field_name="settlement_id", label="月度结算ID")
    month = django_filters.DateFilter(field_name="settlement__month", label="结算月份（该月第一天）")
    provider = django_filters.NumberFilter(field_name="provider_id", label="服务机构ID")

    class Meta:
        model = ProviderSettlement
        fields = ["settlement", "month", "provider"]


class SettlementLineFilter(django_filters.FilterSet):
    settlement = django_filters.NumberFilter(field_name="settlement_id", label="月度结算ID")
    provider = django_filters.NumberFilter(field_name="provider_id", label="服务机构ID")
    town = django_filters.NumberFilter(field_name="town_id", label="镇（街道）ID")
    kind = django_filters.ChoiceFilter(choices=LineKind.choices, label="明细类型")
    period_month = django_filters.DateFilter(label="所属月份（该月第一天）")

    class Meta:
        model = SettlementLine
        fields = ["settlement", "provider", "town", "kind", "period_month"]


class PaymentFilter(django_filters.FilterSet):
    settlement = django_filters.NumberFilter(field_name="settlement_id", label="月度结算ID")
    month = django_filters.DateFilter(field_name="settlement__month", label="结算月份（该月第一天）")
    provider = django_filters.NumberFilter(field_name="provider_id", label="服务机构ID")
    payee_kind = django_filters.ChoiceFilter(choices=Payment._meta.get_field("payee_kind").choices, label="收款方类型")

    class Meta:
        model = Payment
        fields = ["settlement", "month", "provider", "payee_kind"]
