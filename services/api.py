"""Visits API (/api/v1/visits/…) for the caregivers' phones and the bureau. Thin: validate, call, serialize.

Every write is idempotent on the client-generated id: a retry of a check-in, check-out, emergency or photo
returns what the first request made (200 instead of 201), never a second record. The same id sent again with
other content is a conflict (409, with the record saved and what was sent), never silently the first record.
"""

import copy
from collections.abc import Mapping

from django.core.exceptions import ImproperlyConfigured
from django.core.exceptions import ValidationError as DjangoValidationError
from django_filters.utils import translate_validation
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.fields import SkipField, get_error_detail
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from contracts.models import Agreement
from shenxian_care.exceptions import ConflictError
from shenxian_care.pagination import LargeTablePagination
from shenxian_care.scoping import get_for_actor_or_404
from shenxian_care.throttling import VisitUploadRateThrottle

from . import actions, selectors
from .actions import MAX_ACCURACY_M
from .filters import CaregiverDayFilter, VisitFilter
from .models import ServiceItem, Visit, VisitKind, VisitPhoto


class VisitSerializer(serializers.ModelSerializer):
    recipient_name = serializers.CharField(source="recipient.name", read_only=True)
    caregiver_name = serializers.CharField(source="caregiver.name", read_only=True)
    provider_name = serializers.CharField(source="provider.name", read_only=True)
    town_name = serializers.CharField(source="town.name", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    exception_labels = serializers.ListField(source="reason_labels", child=serializers.CharField(), read_only=True)
    photo_count = serializers.IntegerField(read_only=True, default=0)

    class Meta:
        model = Visit
        fields = [
            "client_id",
            "kind",
            "recipient",
            "recipient_name",
            "caregiver",
            "caregiver_name",
            "provider",
            "provider_name",
            "town",
            "town_name",
            "agreement",
            "visit_date",
            "started_at",
            "ended_at",
            "duration_minutes",
            "checkin_latitude",
            "checkin_longitude",
            "checkin_distance_m",
            "service_items",
            "note",
            "emergency_what",
            "emergency_called",
            "status",
            "status_label",
            "exception_reasons",
            "exception_labels",
            "received_at",
            "checkout_received_at",
            "synced_late",
            "confirmed_at",
            "confirmation_method",
            "review_reason",
            "photo_count",
        ]
        read_only_fields = fields

    def get_fields(self):
        # DRF works a ModelSerializer's fields out from the model for every instance, each answer (about 2 ms of a
        # check-in's or check-out's response): they depend on Meta alone, so they are worked out once and copied, as
        # DRF copies declared fields
        built = type(self).__dict__.get("_built_fields")
        if built is None:
            built = super().get_fields()
            type(self)._built_fields = built
        return copy.deepcopy(built)


class CheckInSerializer(serializers.Serializer):
    client_id = serializers.UUIDField()
    recipient = serializers.IntegerField()
    started_at = serializers.DateTimeField()
    latitude = serializers.FloatField(required=False, allow_null=True)
    longitude = serializers.FloatField(required=False, allow_null=True)
    accuracy_m = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=MAX_ACCURACY_M)
    offline = serializers.BooleanField(required=False, default=False)


class CheckOutSerializer(serializers.Serializer):
    ended_at = serializers.DateTimeField()
    service_items = serializers.ListField(child=serializers.ChoiceField(ServiceItem.choices), allow_empty=False)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    latitude = serializers.FloatField(required=False, allow_null=True)
    longitude = serializers.FloatField(required=False, allow_null=True)
    offline = serializers.BooleanField(required=False, default=False)


class EmergencySerializer(serializers.Serializer):
    client_id = serializers.UUIDField()
    recipient = serializers.IntegerField()
    started_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField(required=False, allow_null=True)
    what = serializers.CharField(max_length=2000)
    called = serializers.CharField(max_length=200)
    latitude = serializers.FloatField(required=False, allow_null=True)
    longitude = serializers.FloatField(required=False, allow_null=True)
    offline = serializers.BooleanField(required=False, default=False)


class SyncItemSerializer(serializers.Serializer):
    """A whole visit, a check-in, an emergency, or a check-out alone (`client_id`, `ended_at`, `service_items`;
    no `recipient` or `started_at`) of a visit checked in before."""

    client_id = serializers.UUIDField()
    kind = serializers.ChoiceField(VisitKind.choices, default=VisitKind.REGULAR)
    recipient = serializers.IntegerField(required=False, allow_null=True)
    started_at = serializers.DateTimeField(required=False, allow_null=True)
    ended_at = serializers.DateTimeField(required=False, allow_null=True)
    latitude = serializers.FloatField(required=False, allow_null=True)
    longitude = serializers.FloatField(required=False, allow_null=True)
    accuracy_m = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=MAX_ACCURACY_M)
    checkout_latitude = serializers.FloatField(required=False, allow_null=True)
    checkout_longitude = serializers.FloatField(required=False, allow_null=True)
    service_items = serializers.ListField(child=serializers.ChoiceField(ServiceItem.choices), required=False)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    what = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    called = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    offline = serializers.BooleanField(required=False, default=False)

    def to_internal_value(self, data):
        # DRF's Serializer.to_internal_value, branch for branch, for fields that each read and write their own key
        # and have no validate_<field> method (all of this serializer's): a phone's batch validates up to 200 items
        # with it, and DRF's general loop looks those up again for every field of every item
        if not isinstance(data, Mapping):
            return super().to_internal_value(data)
        ret, errors = {}, {}
        for name, get_value, run_validation in self._keyed_fields():
            try:
                ret[name] = run_validation(get_value(data))
            except ValidationError as exc:
                errors[name] = exc.detail
            except DjangoValidationError as exc:
                errors[name] = get_error_detail(exc)
            except SkipField:
                pass
        if errors:
            raise ValidationError(errors)
        return ret

    def run_validators(self, value):
        # DRF's adds the read-only fields' defaults to the item, then runs the serializer's validators: there are
        # neither (_keyed_fields says so)
        self._keyed_fields()

    def _keyed_fields(self):
        fields = self.__dict__.get("_keyed")
        if fields is None:
            writable = list(self._writable_fields)
            if len(writable) != len(self.fields) or self.validators:
                raise ImproperlyConfigured("SyncItemSerializer: a read-only field or a validator needs DRF's own loop")
            if any(f.source_attrs != [f.field_name] or hasattr(self, f"validate_{f.field_name}") for f in writable):
                raise ImproperlyConfigured("SyncItemSerializer: a field with a source or a validate_ method")
            fields = self._keyed = [(f.field_name, f.get_value, f.run_validation) for f in writable]
        return fields


class SyncSerializer(serializers.Serializer):
    visits = SyncItemSerializer(many=True, max_length=200)


class ConflictSerializer(serializers.Serializer):
    """409: the client id was received before with other content. Both records, so a phone bug cannot hide."""

    detail = serializers.CharField()
    field = serializers.CharField()
    existing = VisitSerializer(help_text="已保存的记录（未改动）")
    sent = serializers.DictField(help_text="本次发送的内容")


class SyncResultSerializer(serializers.Serializer):
    """What the phone needs back per record (GET /visits/{client_id}/ has the rest). A "conflict" carries the
    record as saved (`existing`) and the item sent (`sent`)."""

    client_id = serializers.CharField()
    outcome = serializers.ChoiceField(["created", "finished", "existing", "conflict", "error"])
    detail = serializers.CharField()
    status = serializers.CharField(allow_null=True)
    exception_reasons = serializers.ListField(child=serializers.CharField())
    duration_minutes = serializers.IntegerField(allow_null=True)
    synced_late = serializers.BooleanField(allow_null=True)
    existing = VisitSerializer(required=False)
    sent = serializers.DictField(required=False)


class PhotoSerializer(serializers.Serializer):
    client_id = serializers.UUIDField(required=False)
    image = serializers.FileField()


class PhotoOutSerializer(serializers.ModelSerializer):
    class Meta:
        model = VisitPhoto
        fields = ["client_id", "content_type", "size_bytes", "uploaded_at"]


class ConfirmSerializer(serializers.Serializer):
    code = serializers.CharField(required=False, allow_blank=True, default="")
    signature = serializers.FileField(required=False)


class ReviewSerializer(serializers.Serializer):
    accept = serializers.BooleanField()
    reason = serializers.CharField(max_length=200)


class AssignmentSerializer(serializers.Serializer):
    agreement = serializers.IntegerField()
    recipient = serializers.IntegerField()
    name = serializers.CharField()
    address = serializers.CharField()
    village = serializers.CharField()
    level = serializers.CharField(allow_null=True)
    level_label = serializers.CharField()
    required = serializers.IntegerField()
    done = serializers.IntegerField()
    remaining = serializers.IntegerField()
    open_visit = serializers.UUIDField(allow_null=True)


def _sent(data):
    return data.dict() if hasattr(data, "dict") else dict(data)


def _conflict(exc, sent):
    body = {"detail": exc.message, "field": exc.field, "existing": VisitSerializer(exc.existing).data, "sent": sent}
    return Response(body, status=status.HTTP_409_CONFLICT)


def _created(visit, created):
    return Response(VisitSerializer(visit).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class VisitViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Visits the user may see: a caregiver their own, a provider its caregivers', a town its territory's.

    The list's `count` of a whole large table (the bureau's list, unfiltered, 200,000 visits or more on
    PostgreSQL) is the database's estimate, not an exact count (shenxian_care.pagination)."""

    serializer_class = VisitSerializer
    filterset_class = VisitFilter
    lookup_field = "client_id"
    # the bureau's unfiltered list counts the whole table by the planner's estimate once it is large
    pagination_class = LargeTablePagination
    # what a caregiver's phone sends (its offline queue replays these one by one) has an allowance of its own
    upload_actions = {"check_in", "check_out", "emergency", "sync", "photos", "confirm"}
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_throttles(self):
        if self.action in self.upload_actions:
            return [VisitUploadRateThrottle()]
        return super().get_throttles()

    def get_queryset(self):
        return selectors.visit_list(actor=self.request.user)

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        return selectors.with_photo_counts(page) if page is not None else None

    def get_object(self):
        visit = super().get_object()
        selectors.with_photo_counts([visit])
        return visit

    def _visit(self):
        return get_for_actor_or_404(Visit.objects.all(), self.request.user, client_id=self.kwargs["client_id"])

    @extend_schema(
        request=CheckInSerializer, responses={200: VisitSerializer, 201: VisitSerializer, 409: ConflictSerializer}
    )
    @action(detail=False, methods=["post"], url_path="check-in")
    def check_in(self, request):
        data = CheckInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        d = data.validated_data
        try:
            visit, created = actions.visit_check_in(
                actor=request.user,
                client_id=d["client_id"],
                recipient_id=d["recipient"],
                started_at=d["started_at"],
                latitude=d.get("latitude"),
                longitude=d.get("longitude"),
                accuracy_m=d.get("accuracy_m"),
                offline=d["offline"],
            )
        except ConflictError as exc:
            return _conflict(exc, _sent(request.data))
        return _created(visit, created)

    @extend_schema(request=CheckOutSerializer, responses={200: VisitSerializer, 409: ConflictSerializer})
    @action(detail=True, methods=["post"], url_path="check-out")
    def check_out(self, request, client_id=None):
        data = CheckOutSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        d = data.validated_data
        try:
            visit = actions.visit_check_out(
                actor=request.user,
                visit_client_id=client_id,
                ended_at=d["ended_at"],
                service_items=d["service_items"],
                note=d["note"],
                latitude=d.get("latitude"),
                longitude=d.get("longitude"),
                offline=d["offline"],
            )
        except ConflictError as exc:
            return _conflict(exc, _sent(request.data))
        return Response(VisitSerializer(visit).data)

    @extend_schema(
        request=EmergencySerializer, responses={200: VisitSerializer, 201: VisitSerializer, 409: ConflictSerializer}
    )
    @action(detail=False, methods=["post"])
    def emergency(self, request):
        data = EmergencySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        d = data.validated_data
        try:
            visit, created = actions.visit_log_emergency(
                actor=request.user,
                client_id=d["client_id"],
                recipient_id=d["recipient"],
                started_at=d["started_at"],
                ended_at=d.get("ended_at"),
                what=d["what"],
                called=d["called"],
                latitude=d.get("latitude"),
                longitude=d.get("longitude"),
                offline=d["offline"],
            )
        except ConflictError as exc:
            return _conflict(exc, _sent(request.data))
        return _created(visit, created)

    @extend_schema(
        request=SyncSerializer,
        responses={200: SyncResultSerializer(many=True), 409: SyncResultSerializer(many=True)},
    )
    @action(detail=False, methods=["post"])
    def sync(self, request):
        """A phone's offline queue in one request (up to 200 visits); idempotent per client id. The other items
        are recorded as usual, but if any item conflicts with what its client id already holds the answer is
        409 (each result says which), so the phone cannot take it for a success."""
        data = SyncSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        items = data.validated_data["visits"]
        results = actions.visit_sync(actor=request.user, items=items)
        raw = request.data.get("visits") or []
        answers = []
        for i, (item, (visit, outcome, message)) in enumerate(zip(items, results, strict=True)):
            answer = {
                "client_id": str(item["client_id"]),
                "outcome": outcome,
                "detail": message,
                "status": visit.status if visit else None,
                "exception_reasons": list(visit.exception_reasons) if visit else [],
                "duration_minutes": visit.duration_minutes if visit else None,
                "synced_late": visit.synced_late if visit else None,
            }
            if outcome == "conflict":
                answer["existing"] = VisitSerializer(visit).data
                answer["sent"] = raw[i] if i < len(raw) and isinstance(raw[i], dict) else {}
            answers.append(answer)
        conflict = any(a["outcome"] == "conflict" for a in answers)
        return Response(answers, status=status.HTTP_409_CONFLICT if conflict else status.HTTP_200_OK)

    @extend_schema(request={"multipart/form-data": PhotoSerializer}, responses={200: PhotoOutSerializer})
    @action(detail=True, methods=["post"])
    def photos(self, request, client_id=None):
        self.get_object()  # not visible → 404 before the photo is judged
        data = PhotoSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        photo, created = actions.visit_photo_add(
            actor=request.user,
            visit_client_id=client_id,
            upload=data.validated_data["image"],
            client_id=data.validated_data.get("client_id"),
        )
        return Response(
            PhotoOutSerializer(photo).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )

    @extend_schema(request={"multipart/form-data": ConfirmSerializer}, responses={200: VisitSerializer})
    @action(detail=True, methods=["post"])
    def confirm(self, request, client_id=None):
        data = ConfirmSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        visit = actions.visit_confirm(
            actor=request.user,
            visit_client_id=client_id,
            code=data.validated_data["code"],
            signature=data.validated_data.get("signature"),
        )
        return Response(VisitSerializer(visit).data)

    @extend_schema(request=ReviewSerializer, responses={200: VisitSerializer})
    @action(detail=True, methods=["post"])
    def review(self, request, client_id=None):
        data = ReviewSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        visit = actions.visit_review(
            actor=request.user,
            visit=self._visit(),
            accept=data.validated_data["accept"],
            reason=data.validated_data["reason"],
        )
        return Response(VisitSerializer(visit).data)

    @extend_schema(
        responses={200: AssignmentSerializer(many=True)},
        parameters=[OpenApiParameter("q", str, description="按姓名查找（姓名包含此内容）")],
    )
    @action(detail=False, methods=["get"], pagination_class=None)
    def today(self, request):
        """The caregiver's assigned recipients today, ordered by need, with what the month still needs."""
        day_filter = CaregiverDayFilter(request.query_params, queryset=Agreement.objects.none())
        if not day_filter.is_valid():
            raise translate_validation(day_filter.errors)
        query = (day_filter.form.cleaned_data.get("q") or "").strip()
        rows = selectors.caregiver_day(actor=request.user, filters={"q": query} if query else None)
        return Response(AssignmentSerializer(rows, many=True).data)
