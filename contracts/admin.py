"""The bureau's desk for providers, contracts, rates, caregivers and agreements."""

from django.contrib import admin, messages
from django.utils import timezone

from shenxian_care.admin_mixins import ScopedAdminMixin
from shenxian_care.exceptions import ApplicationError
from shenxian_care.privacy import mask_bank_account

from . import actions
from .models import Agreement, AgreementStatus, Caregiver, DeductionRule, Provider, PurchaseContract, RateTable


@admin.register(Provider)
class ProviderAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ("name", "credit_code", "contact_name", "contact_phone", "masked_account")
    list_reads_secrets = ("bank_account_number",)  # shown masked
    search_fields = ("name", "credit_code")

    @admin.display(description="银行账号")
    def masked_account(self, obj):
        return mask_bank_account(obj.bank_account_number)


@admin.register(RateTable)
class RateTableAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ("effective_month", "self_care", "partial", "full", "basis")

    def get_readonly_fields(self, request, obj=None):
        # A rate row that is in force has been billed against: it is never edited, only superseded.
        if obj and obj.effective_month <= timezone.localdate():
            return ("effective_month", "self_care", "partial", "full", "basis")
        return ()


class DeductionRuleInline(admin.TabularInline):
    model = DeductionRule
    extra = 1


@admin.register(PurchaseContract)
class PurchaseContractAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ("number", "provider", "start_date", "end_date", "payee_mode", "status", "terminated_on")
    list_filter = ("status", "payee_mode", "provider")
    search_fields = ("number", "provider__name")
    list_select_related = ("provider",)
    filter_horizontal = ("towns",)
    readonly_fields = ("status", "terminated_on", "termination_reason")
    inlines = [DeductionRuleInline]


@admin.register(Caregiver)
class CaregiverAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ("name", "masked_id", "phone", "provider", "home_town", "is_active", "hired_on")
    list_filter = ("provider", "is_active", "home_town")
    search_fields = ("name", "id_number_masked", "phone")
    list_select_related = ("provider", "home_town")
    raw_id_fields = ("user",)

    @admin.display(description="身份证号")
    def masked_id(self, obj):
        return obj.id_number_masked


@admin.register(Agreement)
class AgreementAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = (
        "number",
        "recipient",
        "provider",
        "town",
        "village",
        "caregiver",
        "start_date",
        "end_date",
        "status",
    )
    list_filter = ("status", "provider", "town")
    search_fields = ("number", "recipient__name", "recipient__id_number_masked", "caregiver__name")
    list_select_related = ("recipient", "provider", "town", "village__town", "caregiver")
    actions = ["sign_as_town"]

    def get_readonly_fields(self, request, obj=None):
        # Agreements are drafted and signed through the portal's actions; the admin shows them.
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request, *args):
        return False

    @admin.action(description="以镇（街道）名义签订所选协议")
    def sign_as_town(self, request, queryset):
        for agreement in queryset.filter(status=AgreementStatus.DRAFT):
            try:
                actions.agreement_sign_as_town(actor=request.user, agreement=agreement)
                self.message_user(request, f"{agreement.number}：已签订。", messages.SUCCESS)
            except ApplicationError as exc:
                self.message_user(request, f"{agreement.number}：{exc.message}", messages.ERROR)
