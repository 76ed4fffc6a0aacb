from django.apps import AppConfig


class SupervisionConfig(AppConfig):
    name = "supervision"
    verbose_name = "监督管理"

    def ready(self):
        from auditlog.registry import auditlog

        from . import models

        for model in (
            models.Deduction,
            models.EvaluationSheet,
            models.EvaluationItem,
            models.Evaluation,
            models.EvaluationScore,
            models.SeriousProblemReport,
            models.RectificationNotice,
            models.Complaint,
            models.SpotCheckDraw,
            models.SpotCheck,
            models.CrossCheckBatch,
            models.CrossCheckHit,
            models.HalfYearReview,
            models.Takeover,
        ):
            auditlog.register(model)
