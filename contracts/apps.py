from django.apps import AppConfig


class ContractsConfig(AppConfig):
    name = "contracts"
    verbose_name = "服务机构与协议"

    def ready(self):
        from recipients import events
        from shenxian_care.audit import register

        from . import actions, models

        events.subscribe(events.SUPPORT_ENDED, actions.agreements_end_for_exit)
        events.subscribe(events.LEVEL_APPROVED, actions.providers_told_of_level)
        events.subscribe(events.ROSTER_APPLIED, actions.providers_told_of_roster)

        register(
            models.Provider,
            models.RateTable,
            models.PurchaseContract,
            models.DeductionRule,
            models.Caregiver,
            models.Agreement,
            models.ProviderNotice,
        )
