"""The bureau's admin for visits: the service standard it edits, GPS rules it approves, exceptions it reviews,
corrections it decides. Statuses are read-only here; every change goes through an action."""

from django.contrib import admin, messages

from shenxian_care.admin_mixins import ScopedAdminMixin
from shenxian_care.exceptions import ApplicationError
from shenxian_care.pagination import LargeTablePaginator

from . import actions
from .models import (
    CorrectionStatus,
    GpsRuleStatus,
    PlannedVisit,
    RecipientGpsRule,
    ServiceStandard,
    Visit,
    VisitCorrection,
    VisitFlag,
    VisitPhoto,
    VisitStatus,
)


def _run(modeladmin, request, queryset, fn, done):
    count = 0
    for obj in queryset:
        try:
            fn(obj)
            count += 1
        except ApplicationError as exc:
            modeladmin.message_user(request, f"{obj}：{exc.message}", level=messages.ERROR)
    if count:
        modeladmin.message_user(request, f"{done} {count} 条。", level=messages.SUCCESS)


@admin.register(ServiceStandard)
class ServiceStandardAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = (
        "effective_month",
        "visits_self_care",
        "visits_partial",
        "visits_full",
        "minimum_minutes",
        "radius_m",
        "late_logging_hours",
        "plan_grace_minutes",
        "overdue_days",
        "confirmation_mode",
    )
    list_filter = ("confirmation_mode",)
    search_fields = ("note",)
    fieldsets = (
        (None, {"fields": ("effective_month", "note")}),
        ("每月最少上门次数", {"fields": ("visits_self_care", "visits_partial", "visits_full")}),
        ("核验规则", {"fields": ("minimum_minutes", "radius_m", "late_logging_hours")}),
        ("提醒", {"fields": ("plan_grace_minutes", "overdue_days")}),
        ("服务对象确认", {"fields": ("confirmation_mode",)}),
    )


@admin.register(RecipientGpsRule)
class RecipientGpsRuleAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = (
        "recipient",
        "gps_exempt",
        "radius_m",
        "reason",
        "status",
        "requested_by",
        "requested_at",
        "decided_by",
    )
    list_filter = ("status", "gps_exempt")
    search_fields = ("recipient__name", "reason")
    list_select_related = ("recipient", "requested_by", "decided_by")
    raw_id_fields = ("recipient",)
    readonly_fields = ("status", "requested_by", "requested_at", "decided_by", "decided_at", "decision_note")
    actions = ("approve", "reject")

    def save_model(self, request, obj, form, change):
        rule = actions.gps_rule_request(
            actor=request.user,
            recipient=obj.recipient,
            reason=obj.reason,
            gps_exempt=obj.gps_exempt,
            radius_m=obj.radius_m,
        )
        obj.pk = rule.pk

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    @admin.action(description="批准所选申请")
    def approve(self, request, queryset):
        _run(
            self,
            request,
            queryset.filter(status=GpsRuleStatus.PENDING),
            lambda r: actions.gps_rule_decide(actor=request.user, rule=r, approve=True, note="批准"),
            "已批准",
        )

    @admin.action(description="不批准所选申请")
    def reject(self, request, queryset):
        _run(
            self,
            request,
            queryset.filter(status=GpsRuleStatus.PENDING),
            lambda r: actions.gps_rule_decide(actor=request.user, rule=r, approve=False, note="不批准"),
            "已驳回",
        )


class VisitPhotoInline(admin.TabularInline):
    model = VisitPhoto
    extra = 0
    can_delete = False
    fields = ("image", "content_type", "size_bytes", "uploaded_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class VisitCorrectionInline(admin.TabularInline):
    model = VisitCorrection
    extra = 0
    can_delete = False
    fk_name = "visit"
    fields = ("requested_at", "requested_by", "reason_code", "reason_note", "before", "after", "status", "decided_by")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Visit)
class VisitAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = (
        "recipient",
        "caregiver",
        "provider",
        "town",
        "kind",
        "started_at",
        "duration_minutes",
        "status",
        "synced_late",
    )
    list_filter = ("status", "kind", "synced_late", "town", "provider", "visit_date")
    search_fields = ("recipient__name", "caregiver__name", "client_id")
    list_select_related = ("recipient", "caregiver", "provider", "town")
    # The list must not grow with the table: newest first in the order of the (visit_date, started_at, id) index
    # (not the model's started_at, which no index leads, so every page sorted the whole table); one COUNT(*), not a
    # second one of the unfiltered table; and a date bar from the calendar (templates/admin/services/visit/
    # change_list.html), not a DISTINCT over every visit's date.
    ordering = ("-visit_date", "-started_at")
    show_full_result_count = False
    paginator = LargeTablePaginator  # the unfiltered list of a large table: the planner's row estimate
    date_hierarchy = "visit_date"
    inlines = (VisitPhotoInline, VisitCorrectionInline)
    actions = ("accept", "reject")

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Visit._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="认可所选异常（计入服务）")
    def accept(self, request, queryset):
        _run(
            self,
            request,
            queryset.filter(status=VisitStatus.EXCEPTION),
            lambda v: actions.visit_review(actor=request.user, visit=v, accept=True, reason="后台批量认可"),
            "已认可",
        )

    @admin.action(description="驳回所选异常（不计入）")
    def reject(self, request, queryset):
        _run(
            self,
            request,
            queryset.filter(status=VisitStatus.EXCEPTION),
            lambda v: actions.visit_review(actor=request.user, visit=v, accept=False, reason="后台批量驳回"),
            "已驳回",
        )


@admin.register(VisitCorrection)
class VisitCorrectionAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ("visit", "reason_code", "needs_approval", "status", "requested_by", "requested_at", "decided_by")
    list_filter = ("status", "reason_code", "needs_approval")
    search_fields = ("visit__recipient__name", "reason_note")
    list_select_related = ("visit__recipient", "visit__caregiver", "requested_by", "decided_by")
    actions = ("approve", "reject")

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in VisitCorrection._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="批准所选更正")
    def approve(self, request, queryset):
        _run(
            self,
            request,
            queryset.filter(status=CorrectionStatus.PENDING),
            lambda c: actions.visit_correction_decide(actor=request.user, correction=c, approve=True),
            "已批准",
        )

    @admin.action(description="不批准所选更正")
    def reject(self, request, queryset):
        _run(
            self,
            request,
            queryset.filter(status=CorrectionStatus.PENDING),
            lambda c: actions.visit_correction_decide(actor=request.user, correction=c, approve=False),
            "已驳回",
        )


@admin.register(PlannedVisit)
class PlannedVisitAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ("day", "planned_time", "recipient", "caregiver", "provider", "town")
    list_filter = ("provider", "town", "day")
    search_fields = ("recipient__name", "caregiver__name")
    list_select_related = ("recipient", "caregiver", "provider", "town")

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False


@admin.register(VisitFlag)
class VisitFlagAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ("day", "kind", "recipient", "caregiver", "town", "provider", "days_since_visit", "exception_count")
    list_filter = ("kind", "day", "town")
    search_fields = ("recipient__name", "caregiver__name")
    list_select_related = ("recipient", "caregiver", "town", "provider")

    def has_change_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return False
