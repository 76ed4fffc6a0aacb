from django.apps import AppConfig


class ServicesConfig(AppConfig):
    name = "services"
    verbose_name = "上门服务"

    def ready(self):
        from shenxian_care.audit import register

        from . import models

        register(
            models.ServiceStandard,
            models.RecipientGpsRule,
            models.Visit,
            models.VisitCorrection,
            models.PlannedVisit,
        )
