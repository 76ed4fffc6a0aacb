from django.apps import AppConfig


class SupervisionConfig(AppConfig):
    name = "supervision"
    verbose_name = "监督管理"

    def ready(self):
        from auditlog.registry import auditlog

        from . import models

        auditlog.register(models.Deduction)
