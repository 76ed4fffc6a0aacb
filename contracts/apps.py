from django.apps import AppConfig


class ContractsConfig(AppConfig):
    name = "contracts"
    verbose_name = "服务机构与协议"

    def ready(self):
        from recipients import events
        from shenxian_care.audit import register
        from shenxian_care.models import Role
        from shenxian_care.scoping import register_served_recipients

        from . import actions, models, scoping

        register_served_recipients(Role.PROVIDER, scoping.provider_served_recipients)
        register_served_recipients(Role.CAREGIVER, scoping.caregiver_served_recipients)

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
