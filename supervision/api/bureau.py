"""Supervision API: cross-check and takeover."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from contracts.models import Caregiver, Provider
from shenxian_care.scoping import get_for_actor_or_404

from .. import actions, selectors
from ..filters import CrossCheckHitFilter
from ..models import (
    CrossCheckHit,
    HalfYearReview,
    Takeover,
)

# --- cross-check and takeover --------------------------------------------------------------------------------


class CrossCheckHitSerializer(serializers.ModelSerializer):
    recipient_name = serializers.CharField(source="recipient.name", read_only=True)
    town_name = serializers.CharField(source="recipient.town.name", read_only=True)

    class Meta:
        model = CrossCheckHit
        fields = [
            "id", "batch", "row_number", "recipient", "recipient_name", "town_name", "event", "event_date",
            "visits_after", "status", "support_exit", "note",
        ]  # fmt: skip


class CrossCheckImportSerializer(serializers.Serializer):
    file = serializers.FileField()
    source = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class ConfirmExitSerializer(NoteSerializer):
    report_false_data = serializers.BooleanField(required=False, default=False)


class CrossCheckHitViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = CrossCheckHitSerializer
    filterset_class = CrossCheckHitFilter
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_queryset(self):
        return selectors.crosscheck_hit_list(actor=self.request.user)

    @extend_schema(request=CrossCheckImportSerializer, responses={201: CrossCheckHitSerializer(many=True)})
    @action(detail=False, methods=["post"], url_path="import")
    def import_list(self, request):
        """Import a list of deaths / cancelled registrations (.xlsx); all or nothing, errors per row."""
        data = CrossCheckImportSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        batch = actions.crosscheck_import(
            actor=request.user, content=upload.read(), file_name=upload.name, source=data.validated_data["source"]
        )
        hits = selectors.crosscheck_hit_list(actor=request.user, filters={"batch": batch})
        return Response(CrossCheckHitSerializer(hits, many=True).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ConfirmExitSerializer, responses=CrossCheckHitSerializer)
    @action(detail=True, methods=["post"], url_path="confirm-exit")
    def confirm_exit(self, request, pk=None):
        data = ConfirmExitSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        hit = actions.crosscheck_confirm_exit(actor=request.user, hit=self.get_object(), **data.validated_data)
        return Response(CrossCheckHitSerializer(hit).data)

    @extend_schema(request=NoteSerializer, responses=CrossCheckHitSerializer)
    @action(detail=True, methods=["post"])
    def dismiss(self, request, pk=None):
        data = NoteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        hit = actions.crosscheck_dismiss(actor=request.user, hit=self.get_object(), **data.validated_data)
        return Response(CrossCheckHitSerializer(hit).data)


class TakeoverSerializer(serializers.ModelSerializer):
    class Meta:
        model = Takeover
        fields = [
            "id", "review", "old_provider", "new_provider", "takeover_date", "status", "executed_at", "finished_at",
            "report", "errors",
        ]  # fmt: skip


class TakeoverCreateSerializer(serializers.Serializer):
    review = serializers.PrimaryKeyRelatedField(queryset=HalfYearReview.objects.all())
    new_provider = serializers.PrimaryKeyRelatedField(queryset=Provider.objects.all())
    takeover_date = serializers.DateField()
    caregivers = serializers.DictField(
        child=serializers.PrimaryKeyRelatedField(queryset=Caregiver.objects.all()),
        required=False,
        default=dict,
        help_text="镇（街道）ID → 接管机构的照料护理人ID；未列出的镇自动安排",
    )

    def validate_caregivers(self, value):
        """Town ids (the keys, text in JSON) as whole numbers."""
        try:
            return {int(town_id): caregiver for town_id, caregiver in value.items()}
        except (TypeError, ValueError):
            raise serializers.ValidationError("镇（街道）ID须为整数。") from None


class TakeoverViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = TakeoverSerializer

    def get_queryset(self):
        return Takeover.objects.for_actor(self.request.user).select_related("old_provider", "new_provider")

    @extend_schema(request=TakeoverCreateSerializer, responses={202: TakeoverSerializer})
    def create(self, request, *args, **kwargs):
        data = TakeoverCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        review = get_for_actor_or_404(HalfYearReview.objects.all(), request.user, pk=values.pop("review").pk)
        takeover = actions.takeover_request(
            actor=request.user, review=review, caregivers=values.pop("caregivers"), **values
        )
        # Accepted: the handover runs on a worker after commit; poll GET /takeovers/{id}/ for its status.
        return Response(TakeoverSerializer(takeover).data, status=status.HTTP_202_ACCEPTED)
