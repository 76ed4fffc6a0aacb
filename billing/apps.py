from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "结算与支付"

    def ready(self):
        from django.db.models.signals import post_migrate, pre_migrate

        from shenxian_care import exports as export_jobs
        from shenxian_care.audit import register

        from . import exports, frozen, models

        export_jobs.register(exports.EXPORT_KIND, title=exports.EXPORT_TITLE, build=exports.build_export)

        # Lines are not audited row by row (hundreds of thousands a month, written in bulk); the month's
        # status changes, provider totals, deduction applications and payments are.
        register(models.Settlement, models.ProviderSettlement, models.DeductionApplication, models.Payment)

        # SQLite's frozen-month triggers step aside while migrations rebuild tables (billing/frozen.py).
        pre_migrate.connect(frozen._before_migrate, sender=self, dispatch_uid="billing_frozen_sqlite_guards_off")
        post_migrate.connect(frozen._after_migrate, sender=self, dispatch_uid="billing_frozen_sqlite_guards")
