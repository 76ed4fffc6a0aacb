"""Role checks for actions (writes). Reads are scoped by `shenxian_care.scoping`."""

from django.core.exceptions import PermissionDenied

from .scoping import actor_role


def ensure_role(actor, *roles):
    if actor_role(actor) not in roles:
        raise PermissionDenied("您的角色无权执行此操作。")
