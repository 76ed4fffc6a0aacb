"""Template helpers for the registry's pages."""

from django import template

from ..models import CareLevel
from ..permissions import RULES

register = template.Library()


@register.simple_tag
def can(rule, user, obj):
    """`{% can "approve_exit" user obj as ok %}`: the rule the action itself checks (recipients.permissions),
    so a button is shown exactly when the action would accept it."""
    return RULES[rule](user, obj)


@register.filter
def level_label(value):
    return CareLevel(value).label if value in CareLevel.values else "未审定"


@register.filter
def attr_of(obj, name):
    return getattr(obj, name)
