from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "结算与支付"

    def ready(self):
        from shenxian_care import exports as export_jobs
        from shenxian_care.audit import register

        from . import exports, models

        export_jobs.register(exports.EXPORT_KIND, title=exports.EXPORT_TITLE, build=exports.build_export)

        # Lines are not audited row by row (hundreds of thousands a month, written in bulk); the month's
        # status changes, provider totals, deduction applications and payments are.
        register(models.Settlement, models.ProviderSettlement, models.DeductionApplication, models.Payment)
