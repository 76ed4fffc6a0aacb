from django.apps import AppConfig


class ServicesConfig(AppConfig):
    name = "services"
    verbose_name = "上门服务"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from shenxian_care import exports as export_jobs
        from shenxian_care.audit import register

        from . import exports, models
        from .standards import forget_standards

        # the standard is cached (services.standards); a change to it drops the copy
        post_save.connect(forget_standards, sender=models.ServiceStandard, dispatch_uid="forget_standards_save")
        post_delete.connect(forget_standards, sender=models.ServiceStandard, dispatch_uid="forget_standards_delete")

        export_jobs.register(exports.EXPORT_KIND, title=exports.EXPORT_TITLE, build=exports.build_export)

        register(
            models.ServiceStandard,
            models.RecipientGpsRule,
            models.Visit,
            models.VisitCorrection,
            models.PlannedVisit,
            models.ConfirmationCard,
        )
