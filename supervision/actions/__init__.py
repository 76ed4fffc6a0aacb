"""Every write of the supervision app, one function per state transition (same public names as before)."""

from .crosscheck import crosscheck_confirm_exit, crosscheck_dismiss, crosscheck_import
from .deductions import (
    can_decide_correction,
    deduction_correction_approve,
    deduction_correction_reject,
    deduction_correction_request,
)
from .evaluations import (
    evaluation_remind_missing,
    evaluation_return,
    evaluation_save,
    evaluation_sheet_copy,
    evaluation_sheet_make_current,
    evaluation_start,
    evaluation_submit,
    notification_mark_read,
)
from .problems import serious_problem_reject, serious_problem_report, serious_problem_verify
from .rectification import (
    complaint_answer,
    complaint_close,
    complaint_log,
    rectification_accept,
    rectification_answer,
    rectification_issue,
    rectification_mark_overdue,
    rectification_send_back,
)
from .reviews import (
    TerminationGrounds,
    can_start_review,
    review_build,
    review_decide,
    review_start,
    startable_halves,
    termination_start,
)
from .spotchecks import spot_check_draw, spot_check_record
from .takeover import takeover_execute, takeover_request, takeover_run

__all__ = [
    "can_decide_correction",
    "deduction_correction_approve",
    "deduction_correction_reject",
    "deduction_correction_request",
    "TerminationGrounds",
    "termination_start",
    "complaint_answer",
    "complaint_close",
    "complaint_log",
    "crosscheck_confirm_exit",
    "crosscheck_dismiss",
    "crosscheck_import",
    "rectification_accept",
    "rectification_answer",
    "rectification_issue",
    "rectification_mark_overdue",
    "rectification_send_back",
    "review_build",
    "review_decide",
    "review_start",
    "can_start_review",
    "startable_halves",
    "spot_check_draw",
    "spot_check_record",
    "takeover_execute",
    "takeover_request",
    "takeover_run",
    "evaluation_remind_missing",
    "evaluation_return",
    "evaluation_save",
    "evaluation_sheet_copy",
    "evaluation_sheet_make_current",
    "evaluation_start",
    "evaluation_submit",
    "notification_mark_read",
    "serious_problem_reject",
    "serious_problem_report",
    "serious_problem_verify",
]
