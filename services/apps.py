from django.apps import AppConfig


class ServicesConfig(AppConfig):
    name = "services"
    verbose_name = "上门服务"

    def ready(self):
        from auditlog.registry import auditlog

        from . import models

        for model in (
            models.ServiceStandard,
            models.RecipientGpsRule,
            models.Visit,
            models.VisitCorrection,
            models.PlannedVisit,
        ):
            auditlog.register(model)
