"""Supervision API: evaluations, reviews and notifications."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from contracts.models import Provider
from shenxian_care.validators import validate_plausible_date as plausible_date

from .. import actions, selectors
from ..dates import month_start
from ..filters import EvaluationFilter, ReviewFilter
from ..models import (
    Evaluation,
    HalfYearReview,
    Notification,
    ReviewDecision,
)
from .common import ReasonSerializer

# --- evaluations ---------------------------------------------------------------------------------------------


class EvaluationScoreSerializer(serializers.Serializer):
    item = serializers.IntegerField(source="item_id")
    code = serializers.CharField(source="item.code", read_only=True)
    score = serializers.DecimalField(max_digits=6, decimal_places=2, allow_null=True)
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class EvaluationRemarkSerializer(serializers.Serializer):
    recipient = serializers.IntegerField(source="recipient_id")
    remark = serializers.CharField(max_length=300)


class EvaluationSerializer(serializers.ModelSerializer):
    town_name = serializers.CharField(source="town.name", read_only=True)
    provider_name = serializers.CharField(source="provider.name", read_only=True)
    sheet_version = serializers.IntegerField(source="sheet.version", read_only=True)

    class Meta:
        model = Evaluation
        fields = [
            "id", "town", "town_name", "provider", "provider_name", "month", "sheet", "sheet_version", "status",
            "summary", "total_score", "submitted_at", "returned_reason",
        ]  # fmt: skip


class EvaluationDetailSerializer(EvaluationSerializer):
    scores = EvaluationScoreSerializer(many=True, read_only=True)
    remarks = EvaluationRemarkSerializer(many=True, read_only=True)

    class Meta(EvaluationSerializer.Meta):
        fields = [*EvaluationSerializer.Meta.fields, "scores", "remarks"]


class EvaluationStartSerializer(serializers.Serializer):
    provider = serializers.PrimaryKeyRelatedField(queryset=Provider.objects.all())
    month = serializers.DateField()


class EvaluationSaveSerializer(serializers.Serializer):
    summary = serializers.CharField(required=False, allow_blank=True, default="")
    scores = EvaluationScoreSerializer(many=True)
    remarks = EvaluationRemarkSerializer(many=True, required=False)


class MissingQuerySerializer(serializers.Serializer):
    month = serializers.DateField(
        help_text="YYYY-MM-DD（该月任一天）",
        validators=[plausible_date],
        error_messages={"required": "请提供月份，例如 2026-10-01。", "invalid": "请提供月份，例如 2026-10-01。"},
    )


class EvaluationViewSet(viewsets.ReadOnlyModelViewSet):
    filterset_class = EvaluationFilter

    def get_queryset(self):
        return selectors.evaluation_list(actor=self.request.user)

    def get_serializer_class(self):
        return EvaluationDetailSerializer if self.action != "list" else EvaluationSerializer

    def get_object(self):
        return selectors.evaluation_get_for_actor(actor=self.request.user, pk=self.kwargs["pk"])

    @extend_schema(request=EvaluationStartSerializer, responses=EvaluationDetailSerializer)
    @action(detail=False, methods=["post"])
    def start(self, request):
        data = EvaluationStartSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        evaluation = actions.evaluation_start(
            actor=request.user, town=request.user.town, provider=data.validated_data["provider"],
            month=data.validated_data["month"],
        )  # fmt: skip
        evaluation = selectors.evaluation_get_for_actor(actor=request.user, pk=evaluation.pk)
        return Response(EvaluationDetailSerializer(evaluation).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=EvaluationSaveSerializer, responses=EvaluationDetailSerializer)
    @action(detail=True, methods=["post"])
    def save(self, request, pk=None):
        evaluation = self.get_object()
        data = EvaluationSaveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        actions.evaluation_save(
            actor=request.user,
            evaluation=evaluation,
            summary=data.validated_data["summary"],
            scores={row["item_id"]: (row["score"], row.get("note", "")) for row in data.validated_data["scores"]},
            remarks=[(r["recipient_id"], r["remark"]) for r in data.validated_data["remarks"]]
            if "remarks" in data.validated_data
            else None,
        )
        return Response(EvaluationDetailSerializer(self.get_object()).data)

    @extend_schema(request=None, responses=EvaluationDetailSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        actions.evaluation_submit(actor=request.user, evaluation=self.get_object())
        return Response(EvaluationDetailSerializer(self.get_object()).data)

    @extend_schema(request=ReasonSerializer, responses=EvaluationDetailSerializer)
    @action(detail=True, methods=["post"], url_path="return")
    def return_for_correction(self, request, pk=None):
        data = ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        actions.evaluation_return(
            actor=request.user, evaluation=self.get_object(), reason=data.validated_data["reason"]
        )
        return Response(EvaluationDetailSerializer(self.get_object()).data)

    @extend_schema(
        parameters=[MissingQuerySerializer],
        responses={200: {"type": "array", "items": {"type": "object"}}},
    )
    @action(detail=False, methods=["get"])
    def missing(self, request):
        query = MissingQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = selectors.evaluation_missing(actor=request.user, month=month_start(query.validated_data["month"]))
        return Response(
            [
                {
                    "town": r["town"].pk,
                    "town_name": r["town"].name,
                    "provider": r["provider"].pk,
                    "provider_name": r["provider"].name,
                    "evaluation": r["evaluation"].pk if r["evaluation"] else None,
                    "status": r["evaluation"].status if r["evaluation"] else None,
                }
                for r in rows
            ]
        )


# --- reviews and notifications -------------------------------------------------------------------------------


class ReviewSerializer(serializers.ModelSerializer):
    provider_name = serializers.CharField(source="provider.name", read_only=True)

    class Meta:
        model = HalfYearReview
        fields = [
            "id", "provider", "provider_name", "half", "period_start", "period_end", "figures", "evaluation_average",
            "veto", "veto_reasons", "proposal", "proposal_reasons", "status", "decision", "decision_reason",
            "decided_at", "built_at",
        ]  # fmt: skip


class DecideSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=ReviewDecision.choices)
    reason = serializers.CharField(max_length=300)


class ReviewViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ReviewSerializer
    filterset_class = ReviewFilter

    def get_queryset(self):
        return selectors.review_list(actor=self.request.user)

    @extend_schema(request=DecideSerializer, responses=ReviewSerializer)
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        data = DecideSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        review = actions.review_decide(actor=request.user, review=self.get_object(), **data.validated_data)
        return Response(ReviewSerializer(review).data)


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "kind", "town", "provider", "message", "times_sent", "last_sent_at", "read_at"]


class NotificationViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = NotificationSerializer

    def get_queryset(self):
        return selectors.notification_list(actor=self.request.user)

    @extend_schema(request=None, responses=NotificationSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        note = actions.notification_mark_read(actor=request.user, notification=self.get_object())
        return Response(NotificationSerializer(note).data)
