"""Settlements API (/api/v1/settlements/...): read-only, scoped like the pages.

Bureau and finance see the county; provider staff see the months they are in, and only their own
provider's totals, lines and payments; others see nothing (empty lists, 404 by id).
"""

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from shenxian_care.privacy import mask_bank_account

from . import selectors
from .models import Payment, ProviderSettlement, Settlement, SettlementLine


class SettlementBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Settlement
        fields = ["id", "month", "status", "run_state", "confirmed_at", "paid_at"]


class SettlementSerializer(serializers.ModelSerializer):
    class Meta:
        model = Settlement
        fields = [
            "id",
            "month",
            "status",
            "run_state",
            "progress_done",
            "progress_total",
            "rate_self_care",
            "rate_partial",
            "rate_full",
            "gross",
            "deductions_applied",
            "carried_forward",
            "net",
            "line_count",
            "adjustment_count",
            "confirmed_by",
            "confirmed_at",
            "paid_at",
        ]


class ProgressSerializer(serializers.ModelSerializer):
    percent = serializers.IntegerField(source="progress_percent")

    class Meta:
        model = Settlement
        fields = ["id", "month", "run_state", "progress_done", "progress_total", "percent", "run_error"]


@extend_schema_view(
    list=extend_schema(responses=SettlementSerializer(many=True), description="省略全县金额：服务机构用户"),
    retrieve=extend_schema(responses=SettlementSerializer),
)
class SettlementViewSet(viewsets.ReadOnlyModelViewSet):
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return selectors.settlement_list(actor=self.request.user)

    def get_serializer_class(self):
        # County totals are for the bureau and the finance bureau only.
        if selectors.sees_county_totals(self.request.user):
            return SettlementSerializer
        return SettlementBriefSerializer

    @extend_schema(responses=ProgressSerializer)
    @action(detail=True)
    def progress(self, request, pk=None):
        return Response(ProgressSerializer(self.get_object()).data)


class ProviderSettlementSerializer(serializers.ModelSerializer):
    month = serializers.DateField(source="settlement.month", read_only=True)
    provider_name = serializers.CharField(source="provider.name", read_only=True)

    class Meta:
        model = ProviderSettlement
        fields = [
            "id",
            "settlement",
            "month",
            "provider",
            "provider_name",
            "payee_mode",
            "recipients",
            "days",
            "gross",
            "deficit_brought",
            "deductions_due",
            "deductions_applied",
            "carried_forward",
            "deficit_carried",
            "net",
        ]


_SETTLEMENT_PARAM = OpenApiParameter("settlement", int, description="结算单 id")


@extend_schema_view(list=extend_schema(parameters=[_SETTLEMENT_PARAM]))
class ProviderSettlementViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ProviderSettlementSerializer

    def get_queryset(self):
        settlement = self.request.query_params.get("settlement", "")
        filters = {"settlement": int(settlement)} if settlement.isdigit() else {}
        return selectors.provider_settlement_list(actor=self.request.user, filters=filters)


class SettlementLineSerializer(serializers.ModelSerializer):
    recipient_name = serializers.CharField(source="recipient.name", read_only=True)
    id_number = serializers.CharField(source="recipient.id_number_masked", read_only=True)
    town_name = serializers.CharField(source="town.name", read_only=True)
    provider_name = serializers.CharField(source="provider.name", read_only=True)

    class Meta:
        model = SettlementLine
        fields = [
            "id",
            "settlement",
            "kind",
            "period_month",
            "recipient",
            "recipient_name",
            "id_number",
            "town",
            "town_name",
            "provider",
            "provider_name",
            "caregiver",
            "level",
            "rate",
            "days",
            "days_self_care",
            "days_partial",
            "days_full",
            "amount",
            "corrects",
        ]


@extend_schema_view(list=extend_schema(parameters=[_SETTLEMENT_PARAM]))
class SettlementLineViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = SettlementLineSerializer

    def get_queryset(self):
        qs = SettlementLine.objects.for_actor(self.request.user).select_related("recipient", "town", "provider")
        settlement = self.request.query_params.get("settlement")
        if settlement and settlement.isdigit():
            qs = qs.filter(settlement_id=settlement)
        return qs.order_by("-settlement__month", "town_id", "recipient_id", "kind", "period_month", "pk")


class PaymentSerializer(serializers.ModelSerializer):
    month = serializers.DateField(source="settlement.month", read_only=True)
    provider_name = serializers.CharField(source="provider.name", read_only=True)
    account_number = serializers.SerializerMethodField()

    class Meta:
        model = Payment
        fields = [
            "id",
            "settlement",
            "month",
            "provider",
            "provider_name",
            "payee_kind",
            "caregiver",
            "payee_name",
            "bank_name",
            "account_number",
            "days",
            "amount",
        ]

    def get_account_number(self, obj) -> str:
        # The finance bureau pays to the full account; others see it masked.
        if selectors.sees_county_totals(self.context["request"].user):
            return obj.account_number
        return mask_bank_account(obj.account_number)


@extend_schema_view(list=extend_schema(parameters=[_SETTLEMENT_PARAM]))
class PaymentViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = PaymentSerializer

    def get_queryset(self):
        qs = selectors.payment_list(actor=self.request.user)
        settlement = self.request.query_params.get("settlement")
        if settlement and settlement.isdigit():
            qs = qs.filter(settlement_id=settlement)
        return qs
