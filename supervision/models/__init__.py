"""Supervision (plan §四(五)): evaluations, serious problems, spot checks, rectification, complaints,
cross-checks, deductions, half-year reviews and takeovers. One module per subject, same public names."""

from .crosscheck import CrossCheckBatch, CrossCheckEvent, CrossCheckHit, CrossCheckHitStatus
from .deductions import (
    CorrectionStatus,
    Deduction,
    DeductionCorrection,
    DeductionQuerySet,
    DeductionSource,
    DeductionStatus,
)
from .evaluations import (
    Evaluation,
    EvaluationItem,
    EvaluationRemark,
    EvaluationScore,
    EvaluationSheet,
    EvaluationStatus,
)
from .notifications import Notification, NotificationKind
from .problems import ProblemCategory, ProblemStatus, SeriousProblemPhoto, SeriousProblemReport
from .rectification import (
    OPEN_RECTIFICATION,
    Complaint,
    ComplaintChannel,
    ComplaintPriority,
    ComplaintRoute,
    ComplaintStatus,
    RectificationNotice,
    RectificationSource,
    RectificationStatus,
)
from .reviews import HalfYearReview, ReviewDecision, ReviewStatus, Takeover, TakeoverLine, TakeoverStatus
from .spotchecks import SpotCheck, SpotCheckDraw, SpotCheckMethod, SpotCheckResult

__all__ = [
    "CorrectionStatus",
    "DeductionCorrection",
    "OPEN_RECTIFICATION",
    "Complaint",
    "ComplaintChannel",
    "ComplaintPriority",
    "ComplaintRoute",
    "ComplaintStatus",
    "CrossCheckBatch",
    "CrossCheckEvent",
    "CrossCheckHit",
    "CrossCheckHitStatus",
    "HalfYearReview",
    "RectificationNotice",
    "RectificationSource",
    "RectificationStatus",
    "ReviewDecision",
    "ReviewStatus",
    "SpotCheck",
    "SpotCheckDraw",
    "SpotCheckMethod",
    "SpotCheckResult",
    "Takeover",
    "TakeoverLine",
    "TakeoverStatus",
    "Deduction",
    "DeductionQuerySet",
    "DeductionSource",
    "DeductionStatus",
    "Evaluation",
    "EvaluationItem",
    "EvaluationRemark",
    "EvaluationScore",
    "EvaluationSheet",
    "EvaluationStatus",
    "Notification",
    "NotificationKind",
    "ProblemCategory",
    "ProblemStatus",
    "SeriousProblemPhoto",
    "SeriousProblemReport",
]
