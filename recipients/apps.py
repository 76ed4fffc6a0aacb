from django.apps import AppConfig


class RecipientsConfig(AppConfig):
    name = "recipients"
    verbose_name = "特困人员名册"

    def ready(self):
        from auditlog.registry import auditlog

        from . import models

        for model in (
            models.Village,
            models.Recipient,
            models.Assessment,
            models.LevelApproval,
            models.SupportExit,
            models.MonthlyRoster,
        ):
            auditlog.register(model)
