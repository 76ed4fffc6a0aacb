"""Supervision API (/api/v1/supervision/...): scoped like the pages; writes go through the actions."""

from django.core.exceptions import PermissionDenied
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from contracts.models import Caregiver, DeductionRule, Provider
from recipients.models import Recipient, Town
from shenxian_care.models import Role
from shenxian_care.scoping import actor_role, get_for_actor_or_404

from . import actions, selectors
from .dates import month_start
from .models import (
    Complaint,
    ComplaintChannel,
    ComplaintPriority,
    ComplaintRoute,
    CrossCheckHit,
    Evaluation,
    HalfYearReview,
    Notification,
    ProblemCategory,
    RectificationNotice,
    ReviewDecision,
    SeriousProblemReport,
    SpotCheck,
    SpotCheckDraw,
    SpotCheckMethod,
    SpotCheckResult,
    Takeover,
)


def _bureau_only(request):
    if actor_role(request.user) != Role.BUREAU:
        raise PermissionDenied("您的角色无权执行此操作。")


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


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


class EvaluationViewSet(viewsets.ReadOnlyModelViewSet):
    filterset_fields = ["status", "town", "provider", "month"]

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
        parameters=[OpenApiParameter("month", str, description="YYYY-MM-DD（该月任一天）", required=True)],
        responses={200: {"type": "array", "items": {"type": "object"}}},
    )
    @action(detail=False, methods=["get"])
    def missing(self, request):
        try:
            month = month_start(serializers.DateField().to_internal_value(request.query_params.get("month")))
        except serializers.ValidationError:
            return Response({"month": ["请提供月份，例如 2026-10-01。"]}, status=status.HTTP_400_BAD_REQUEST)
        rows = selectors.evaluation_missing(actor=request.user, month=month)
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


# --- serious problems ----------------------------------------------------------------------------------------


class SeriousProblemSerializer(serializers.ModelSerializer):
    town_name = serializers.CharField(source="town.name", read_only=True)
    provider_name = serializers.CharField(source="provider.name", read_only=True)
    deduction_amount = serializers.DecimalField(
        source="deduction.amount", max_digits=12, decimal_places=2, read_only=True, allow_null=True
    )

    class Meta:
        model = SeriousProblemReport
        fields = [
            "id", "town", "town_name", "provider", "provider_name", "recipient", "category", "occurred_on",
            "description", "status", "reported_at", "verified_on", "decision_reason", "deduction_amount",
        ]  # fmt: skip


class SeriousProblemCreateSerializer(serializers.Serializer):
    provider = serializers.PrimaryKeyRelatedField(queryset=Provider.objects.all())
    town = serializers.PrimaryKeyRelatedField(queryset=Town.objects.all(), required=False, allow_null=True)
    recipient = serializers.PrimaryKeyRelatedField(queryset=Recipient.objects.all(), required=False, allow_null=True)
    category = serializers.ChoiceField(choices=ProblemCategory.choices, default=ProblemCategory.QUALITY)
    occurred_on = serializers.DateField()
    description = serializers.CharField()
    photos = serializers.ListField(child=serializers.ImageField(), required=False, default=list)


class VerifySerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)
    rule = serializers.PrimaryKeyRelatedField(queryset=DeductionRule.objects.all())
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, required=False, allow_null=True)
    amount_changed_reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    verified_on = serializers.DateField(required=False, allow_null=True)
    rectification_deadline = serializers.DateField(required=False, allow_null=True)


class SeriousProblemViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = SeriousProblemSerializer
    filterset_fields = ["status", "town", "provider", "category"]
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_queryset(self):
        return selectors.serious_problem_list(actor=self.request.user)

    def _recipient_visible(self, recipient):
        if recipient is not None:
            get_for_actor_or_404(Recipient.objects.all(), self.request.user, pk=recipient.pk)
        return recipient

    @extend_schema(request=SeriousProblemCreateSerializer, responses={201: SeriousProblemSerializer})
    def create(self, request, *args, **kwargs):
        data = SeriousProblemCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        values["recipient"] = self._recipient_visible(values.get("recipient"))
        report = actions.serious_problem_report(actor=request.user, **values)
        return Response(SeriousProblemSerializer(report).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=VerifySerializer, responses=SeriousProblemSerializer)
    @action(detail=True, methods=["post"])
    def verify(self, request, pk=None):
        data = VerifySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        report = actions.serious_problem_verify(actor=request.user, report=self.get_object(), **data.validated_data)
        return Response(SeriousProblemSerializer(report).data)

    @extend_schema(request=ReasonSerializer, responses=SeriousProblemSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        data = ReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        report = actions.serious_problem_reject(
            actor=request.user, report=self.get_object(), reason=data.validated_data["reason"]
        )
        return Response(SeriousProblemSerializer(report).data)


# --- rectification -------------------------------------------------------------------------------------------


class RectificationSerializer(serializers.ModelSerializer):
    provider_name = serializers.CharField(source="provider.name", read_only=True)

    class Meta:
        model = RectificationNotice
        fields = [
            "id", "number", "provider", "provider_name", "town", "recipient", "source", "problem", "issued_on",
            "deadline", "status", "answer", "answered_at", "review_reason", "overdue_on", "times_returned",
        ]  # fmt: skip


class RectificationIssueSerializer(serializers.Serializer):
    provider = serializers.PrimaryKeyRelatedField(queryset=Provider.objects.all())
    town = serializers.PrimaryKeyRelatedField(queryset=Town.objects.all(), required=False, allow_null=True)
    problem = serializers.CharField()
    deadline = serializers.DateField()
    spot_check = serializers.PrimaryKeyRelatedField(queryset=SpotCheck.objects.all(), required=False, allow_null=True)
    complaint = serializers.PrimaryKeyRelatedField(queryset=Complaint.objects.all(), required=False, allow_null=True)


class AnswerSerializer(serializers.Serializer):
    answer = serializers.CharField()


class SendBackSerializer(ReasonSerializer):
    deadline = serializers.DateField(required=False, allow_null=True)


class RectificationViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = RectificationSerializer
    filterset_fields = ["status", "provider", "town", "source"]

    def get_queryset(self):
        return selectors.rectification_list(actor=self.request.user)

    @extend_schema(request=RectificationIssueSerializer, responses={201: RectificationSerializer})
    def create(self, request, *args, **kwargs):
        _bureau_only(request)
        data = RectificationIssueSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        notice = actions.rectification_issue(actor=request.user, **data.validated_data)
        return Response(RectificationSerializer(notice).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=AnswerSerializer, responses=RectificationSerializer)
    @action(detail=True, methods=["post"])
    def answer(self, request, pk=None):
        data = AnswerSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        notice = actions.rectification_answer(
            actor=request.user, notice=self.get_object(), answer=data.validated_data["answer"]
        )
        return Response(RectificationSerializer(notice).data)

    @extend_schema(request=None, responses=RectificationSerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        notice = actions.rectification_accept(
            actor=request.user, notice=self.get_object(), reason=request.data.get("reason", "")
        )
        return Response(RectificationSerializer(notice).data)

    @extend_schema(request=SendBackSerializer, responses=RectificationSerializer)
    @action(detail=True, methods=["post"], url_path="send-back")
    def send_back(self, request, pk=None):
        data = SendBackSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        notice = actions.rectification_send_back(actor=request.user, notice=self.get_object(), **data.validated_data)
        return Response(RectificationSerializer(notice).data)


# --- complaints ----------------------------------------------------------------------------------------------


class ComplaintSerializer(serializers.ModelSerializer):
    town_name = serializers.CharField(source="town.name", read_only=True)
    provider_name = serializers.CharField(source="provider.name", read_only=True, allow_null=True)

    class Meta:
        model = Complaint
        fields = [
            "id", "number", "channel", "priority", "received_on", "due_date", "town", "town_name", "provider",
            "provider_name", "recipient", "content", "route_to", "status", "answer", "answered_at", "founded",
            "close_note",
        ]  # fmt: skip


class ComplaintCreateSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=ComplaintChannel.choices)
    priority = serializers.ChoiceField(choices=ComplaintPriority.choices, default=ComplaintPriority.NORMAL)
    town = serializers.PrimaryKeyRelatedField(queryset=Town.objects.all())
    provider = serializers.PrimaryKeyRelatedField(queryset=Provider.objects.all(), required=False, allow_null=True)
    recipient = serializers.PrimaryKeyRelatedField(queryset=Recipient.objects.all(), required=False, allow_null=True)
    content = serializers.CharField()
    route_to = serializers.ChoiceField(choices=ComplaintRoute.choices)
    received_on = serializers.DateField(required=False, allow_null=True)
    due_date = serializers.DateField(required=False, allow_null=True)
    complainant_name = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
    complainant_phone = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")


class ComplaintCloseSerializer(serializers.Serializer):
    founded = serializers.BooleanField()
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    rectification_deadline = serializers.DateField(required=False, allow_null=True)
    raise_serious_problem = serializers.BooleanField(required=False, default=False)
    problem_category = serializers.ChoiceField(choices=ProblemCategory.choices, default=ProblemCategory.QUALITY)


class ComplaintViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = ComplaintSerializer
    filterset_fields = ["status", "town", "provider", "channel", "priority", "route_to"]

    def get_queryset(self):
        return selectors.complaint_list(actor=self.request.user)

    @extend_schema(request=ComplaintCreateSerializer, responses={201: ComplaintSerializer})
    def create(self, request, *args, **kwargs):
        data = ComplaintCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        complaint = actions.complaint_log(actor=request.user, **data.validated_data)
        return Response(ComplaintSerializer(complaint).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=AnswerSerializer, responses=ComplaintSerializer)
    @action(detail=True, methods=["post"])
    def answer(self, request, pk=None):
        data = AnswerSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        complaint = actions.complaint_answer(
            actor=request.user, complaint=self.get_object(), answer=data.validated_data["answer"]
        )
        return Response(ComplaintSerializer(complaint).data)

    @extend_schema(request=ComplaintCloseSerializer, responses=ComplaintSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        data = ComplaintCloseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        complaint = actions.complaint_close(actor=request.user, complaint=self.get_object(), **data.validated_data)
        return Response(ComplaintSerializer(complaint).data)


# --- spot checks ---------------------------------------------------------------------------------------------


class SpotCheckSerializer(serializers.ModelSerializer):
    class Meta:
        model = SpotCheck
        fields = [
            "id", "draw", "recipient", "town", "provider", "method", "checked_on", "result", "finding", "answers",
        ]  # fmt: skip


class SpotCheckCreateSerializer(serializers.Serializer):
    recipient = serializers.PrimaryKeyRelatedField(queryset=Recipient.objects.all())
    method = serializers.ChoiceField(choices=SpotCheckMethod.choices)
    result = serializers.ChoiceField(choices=SpotCheckResult.choices)
    checked_on = serializers.DateField(required=False, allow_null=True)
    finding = serializers.CharField(required=False, allow_blank=True, default="")
    answers = serializers.DictField(child=serializers.CharField(), required=False, default=dict)
    draw = serializers.PrimaryKeyRelatedField(queryset=SpotCheckDraw.objects.all(), required=False, allow_null=True)


class SpotCheckViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = SpotCheckSerializer
    filterset_fields = ["method", "result", "town", "provider", "draw"]

    def get_queryset(self):
        return selectors.spot_check_list(actor=self.request.user)

    @extend_schema(request=SpotCheckCreateSerializer, responses={201: SpotCheckSerializer})
    def create(self, request, *args, **kwargs):
        data = SpotCheckCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        get_for_actor_or_404(Recipient.objects.all(), request.user, pk=values["recipient"].pk)
        check = actions.spot_check_record(actor=request.user, **values)
        return Response(SpotCheckSerializer(check).data, status=status.HTTP_201_CREATED)


class SpotCheckDrawSerializer(serializers.ModelSerializer):
    class Meta:
        model = SpotCheckDraw
        fields = ["id", "drawn_on", "town", "provider", "level", "size", "percentage", "seed", "population", "sample"]
        read_only_fields = ["population", "sample"]
        extra_kwargs = {"seed": {"required": False}, "drawn_on": {"required": False}}


class SpotCheckDrawViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = SpotCheckDrawSerializer

    def get_queryset(self):
        return selectors.spot_check_draw_list(actor=self.request.user)

    def create(self, request, *args, **kwargs):
        data = SpotCheckDrawSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        draw = actions.spot_check_draw(
            actor=request.user, day=v.get("drawn_on"), town=v.get("town"), provider=v.get("provider"),
            level=v.get("level", ""), size=v.get("size"), percentage=v.get("percentage"), seed=v.get("seed"),
        )  # fmt: skip
        return Response(SpotCheckDrawSerializer(draw).data, status=status.HTTP_201_CREATED)


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
    filterset_fields = ["half", "status", "provider", "proposal", "decision", "veto"]

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


class CrossCheckHitViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = CrossCheckHitSerializer
    filterset_fields = ["batch", "status"]
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

    @extend_schema(request=NoteSerializer, responses=CrossCheckHitSerializer)
    @action(detail=True, methods=["post"], url_path="confirm-exit")
    def confirm_exit(self, request, pk=None):
        data = NoteSerializer(data=request.data)
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
        fields = ["id", "review", "old_provider", "new_provider", "takeover_date", "executed_at", "report"]


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


class TakeoverViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = TakeoverSerializer

    def get_queryset(self):
        return Takeover.objects.for_actor(self.request.user).select_related("old_provider", "new_provider")

    @extend_schema(request=TakeoverCreateSerializer, responses={201: TakeoverSerializer})
    def create(self, request, *args, **kwargs):
        data = TakeoverCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        review = get_for_actor_or_404(HalfYearReview.objects.all(), request.user, pk=values.pop("review").pk)
        caregivers = {int(town_id): caregiver for town_id, caregiver in values.pop("caregivers").items()}
        takeover = actions.takeover_execute(actor=request.user, review=review, caregivers=caregivers, **values)
        return Response(TakeoverSerializer(takeover).data, status=status.HTTP_201_CREATED)
