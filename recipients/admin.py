"""The bureau's desk: searchable, filterable lists; approvals through the actions, never by editing."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from shenxian_care.admin_mixins import ScopedAdminMixin
from shenxian_care.exceptions import ApplicationError
from shenxian_care.months import next_month

from . import actions
from .models import (
    ApprovalStatus,
    Assessment,
    LevelApproval,
    MonthlyRoster,
    Recipient,
    SupportExit,
    Town,
    Village,
)
from .selectors import with_level_on


@admin.register(Town)
class TownAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ("name", "code", "kind")
    search_fields = ("name",)

    def has_add_permission(self, request):
        return False


@admin.register(Village)
class VillageAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ("name", "town")
    list_filter = ("town",)
    search_fields = ("name", "town__name")
    list_select_related = ("town",)


class LevelApprovalInline(admin.TabularInline):
    model = LevelApproval
    extra = 0
    can_delete = False
    fields = ("level", "effective_date", "source", "approved_by", "approved_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class RecipientAdminForm(forms.ModelForm):
    class Meta:
        model = Recipient
        fields = [
            "name",
            "id_number",
            "phone",
            "town",
            "village",
            "address",
            "home_latitude",
            "home_longitude",
            "civil_capacity",
            "guardian_name",
            "guardian_id_number",
            "guardian_phone",
            "entry_date",
        ]

    def clean(self):
        data = super().clean()
        town, village = data.get("town"), data.get("village")
        if town and village and village.town_id != town.pk:
            self.add_error("village", "村（居）委会不属于所选镇（街道）。")
        return data


@admin.register(Recipient)
class RecipientAdmin(ScopedAdminMixin, admin.ModelAdmin):
    form = RecipientAdminForm
    list_display = ("name", "masked_id", "sex", "town", "village", "current_level", "entry_date", "exit_date")
    list_filter = ("town", "civil_capacity", "entry_date", "exit_date")
    search_fields = ("name", "id_number_masked", "village__name", "guardian_name")
    # a village's name reads its town's (Village.__str__): both come with the page
    list_select_related = ("town", "village__town")
    autocomplete_fields = ("village",)
    readonly_fields = ("sex", "birth_date", "exit_date", "created_at", "updated_at")
    inlines = [LevelApprovalInline]
    fieldsets = (
        ("基本信息", {"fields": ("name", "id_number", "sex", "birth_date", "phone")}),
        ("住址", {"fields": ("town", "village", "address", "home_latitude", "home_longitude")}),
        (
            "民事行为能力与监护人",
            {"fields": ("civil_capacity", "guardian_name", "guardian_id_number", "guardian_phone")},
        ),
        ("供养", {"fields": ("entry_date", "exit_date", "created_at", "updated_at")}),
    )

    def get_queryset(self, request):
        return with_level_on(super().get_queryset(request), timezone.localdate())

    def get_readonly_fields(self, request, obj=None):
        # The ID number and entry date are fixed once registered; exits and levels have their own approvals.
        fixed = ("id_number", "entry_date") if obj else ()
        return (*self.readonly_fields, *fixed)

    @admin.display(description="身份证号")
    def masked_id(self, obj):
        return obj.id_number_masked

    @admin.display(description="当前等级")
    def current_level(self, obj):
        from .models import CareLevel

        return dict(CareLevel.choices).get(obj.level_today, "未审定")

    def save_model(self, request, obj, form, change):
        try:
            if change:
                changes = {f: form.cleaned_data[f] for f in form.changed_data if f in actions._EDITABLE}
                actions.recipient_update(actor=request.user, recipient=obj, **changes)
            else:
                data = {k: v for k, v in form.cleaned_data.items() if k not in ("id_number", "entry_date")}
                created = actions.recipient_create(
                    actor=request.user,
                    id_number=form.cleaned_data["id_number"],
                    entry_date=form.cleaned_data["entry_date"],
                    **data,
                )
                obj.pk = created.pk
        except ApplicationError as exc:
            raise PermissionDenied(exc.message) from exc


@admin.register(Assessment)
class AssessmentAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ("recipient", "assessed_on", "level", "status", "effective_date", "created_by", "decided_by")
    list_filter = ("status", "level", "recipient__town")
    search_fields = ("recipient__name", "recipient__id_number_masked")
    list_select_related = ("recipient", "created_by", "decided_by")
    autocomplete_fields = ("recipient",)
    readonly_fields = ("level", "status", "effective_date", "decided_by", "decided_at", "decision_reason")
    actions = ["approve_from_assessment_date", "approve_from_next_month"]

    def save_model(self, request, obj, form, change):
        if change:
            raise PermissionDenied("评估登记后不能修改；如有误请不予审定并重新评估。")
        answers = {f: form.cleaned_data[f] for f, _ in Assessment.INDICATORS}
        created = actions.assessment_create(
            actor=request.user,
            recipient=form.cleaned_data["recipient"],
            assessed_on=form.cleaned_data["assessed_on"],
            reported_on=form.cleaned_data.get("reported_on"),
            note=form.cleaned_data.get("note", ""),
            answers=answers,
        )
        obj.pk = created.pk

    def get_exclude(self, request, obj=None):
        return ("created_by",)

    @admin.action(description="审定通过（自评估日期起生效）")
    def approve_from_assessment_date(self, request, queryset):
        for assessment in queryset.filter(status=ApprovalStatus.PENDING):
            try:
                actions.assessment_approve(
                    actor=request.user, assessment=assessment, effective_date=assessment.assessed_on
                )
                self.message_user(request, f"{assessment.recipient}：已审定。", messages.SUCCESS)
            except ApplicationError as exc:
                self.message_user(request, f"{assessment.recipient}：{exc.message}", messages.ERROR)

    @admin.action(description="审定通过（自下月1日起生效）")
    def approve_from_next_month(self, request, queryset):
        for assessment in queryset.filter(status=ApprovalStatus.PENDING):
            first = next_month(assessment.assessed_on)
            try:
                actions.assessment_approve(actor=request.user, assessment=assessment, effective_date=first)
                self.message_user(request, f"{assessment.recipient}：已审定，{first}起生效。", messages.SUCCESS)
            except ApplicationError as exc:
                self.message_user(request, f"{assessment.recipient}：{exc.message}", messages.ERROR)


@admin.register(LevelApproval)
class LevelApprovalAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ("recipient", "level", "effective_date", "source", "approved_by", "approved_at")
    list_filter = ("level", "source", "recipient__town")
    search_fields = ("recipient__name", "recipient__id_number_masked")
    list_select_related = ("recipient", "approved_by")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # approvals are made by approving an assessment or applying a roster


@admin.register(SupportExit)
class SupportExitAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ("recipient", "reason", "occurred_on", "effective_date", "status", "created_by", "decided_by")
    list_filter = ("status", "reason", "recipient__town")
    search_fields = ("recipient__name", "recipient__id_number_masked")
    list_select_related = ("recipient", "created_by", "decided_by")
    autocomplete_fields = ("recipient",)
    readonly_fields = (
        "reported_on", "effective_date", "status", "decided_by", "decided_at", "decision_reason", "roster"
    )  # fmt: skip
    exclude = ("created_by",)
    actions = ["approve"]

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if "occurred_on" in form.base_fields:
            form.base_fields["occurred_on"].required = True  # the exit date follows from it and the reason
        return form

    def save_model(self, request, obj, form, change):
        if change:
            raise PermissionDenied("退出申请登记后不能修改；如有误请不予审定并重新登记。")
        created = actions.exit_report(
            actor=request.user,
            recipient=form.cleaned_data["recipient"],
            reason=form.cleaned_data["reason"],
            occurred_on=form.cleaned_data["occurred_on"],
            detail=form.cleaned_data.get("detail", ""),
        )
        obj.pk = created.pk

    @admin.action(description="审定通过退出（按退出生效日期终止供养和服务）")
    def approve(self, request, queryset):
        for support_exit in queryset.filter(status=ApprovalStatus.PENDING):
            try:
                actions.exit_approve(actor=request.user, support_exit=support_exit)
                self.message_user(request, f"{support_exit.recipient}：已审定退出。", messages.SUCCESS)
            except ApplicationError as exc:
                self.message_user(request, f"{support_exit.recipient}：{exc.message}", messages.ERROR)


@admin.register(MonthlyRoster)
class MonthlyRosterAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ("month", "status", "file_name", "imported_by", "created_at", "applied_at")
    list_filter = ("status",)
    list_select_related = ("imported_by",)
    exclude = ("rows",)
    readonly_fields = (
        "month",
        "status",
        "file_name",
        "file_sha256",
        "diff",
        "created_villages",
        "imported_by",
        "applied_at",
    )

    def has_add_permission(self, request):
        return False  # uploads go through the portal's import page, with its preview
