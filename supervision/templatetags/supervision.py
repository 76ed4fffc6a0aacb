from django import template

from ..selectors import notification_list

register = template.Library()


@register.simple_tag
def portal_notifications(user, limit=5):
    """The signed-in person's unread reminders (their town's or provider's; the bureau sees all)."""
    return list(notification_list(actor=user, unread_only=True)[:limit])
