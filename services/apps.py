from django.apps import AppConfig


class ServicesConfig(AppConfig):
    name = "services"
    verbose_name = "上门服务"

    def ready(self):
        from shenxian_care import exports as export_jobs
        from shenxian_care.audit import register

        from . import exports, models

        export_jobs.register(exports.EXPORT_KIND, title=exports.EXPORT_TITLE, build=exports.build_export)

        register(
            models.ServiceStandard,
            models.RecipientGpsRule,
            models.Visit,
            models.VisitCorrection,
            models.PlannedVisit,
            models.ConfirmationCard,
        )
