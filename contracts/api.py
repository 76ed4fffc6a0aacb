"""Providers, contracts, caregivers and agreements API (/api/v1/), scoped; writes through the actions."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from recipients.models import Recipient
from shenxian_care.privacy import mask_bank_account, mask_phone
from shenxian_care.scoping import get_for_actor_or_404

from . import actions, selectors
from .filters import AgreementFilter, CaregiverFilter
from .models import Agreement, Caregiver, Provider, PurchaseContract, RateTable


class ProviderSerializer(serializers.ModelSerializer):
    bank_account_number = serializers.SerializerMethodField()

    class Meta:
        model = Provider
        fields = ["id", "name", "credit_code", "contact_name", "contact_phone", "bank_name", "bank_account_number"]

    def get_bank_account_number(self, obj) -> str:
        return mask_bank_account(obj.bank_account_number)


class ProviderViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ProviderSerializer

    def get_queryset(self):
        return Provider.objects.for_actor(self.request.user)


class RateTableSerializer(serializers.ModelSerializer):
    class Meta:
        model = RateTable
        fields = ["id", "effective_month", "self_care", "partial", "full", "basis"]


class RateTableViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = RateTableSerializer
    pagination_class = None

    def get_queryset(self):
        return RateTable.objects.for_actor(self.request.user)


class ContractSerializer(serializers.ModelSerializer):
    provider_name = serializers.CharField(source="provider.name", read_only=True)
    towns = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = PurchaseContract
        fields = [
            "id",
            "number",
            "provider",
            "provider_name",
            "towns",
            "signed_on",
            "start_date",
            "end_date",
            "payee_mode",
            "status",
            "terminated_on",
            "termination_reason",
        ]


class ContractViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ContractSerializer

    def get_queryset(self):
        return (
            PurchaseContract.objects.for_actor(self.request.user).select_related("provider").prefetch_related("towns")
        )


class CaregiverSerializer(serializers.ModelSerializer):
    id_number = serializers.SerializerMethodField()
    phone = serializers.SerializerMethodField()
    bank_account_number = serializers.SerializerMethodField()
    provider_name = serializers.CharField(source="provider.name", read_only=True)

    class Meta:
        model = Caregiver
        fields = [
            "id",
            "name",
            "id_number",
            "phone",
            "provider",
            "provider_name",
            "home_town",
            "bank_name",
            "bank_account_number",
            "hired_on",
            "left_on",
            "is_active",
        ]

    def get_id_number(self, obj) -> str:
        return obj.id_number_masked

    def get_phone(self, obj) -> str:
        return mask_phone(obj.phone)

    def get_bank_account_number(self, obj) -> str:
        return mask_bank_account(obj.bank_account_number)


class CaregiverCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=32)
    id_number = serializers.CharField(max_length=20)
    phone = serializers.CharField(max_length=20)
    hired_on = serializers.DateField()
    provider = serializers.PrimaryKeyRelatedField(queryset=Provider.objects.all(), required=False, allow_null=True)
    bank_name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    bank_account_number = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")


class CaregiverViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = CaregiverSerializer
    filterset_class = CaregiverFilter

    def get_queryset(self):
        return selectors.caregiver_list(actor=self.request.user)

    @extend_schema(request=CaregiverCreateSerializer, responses=CaregiverSerializer)
    def create(self, request, *args, **kwargs):
        data = CaregiverCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        caregiver = actions.caregiver_create(actor=request.user, **data.validated_data)
        return Response(self.get_serializer(caregiver).data, status=201)


class AgreementSerializer(serializers.ModelSerializer):
    recipient_name = serializers.CharField(source="recipient.name", read_only=True)
    recipient_id_number = serializers.SerializerMethodField()
    provider_name = serializers.CharField(source="provider.name", read_only=True)
    town_name = serializers.CharField(source="town.name", read_only=True)
    village_name = serializers.CharField(source="village.name", read_only=True)
    caregiver_name = serializers.CharField(source="caregiver.name", read_only=True)

    class Meta:
        model = Agreement
        fields = [
            "id",
            "number",
            "contract",
            "provider",
            "provider_name",
            "town",
            "town_name",
            "village",
            "village_name",
            "recipient",
            "recipient_name",
            "recipient_id_number",
            "signed_by_guardian",
            "signatory_name",
            "caregiver",
            "caregiver_name",
            "level_at_signing",
            "start_date",
            "end_date",
            "status",
            "signed_on",
            "terminated_at",
            "termination_reason",
        ]
        read_only_fields = fields

    def get_recipient_id_number(self, obj) -> str:
        return obj.recipient.id_number_masked


class AgreementCreateSerializer(serializers.Serializer):
    recipient = serializers.IntegerField()
    caregiver = serializers.IntegerField()
    start_date = serializers.DateField()
    end_date = serializers.DateField(required=False, allow_null=True)
    provider = serializers.IntegerField(required=False, allow_null=True)
    village_signatory = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")


class AgreementSignSerializer(serializers.Serializer):
    signed_on = serializers.DateField(required=False, help_text="镇（街道）签字日期，默认今天")
    village_signatory = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
    village_signed_on = serializers.DateField(required=False, allow_null=True)
    recipient_signed_on = serializers.DateField(required=False, allow_null=True)


class AgreementTerminateSerializer(serializers.Serializer):
    last_day = serializers.DateField()
    reason = serializers.CharField(max_length=200)


class AgreementViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """四方照料服务协议。Filter with ?status=, ?town=, ?provider=, ?caregiver=, ?recipient=."""

    serializer_class = AgreementSerializer
    filterset_class = AgreementFilter

    def get_queryset(self):
        return selectors.agreement_list(actor=self.request.user)

    @extend_schema(request=AgreementCreateSerializer, responses=AgreementSerializer)
    def create(self, request, *args, **kwargs):
        data = AgreementCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        user = request.user
        # Only what the user may see can be named: another provider's caregiver or an unseen recipient is a 404.
        recipient = get_for_actor_or_404(Recipient.objects.all(), user, pk=values.pop("recipient"))
        caregiver = get_for_actor_or_404(Caregiver.objects.all(), user, pk=values.pop("caregiver"))
        provider_pk = values.pop("provider", None)
        provider = get_for_actor_or_404(Provider.objects.all(), user, pk=provider_pk) if provider_pk else None
        agreement = actions.agreement_create(
            actor=user, recipient=recipient, caregiver=caregiver, provider=provider, **values
        )
        return Response(self.get_serializer(agreement).data, status=201)

    @extend_schema(request=AgreementSignSerializer, responses=AgreementSerializer)
    @action(detail=True, methods=["post"])
    def sign(self, request, pk=None):
        agreement = self.get_object()
        data = AgreementSignSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        agreement = actions.agreement_sign_as_town(actor=request.user, agreement=agreement, **data.validated_data)
        return Response(self.get_serializer(agreement).data)

    @extend_schema(request=AgreementTerminateSerializer, responses=AgreementSerializer)
    @action(detail=True, methods=["post"])
    def terminate(self, request, pk=None):
        agreement = self.get_object()
        data = AgreementTerminateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        agreement = actions.agreement_terminate(actor=request.user, agreement=agreement, **data.validated_data)
        return Response(self.get_serializer(agreement).data)
