"""Writes of the cross-cutting pieces: user accounts."""

from django.contrib.sessions.models import Session
from django.db import transaction

from .audit import record_event
from .models import Role, SecurityEventKind, User, UserSession
from .permissions import ensure_role


@transaction.atomic
def user_deactivate(*, actor, user, request=None):
    """Deactivate a login and end every session it has, at once (server-side)."""
    ensure_role(actor, Role.BUREAU)
    user = User.objects.select_for_update().get(pk=user.pk)
    user.is_active = False
    user.save(update_fields=["is_active"])
    keys = list(UserSession.objects.filter(user=user).values_list("session_key", flat=True))
    Session.objects.filter(session_key__in=keys).delete()
    UserSession.objects.filter(user=user).delete()
    record_event(kind=SecurityEventKind.DEACTIVATED, user=actor, request=request, target=user.get_username())
    return user
