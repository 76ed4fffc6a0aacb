"""Registry API (/api/v1/): scoped like every page; writes go through the actions."""

from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from shenxian_care.audit import client_address
from shenxian_care.privacy import mask_address, mask_phone
from shenxian_care.scoping import actor_role

from . import actions, selectors
from .filters import RecipientFilter, VillageFilter
from .models import Assessment, CareLevel, CivilCapacity, Town, Village


class TownSerializer(serializers.ModelSerializer):
    class Meta:
        model = Town
        fields = ["id", "code", "name", "kind"]


class VillageSerializer(serializers.ModelSerializer):
    town_name = serializers.CharField(source="town.name", read_only=True)

    class Meta:
        model = Village
        fields = ["id", "town", "town_name", "name"]


class TownViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = TownSerializer
    pagination_class = None

    def get_queryset(self):
        return Town.objects.for_actor(self.request.user)


class VillageViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = VillageSerializer
    filterset_class = VillageFilter

    def get_queryset(self):
        return selectors.village_list(actor=self.request.user)


class RecipientSerializer(serializers.Serializer):
    """Output: ID number, phone and address masked for everyone; the full ID has its own audited endpoint."""

    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField()
    id_number = serializers.SerializerMethodField()
    sex = serializers.CharField(read_only=True)
    birth_date = serializers.DateField(read_only=True)
    town = serializers.IntegerField(source="town_id", read_only=True)
    town_name = serializers.CharField(source="town.name", read_only=True)
    village = serializers.IntegerField(source="village_id", read_only=True)
    village_name = serializers.CharField(source="village.name", read_only=True)
    address = serializers.SerializerMethodField()
    phone = serializers.SerializerMethodField()
    civil_capacity = serializers.ChoiceField(choices=CivilCapacity.choices)
    guardian_name = serializers.CharField(allow_blank=True)
    entry_date = serializers.DateField()
    exit_date = serializers.DateField(read_only=True, allow_null=True)
    level_today = serializers.ChoiceField(choices=CareLevel.choices, read_only=True, allow_null=True)

    def get_id_number(self, obj) -> str:
        return obj.id_number_masked

    def get_phone(self, obj) -> str:
        return mask_phone(obj.phone)

    def get_address(self, obj) -> str:
        # Bureau and town staff need the home address to supervise; others see it masked.
        user = self.context["request"].user
        return obj.address if actor_role(user) in ("bureau", "town", "caregiver") else mask_address(obj.address)


class RecipientCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=32)
    id_number = serializers.CharField(max_length=20)
    town = serializers.PrimaryKeyRelatedField(queryset=Town.objects.all())
    village = serializers.PrimaryKeyRelatedField(queryset=Village.objects.all())
    entry_date = serializers.DateField()
    address = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    phone = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    civil_capacity = serializers.ChoiceField(choices=CivilCapacity.choices, default=CivilCapacity.FULL)
    guardian_name = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
    guardian_id_number = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    guardian_phone = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")


class FindByIdNumberSerializer(serializers.Serializer):
    id_number = serializers.CharField(max_length=20)


class RecipientViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """特困人员名册。Filter with ?town=, ?village=, ?level=, ?q= (name, or the last 4 digits of the ID
    number), ?in_support=1. Look up by full ID number with POST find/."""

    serializer_class = RecipientSerializer
    filterset_class = RecipientFilter

    def get_queryset(self):
        return selectors.recipient_list(actor=self.request.user)

    def get_object(self):
        recipient = selectors.recipient_get_for_actor(actor=self.request.user, pk=self.kwargs["pk"])
        return selectors.with_level_on(type(recipient).objects.filter(pk=recipient.pk), timezone.localdate()).get()

    @extend_schema(request=RecipientCreateSerializer, responses=RecipientSerializer)
    def create(self, request, *args, **kwargs):
        data = RecipientCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        recipient = actions.recipient_create(actor=request.user, **data.validated_data)
        recipient = selectors.with_level_on(type(recipient).objects.filter(pk=recipient.pk), timezone.localdate())
        return Response(self.get_serializer(recipient.get()).data, status=201)

    @extend_schema(request=FindByIdNumberSerializer, responses=RecipientSerializer)
    @action(detail=False, methods=["post"])
    def find(self, request):
        """Find a recipient by full ID number (a POST: the number never appears in a URL)."""
        data = FindByIdNumberSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        recipient = selectors.recipient_find_by_id_number(
            actor=request.user, id_number=data.validated_data["id_number"]
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=recipient.pk)).data)

    @extend_schema(request=None, responses=inline_serializer("FullIdNumber", {"id_number": serializers.CharField()}))
    @action(detail=True, methods=["post"], url_path="reveal-id-number")
    def reveal_id_number(self, request, pk=None):
        """Show the full ID number (bureau and the recipient's town only). Every call is recorded."""
        recipient = selectors.recipient_get_for_actor(actor=request.user, pk=pk)
        number = selectors.recipient_full_id_number(
            actor=request.user, recipient=recipient, remote_addr=client_address(request)
        )
        return Response({"id_number": number})


class AssessmentSerializer(serializers.ModelSerializer):
    recipient_name = serializers.CharField(source="recipient.name", read_only=True)

    class Meta:
        model = Assessment
        fields = [
            "id",
            "recipient",
            "recipient_name",
            "assessed_on",
            "reported_on",
            *[f for f, _ in Assessment.INDICATORS],
            "level",
            "note",
            "status",
            "effective_date",
            "decided_at",
            "decision_reason",
        ]
        read_only_fields = ["level", "status", "effective_date", "decided_at", "decision_reason"]


class AssessmentDecisionSerializer(serializers.Serializer):
    approve = serializers.BooleanField()
    effective_date = serializers.DateField(required=False)
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class AssessmentViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """自理能力评估：towns report, the bureau assesses and approves with an effective date."""

    serializer_class = AssessmentSerializer
    filterset_fields = ["status", "recipient"]

    def get_queryset(self):
        return Assessment.objects.for_actor(self.request.user).select_related("recipient")

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        recipient = selectors.recipient_get_for_actor(actor=self.request.user, pk=data.pop("recipient").pk)
        answers = {f: data.pop(f) for f, _ in Assessment.INDICATORS}
        serializer.instance = actions.assessment_create(
            actor=self.request.user, recipient=recipient, answers=answers, **data
        )

    @extend_schema(request=AssessmentDecisionSerializer, responses=AssessmentSerializer)
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        assessment = self.get_object()
        data = AssessmentDecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if data.validated_data["approve"]:
            if "effective_date" not in data.validated_data:
                raise serializers.ValidationError({"effective_date": "审定通过时必须填写生效日期。"})
            actions.assessment_approve(
                actor=request.user,
                assessment=assessment,
                effective_date=data.validated_data["effective_date"],
                reason=data.validated_data["reason"],
            )
        else:
            actions.assessment_reject(actor=request.user, assessment=assessment, reason=data.validated_data["reason"])
        assessment.refresh_from_db()
        return Response(self.get_serializer(assessment).data)
