"""Who may decide a reported change: one rule per transition, used by the action, the page and its buttons.

Each `require_<verb>_<thing>(actor, obj)` raises the error the action gives (PermissionDenied for the wrong
role, ApplicationError for a request already decided); `can_<verb>_<thing>(actor, obj)` is the same rule as a
yes/no for pages and templates, so a button is shown exactly when the action would accept it.
"""

from django.core.exceptions import PermissionDenied

from shenxian_care.exceptions import ApplicationError
from shenxian_care.models import Role
from shenxian_care.permissions import ensure_role

from .models import ApprovalStatus

ASSESSMENT_DECIDED = "该评估已审定，不能重复审定。"
EXIT_DECIDED = "该退出申请已审定。"


def _require_pending_for_bureau(actor, obj, already):
    ensure_role(actor, Role.BUREAU)
    if obj.status != ApprovalStatus.PENDING:
        raise ApplicationError(already)


def require_approve_assessment(actor, assessment):
    _require_pending_for_bureau(actor, assessment, ASSESSMENT_DECIDED)


def require_reject_assessment(actor, assessment):
    _require_pending_for_bureau(actor, assessment, ASSESSMENT_DECIDED)


def require_approve_exit(actor, support_exit):
    _require_pending_for_bureau(actor, support_exit, EXIT_DECIDED)


def require_reject_exit(actor, support_exit):
    _require_pending_for_bureau(actor, support_exit, EXIT_DECIDED)


def _as_bool(rule, actor, obj):
    try:
        rule(actor, obj)
    except (PermissionDenied, ApplicationError):
        return False
    return True


def can_approve_assessment(actor, assessment) -> bool:
    return _as_bool(require_approve_assessment, actor, assessment)


def can_reject_assessment(actor, assessment) -> bool:
    return _as_bool(require_reject_assessment, actor, assessment)


def can_approve_exit(actor, support_exit) -> bool:
    return _as_bool(require_approve_exit, actor, support_exit)


def can_reject_exit(actor, support_exit) -> bool:
    return _as_bool(require_reject_exit, actor, support_exit)


RULES = {
    "approve_assessment": can_approve_assessment,
    "reject_assessment": can_reject_assessment,
    "approve_exit": can_approve_exit,
    "reject_exit": can_reject_exit,
}
