from django import template

from shenxian_care.models import Role
from shenxian_care.scoping import actor_role

from ..selectors import notification_list, rectification_awaiting_answer

register = template.Library()


@register.simple_tag
def portal_notifications(user, limit=5):
    """Unread reminders addressed to the signed-in person's town or provider. The bureau is not an addressee
    (it sees the missing-evaluation list instead), so its home page shows none."""
    if actor_role(user) not in (Role.TOWN, Role.PROVIDER):
        return []
    return list(notification_list(actor=user, unread_only=True)[:limit])


@register.simple_tag
def rectifications_to_answer(user):
    """How many rectification notices the signed-in provider still has to answer (0 for other roles)."""
    if actor_role(user) != Role.PROVIDER:
        return 0
    return rectification_awaiting_answer(actor=user).count()
