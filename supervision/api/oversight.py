"""Supervision API: serious problems, rectification, complaints, spot checks."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from contracts.models import DeductionRule, Provider
from recipients.models import Recipient, Town
from shenxian_care.scoping import get_for_actor_or_404

from .. import actions, selectors
from ..filters import ComplaintFilter, RectificationFilter, SeriousProblemFilter, SpotCheckFilter
from ..models import (
    Complaint,
    ComplaintChannel,
    ComplaintPriority,
    ComplaintRoute,
    ProblemCategory,
    RectificationNotice,
    SeriousProblemReport,
    SpotCheck,
    SpotCheckDraw,
    SpotCheckMethod,
    SpotCheckResult,
)
from .common import ReasonSerializer, bureau_only

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
    filterset_class = SeriousProblemFilter
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
        report = self.get_object()  # not visible → 404 before the body is judged
        data = VerifySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        report = actions.serious_problem_verify(actor=request.user, report=report, **data.validated_data)
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
    filterset_class = RectificationFilter

    def get_queryset(self):
        return selectors.rectification_list(actor=self.request.user)

    @extend_schema(request=RectificationIssueSerializer, responses={201: RectificationSerializer})
    def create(self, request, *args, **kwargs):
        bureau_only(request)
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
        body = request.data if isinstance(request.data, dict) else {}  # a body that is not an object: no reason
        reason = body.get("reason", "")
        notice = actions.rectification_accept(
            actor=request.user, notice=self.get_object(), reason=reason if isinstance(reason, str) else ""
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
    filterset_class = ComplaintFilter

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
        complaint = self.get_object()  # not visible → 404 before the body is judged
        data = ComplaintCloseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        complaint = actions.complaint_close(actor=request.user, complaint=complaint, **data.validated_data)
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
    filterset_class = SpotCheckFilter

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
