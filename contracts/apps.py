from django.apps import AppConfig


class ContractsConfig(AppConfig):
    name = "contracts"
    verbose_name = "服务机构与协议"

    def ready(self):
        from shenxian_care.audit import register

        from . import models

        register(
            models.Provider,
            models.RateTable,
            models.PurchaseContract,
            models.DeductionRule,
            models.Caregiver,
            models.Agreement,
        )
