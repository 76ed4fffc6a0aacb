from django.apps import AppConfig


class RecipientsConfig(AppConfig):
    name = "recipients"
    verbose_name = "特困人员名册"

    def ready(self):
        from shenxian_care.audit import register

        from . import models

        register(
            models.Village,
            models.Recipient,
            models.Assessment,
            models.LevelApproval,
            models.SupportExit,
        )
        # The roster's file and rows are kept on the record itself; the trail records who did what to it.
        register(models.MonthlyRoster, exclude_fields=["content", "rows", "diff"])
