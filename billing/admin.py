"""The bureau's desk for settlements: read-only figures; compute, confirm and mark paid as admin actions
that call the actions (never by editing a row)."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied

from shenxian_care.admin_mixins import ScopedAdminMixin
from shenxian_care.exceptions import ApplicationError
from shenxian_care.privacy import mask_bank_account

from . import actions
from .models import DeductionApplication, Payment, ProviderSettlement, Settlement, SettlementLine


class ReadOnlyAdmin(ScopedAdminMixin, admin.ModelAdmin):
    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ProviderSettlementInline(admin.TabularInline):
    model = ProviderSettlement
    extra = 0
    can_delete = False
    fields = (
        "provider",
        "payee_mode",
        "recipients",
        "days",
        "gross",
        "deductions_applied",
        "carried_forward",
        "deficit_carried",
        "net",
    )
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


def _run(modeladmin, request, queryset, action, done):
    for settlement in queryset.order_by("month"):
        try:
            action(actor=request.user, settlement=settlement)
        except (ApplicationError, PermissionDenied) as exc:
            modeladmin.message_user(request, f"{settlement}：{getattr(exc, 'message', exc)}", messages.ERROR)
        else:
            modeladmin.message_user(request, f"{settlement.month:%Y年%m月}{done}", messages.SUCCESS)


@admin.register(Settlement)
class SettlementAdmin(ReadOnlyAdmin):
    list_display = (
        "month",
        "status",
        "run_state",
        "progress_percent",
        "line_count",
        "gross",
        "deductions_applied",
        "net",
        "confirmed_by",
        "confirmed_at",
    )
    list_filter = ("status", "run_state")
    list_select_related = ("confirmed_by",)
    date_hierarchy = "month"
    inlines = [ProviderSettlementInline]
    actions = ["confirm", "recompute", "mark_paid"]
    readonly_fields = [f.name for f in Settlement._meta.fields]

    @admin.display(description="进度（%）")
    def progress_percent(self, obj):
        return obj.progress_percent

    @admin.action(description="确认并冻结所选结算")
    def confirm(self, request, queryset):
        _run(self, request, queryset, actions.settlement_confirm, "结算已确认并冻结")

    @admin.action(description="重新计算所选草稿")
    def recompute(self, request, queryset):
        # A province-sized month takes a minute: checked here, computed by the worker (progress on the row).
        def compute(*, actor, settlement):
            actions.settlement_compute_request(actor=actor, month=settlement.month)

        _run(self, request, queryset, compute, "结算已开始重新计算，请稍后刷新查看进度")

    @admin.action(description="登记所选结算为已支付")
    def mark_paid(self, request, queryset):
        _run(self, request, queryset, actions.settlement_mark_paid, "结算已登记为已支付")


@admin.register(ProviderSettlement)
class ProviderSettlementAdmin(ReadOnlyAdmin):
    list_display = (
        "settlement",
        "provider",
        "payee_mode",
        "recipients",
        "days",
        "gross",
        "deductions_applied",
        "carried_forward",
        "net",
    )
    list_filter = ("settlement__month", "payee_mode", "provider")
    search_fields = ("provider__name",)
    list_select_related = ("settlement", "provider")


@admin.register(SettlementLine)
class SettlementLineAdmin(ReadOnlyAdmin):
    list_display = (
        "settlement",
        "kind",
        "period_month",
        "recipient_name",
        "masked_id",
        "town",
        "provider",
        "level",
        "days",
        "amount",
        "corrects",
    )
    list_filter = ("settlement__month", "kind", "level", "town", "provider")
    search_fields = ("recipient__name", "recipient__id_number_masked")
    list_select_related = ("settlement", "recipient", "town", "provider")
    show_full_result_count = False

    @admin.display(description="姓名")
    def recipient_name(self, obj):
        return obj.recipient.name

    @admin.display(description="身份证号")
    def masked_id(self, obj):
        return obj.recipient.id_number_masked  # the masked copy: a list never decrypts


@admin.register(DeductionApplication)
class DeductionApplicationAdmin(ReadOnlyAdmin):
    list_display = ("settlement", "provider_settlement", "deduction", "amount_due", "amount_applied", "amount_carried")
    list_filter = ("settlement__month",)
    list_select_related = (
        "settlement",
        "provider_settlement__settlement",
        "provider_settlement__provider",
        "deduction__provider",
    )


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = (
        "settlement",
        "provider",
        "payee_kind",
        "payee_name",
        "bank_name",
        "masked_account",
        "days",
        "amount",
    )
    list_filter = ("settlement__month", "payee_kind", "provider")
    search_fields = ("payee_name", "provider__name")
    list_select_related = ("settlement", "provider")
    list_reads_secrets = ("account_number",)  # shown masked; the payment file carries it whole

    @admin.display(description="账号")
    def masked_account(self, obj):
        return mask_bank_account(obj.account_number)
