"""Settlements API (/api/v1/settlements/...): read-only, scoped like the pages.

Bureau and finance see the county; provider staff see the months they are in, and only their own
provider's totals, lines and payments; others see nothing (empty lists, 404 by id).
"""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from shenxian_care.privacy import mask_bank_account

from . import actions, filters, selectors
from .models import Payment, PaymentRecord, ProviderSettlement, Settlement, SettlementLine


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


class ProviderSettlementViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ProviderSettlementSerializer
    filterset_class = filters.ProviderSettlementFilter

    def get_queryset(self):
        return selectors.provider_settlement_list(actor=self.request.user)


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


class SettlementLineViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = SettlementLineSerializer
    filterset_class = filters.SettlementLineFilter

    def get_queryset(self):
        qs = SettlementLine.objects.for_actor(self.request.user).select_related("recipient", "town", "provider")
        return qs.order_by("-settlement__month", "town_id", "recipient_id", "kind", "period_month", "pk")


class PaymentSerializer(serializers.ModelSerializer):
    month = serializers.DateField(source="settlement.month", read_only=True)
    provider_name = serializers.CharField(source="provider.name", read_only=True)
    account_number = serializers.SerializerMethodField()
    paid = serializers.SerializerMethodField(help_text="已登记支付的金额")

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
            "paid",
        ]

    def get_account_number(self, obj) -> str:
        # Masked for everyone here: the full account is only in the finance bureau's payment file, whose
        # download is audited.
        return mask_bank_account(obj.account_number)

    def get_paid(self, obj) -> str:
        # Money as text, like every DecimalField of the API.
        return str(obj.paid)


class PaymentRecordSerializer(serializers.ModelSerializer):
    class Meta:
        model = PaymentRecord
        fields = ["id", "payment", "paid_on", "voucher_number", "amount", "recorded_at"]
        read_only_fields = ["id", "payment", "recorded_at"]
        extra_kwargs = {"amount": {"required": False, "help_text": "留空则登记为付清尚未支付的全部金额"}}


class PaymentViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = PaymentSerializer
    filterset_class = filters.PaymentFilter

    def get_queryset(self):
        return selectors.payment_list(actor=self.request.user).prefetch_related("records")

    @extend_schema(request=PaymentRecordSerializer, responses=PaymentRecordSerializer)
    @action(detail=True, methods=["post"])
    def record(self, request, pk=None):
        """The finance bureau records money paid against this payment (date, voucher number, amount)."""
        payment = self.get_object()
        data = PaymentRecordSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        record = actions.payment_record(actor=request.user, payment=payment, **data.validated_data)
        return Response(PaymentRecordSerializer(record).data, status=201)
