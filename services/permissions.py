"""Who may clear an exception: one rule, used by the actions (one visit or a batch), the queue page and its
checkboxes, so a checkbox is shown exactly when the action would accept the visit.

`require_review_visit(actor, visit)` raises the action's error (PermissionDenied for the wrong role,
ApplicationError for a visit no longer pending); `can_review_visit(actor, visit)` is the same rule as a yes/no.
"""

from django.core.exceptions import PermissionDenied

from shenxian_care.exceptions import ApplicationError
from shenxian_care.models import Role
from shenxian_care.permissions import ensure_role
from shenxian_care.scoping import actor_role

from .models import VisitStatus

NOT_PENDING = "只有异常待审核的记录可以审核。"


def require_review_role(actor):
    ensure_role(actor, Role.BUREAU)


def require_review_visit(actor, visit):
    require_review_role(actor)
    if visit.status != VisitStatus.EXCEPTION:
        raise ApplicationError(NOT_PENDING)


def can_review(actor) -> bool:
    """The role may clear exceptions at all (the queue shows its checkboxes and decision form)."""
    return actor_role(actor) == Role.BUREAU


def can_review_visit(actor, visit) -> bool:
    try:
        require_review_visit(actor, visit)
    except (PermissionDenied, ApplicationError):
        return False
    return True
