"""The bureau's admin for supervision. Records are written by the actions (portal pages and admin actions);
the admin lists, filters and shows them, and edits only the scoring sheet while no evaluation used it."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet

from shenxian_care.admin_mixins import ScopedAdminMixin
from shenxian_care.exceptions import ApplicationError
from shenxian_care.scoping import is_bureau

from . import actions, selectors
from .models import (
    Complaint,
    CrossCheckBatch,
    CrossCheckHit,
    Deduction,
    Evaluation,
    EvaluationItem,
    EvaluationRemark,
    EvaluationScore,
    EvaluationSheet,
    HalfYearReview,
    Notification,
    RectificationNotice,
    SeriousProblemPhoto,
    SeriousProblemReport,
    SpotCheck,
    SpotCheckDraw,
    Takeover,
    TakeoverLine,
)
from .scoring import ensure_weights_add_up


class ReadOnlyMixin:
    """Shown, filtered and searched here; changed only through the actions."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(ReadOnlyMixin, admin.TabularInline):
    extra = 0

    def has_view_permission(self, request, obj=None):
        return is_bureau(request.user)


class ScopedAdmin(ReadOnlyMixin, ScopedAdminMixin, admin.ModelAdmin):
    pass


class EvaluationItemFormSet(BaseInlineFormSet):
    """The sheet's items are saved together: their weights must add up to 100 (the rule the sheet is made current
    by), so the total of an evaluation is the sum of its items."""

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        kept = [
            form.instance
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE") and form.instance.weight is not None
        ]
        if kept:
            try:
                ensure_weights_add_up(kept)
            except ApplicationError as exc:
                raise ValidationError(exc.message) from None


class EvaluationItemInline(admin.TabularInline):
    model = EvaluationItem
    formset = EvaluationItemFormSet
    extra = 0
    fields = ("sort_order", "code", "title", "max_score", "weight")

    def _frozen(self, obj):
        return obj is not None and selectors.sheet_in_use(obj)

    def has_view_permission(self, request, obj=None):
        return is_bureau(request.user)

    def has_add_permission(self, request, obj=None):
        return is_bureau(request.user) and not self._frozen(obj)

    def has_change_permission(self, request, obj=None):
        return is_bureau(request.user) and not self._frozen(obj)

    def has_delete_permission(self, request, obj=None):
        return is_bureau(request.user) and not self._frozen(obj)


@admin.register(EvaluationSheet)
class EvaluationSheetAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ("name", "version", "is_current", "created_at")
    list_filter = ("is_current",)
    search_fields = ("name",)
    readonly_fields = ("version", "is_current", "created_at")
    fields = ("name", "version", "is_current", "note", "created_at")
    inlines = [EvaluationItemInline]
    actions = ["copy_as_new_version", "make_current"]

    def has_add_permission(self, request):
        return False  # a new version starts as a copy (admin action), so numbering stays in one place

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="复制为新版本（可修改考评项目）")
    def copy_as_new_version(self, request, queryset):
        for sheet in queryset:
            new = actions.evaluation_sheet_copy(actor=request.user, sheet=sheet)
            self.message_user(request, f"已创建{new}，修改后请“启用”。")

    @admin.action(description="启用（新开始的考评使用此版本）")
    def make_current(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "请只选择一个版本。", messages.ERROR)
            return
        try:
            sheet = actions.evaluation_sheet_make_current(actor=request.user, sheet=queryset.get())
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.ERROR)
        else:
            self.message_user(request, f"已启用{sheet}。")


class EvaluationScoreInline(ReadOnlyInline):
    model = EvaluationScore
    fields = ("item", "score", "note")
    readonly_fields = fields


class EvaluationRemarkInline(ReadOnlyInline):
    model = EvaluationRemark
    fields = ("recipient", "remark")
    readonly_fields = fields


@admin.register(Evaluation)
class EvaluationAdmin(ScopedAdmin):
    list_display = ("month", "town", "provider", "status", "total_score", "sheet", "submitted_at")
    list_filter = ("status", "month", "town", "provider")
    search_fields = ("provider__name", "town__name")
    list_select_related = ("town", "provider", "sheet")
    date_hierarchy = "month"
    inlines = [EvaluationScoreInline, EvaluationRemarkInline]


@admin.register(Notification)
class NotificationAdmin(ScopedAdmin):
    list_display = ("kind", "town", "provider", "message", "times_sent", "last_sent_at", "read_at")
    list_filter = ("kind", "town")
    search_fields = ("message",)
    list_select_related = ("town", "provider")


class PhotoInline(ReadOnlyInline):
    model = SeriousProblemPhoto
    fields = ("image", "uploaded_at")
    readonly_fields = fields


@admin.register(SeriousProblemReport)
class SeriousProblemReportAdmin(ScopedAdmin):
    list_display = ("reported_at", "town", "provider", "category", "occurred_on", "status", "verified_on", "deduction")
    list_filter = ("status", "category", "town", "provider")
    search_fields = ("description", "provider__name", "recipient__name")
    list_select_related = ("town", "provider", "deduction")
    inlines = [PhotoInline]


@admin.register(Deduction)
class DeductionAdmin(ScopedAdmin):
    list_display = ("verified_on", "provider", "contract", "source", "amount", "status", "reason")
    list_filter = ("status", "source", "provider")
    search_fields = ("reason", "provider__name", "contract__number")
    list_select_related = ("provider", "contract__provider")  # a contract's name reads its provider's
    date_hierarchy = "verified_on"


@admin.register(RectificationNotice)
class RectificationNoticeAdmin(ScopedAdmin):
    list_display = ("number", "provider", "town", "source", "issued_on", "deadline", "status", "overdue_on")
    list_filter = ("status", "source", "provider", "town")
    search_fields = ("number", "problem", "provider__name")
    list_select_related = ("provider", "town")
    actions = ["mark_overdue_now"]

    @admin.action(description="立即标记逾期（与每日定时任务相同）")
    def mark_overdue_now(self, request, queryset):
        self.message_user(request, f"本次标记逾期{actions.rectification_mark_overdue()}份。")


@admin.register(Complaint)
class ComplaintAdmin(ScopedAdmin):
    list_display = ("number", "channel", "priority", "town", "provider", "route_to", "due_date", "status", "founded")
    list_filter = ("status", "channel", "priority", "route_to", "town")
    search_fields = ("number", "content", "complainant_name")
    list_select_related = ("town", "provider")


@admin.register(SpotCheckDraw)
class SpotCheckDrawAdmin(ScopedAdmin):
    list_display = ("drawn_on", "town", "provider", "level", "size", "percentage", "seed", "created_at")
    list_filter = ("town", "provider", "level")
    list_select_related = ("town", "provider")


@admin.register(SpotCheck)
class SpotCheckAdmin(ScopedAdmin):
    list_display = ("checked_on", "method", "recipient", "town", "provider", "result", "checked_by")
    list_filter = ("method", "result", "town", "provider")
    search_fields = ("recipient__name", "finding")
    list_select_related = ("recipient", "town", "provider", "checked_by")


class CrossCheckHitInline(ReadOnlyInline):
    model = CrossCheckHit
    fields = ("row_number", "recipient", "event", "event_date", "visits_after", "status")
    readonly_fields = fields


@admin.register(CrossCheckBatch)
class CrossCheckBatchAdmin(ScopedAdmin):
    list_display = ("imported_at", "file_name", "source", "row_count", "imported_by")
    search_fields = ("file_name", "source")
    list_select_related = ("imported_by",)
    inlines = [CrossCheckHitInline]


@admin.register(HalfYearReview)
class HalfYearReviewAdmin(ScopedAdmin):
    list_display = ("half", "provider", "evaluation_average", "veto", "proposal", "status", "decision")
    list_filter = ("half", "veto", "proposal", "status", "decision")
    search_fields = ("provider__name",)
    list_select_related = ("provider",)


class TakeoverLineInline(ReadOnlyInline):
    model = TakeoverLine
    fields = ("town", "recipient", "old_agreement", "new_agreement", "caregiver")
    readonly_fields = fields


@admin.register(Takeover)
class TakeoverAdmin(ScopedAdmin):
    list_display = ("takeover_date", "old_provider", "new_provider", "status", "executed_by", "executed_at")
    list_filter = ("status",)
    list_select_related = ("old_provider", "new_provider", "executed_by")
    inlines = [TakeoverLineInline]
