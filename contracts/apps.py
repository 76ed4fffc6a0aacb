from django.apps import AppConfig


class ContractsConfig(AppConfig):
    name = "contracts"
    verbose_name = "服务机构与协议"

    def ready(self):
        from auditlog.registry import auditlog

        from . import models

        for model in (
            models.Provider,
            models.RateTable,
            models.PurchaseContract,
            models.DeductionRule,
            models.Caregiver,
            models.Agreement,
        ):
            auditlog.register(model)
