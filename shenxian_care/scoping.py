"""Who may see what: the one place that scopes every page, API endpoint, admin list and export.

Each scoped model declares, on its QuerySet, the lookup that ties a row to a town, a provider or a
caregiver. `for_actor(user)` applies the one that fits the user's role; anything not declared for a
role is invisible to it. Bureau staff (and superusers) see everything; a login with no role sees nothing.
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.http import Http404

from .fields import without_secrets
from .models import Role, User


def actor_role(user):
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    if user.is_superuser:
        return Role.BUREAU
    return user.role or None  # no role given: nothing


def is_bureau(user):
    return actor_role(user) == Role.BUREAU


def caregiver_of(user):
    """The caregiver record behind a login (None if there is none), with its provider: read once per request and
    kept on the login, without the caregiver's encrypted ID and bank numbers (nobody's day needs them)."""
    relation = User.caregiver.related  # the caregiver's one-to-one link to its login (contracts.Caregiver.user)
    if not relation.is_cached(user):
        found = (
            without_secrets(relation.related_model.objects.select_related("provider"), "provider")
            .filter(user_id=user.pk)
            .first()
        )
        relation.set_cached_value(user, found)
    return relation.get_cached_value(user)


def caregiver_in_post_of(user):
    """The caregiver record behind a login while the caregiver is in post: None once marked as left (even if the login
    itself was not deactivated with it). Everything a caregiver's scope holds is read from this."""
    caregiver = caregiver_of(user)
    return caregiver if caregiver is not None and caregiver.is_active else None


def _caregiver_id(user):
    caregiver = caregiver_in_post_of(user)
    return caregiver.pk if caregiver is not None else None


class ScopedQuerySet(models.QuerySet):
    """Subclass and set the lookups; `None` means the role sees none of these rows.

    - `scope_town`: lookup from this model to a Town (e.g. "town", "recipient__town")
    - `scope_provider`: lookup to a Provider
    - `scope_caregiver`: lookup to a Caregiver
    - `scope_finance_all`: the finance bureau reads every row (settlements, payments, contracts)

    A row reached through a recipient declares `scope_served_recipient` instead, for providers and caregivers.
    """

    scope_town = None
    scope_provider = None
    scope_caregiver = None
    scope_finance_all = False
    # Lookup from this model to a Recipient ("pk" on Recipient itself): for provider staff and caregivers the
    # row is visible only while they serve that recipient (`register_served_recipients`), not merely because a
    # link to them once existed: access ends when service ends.
    scope_served_recipient = None

    def _through(self, lookup, value):
        if value is None:
            return self.none()
        if "__" in lookup:
            # Joins across to-many relations would duplicate rows: filter through a subquery instead.
            ids = self.model._default_manager.filter(**{lookup: value}).values("pk")
            return self.filter(pk__in=ids)
        return self.filter(**{lookup: value})

    def for_actor(self, user):
        role = actor_role(user)
        if role == Role.BUREAU:
            return self
        if role == Role.FINANCE:
            return self if self.scope_finance_all else self.none()
        if role == Role.TOWN and self.scope_town:
            return self._through(self.scope_town, user.town_id)
        if role in (Role.PROVIDER, Role.CAREGIVER) and self.scope_served_recipient:
            served = _served_recipients(role, user)
            if served is None:
                return self.none()
            return self.filter(**{f"{self.scope_served_recipient}__in": served})
        if role == Role.PROVIDER and self.scope_provider:
            return self._through(self.scope_provider, user.provider_id)
        if role == Role.CAREGIVER and self.scope_caregiver:
            return self._through(self.scope_caregiver, _caregiver_id(user))
        return self.none()


_served = {}


def register_served_recipients(role, function):
    """The app that holds contracts and agreements says which recipients a provider's staff or a caregiver serve
    today: `function(user)` returns a queryset of recipient ids, or None for nobody. Registered once from that
    app's ready(), so this module and the recipients app need not import it."""
    _served[role] = function


def _served_recipients(role, user):
    function = _served.get(role)
    if function is None:  # nothing registered: nobody is served (deny by default)
        return None
    if role == Role.PROVIDER and not user.provider_id:
        return None
    if role == Role.CAREGIVER and caregiver_in_post_of(user) is None:
        return None
    return function(user)


def get_for_actor_or_404(queryset, user, **lookup):
    """The object if this user may see it; 404 otherwise (never 403: we do not confirm it exists)."""
    try:
        return queryset.for_actor(user).get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, OverflowError, ValidationError):
        # A malformed id ("abc", "null,null") is simply not something the user can see.
        raise Http404("未找到该记录，或您无权查看。") from None


def scope_key(user):
    """The data this user's role lets them see, as a short label ("bureau", "town:3", "provider:5")."""
    role = actor_role(user)
    if role is None:
        return ""
    if role == Role.TOWN:
        return f"town:{user.town_id}"
    if role == Role.PROVIDER:
        return f"provider:{user.provider_id}"
    if role == Role.CAREGIVER:
        return f"caregiver:{_caregiver_id(user)}"
    return str(role)


def owned_by(queryset, user, *, owner, scope):
    """Rows that belong to one person (an export they asked for): only that person sees them, whatever their
    role (bureau staff included), and only while their account is active and their scope is the one recorded
    when the row was made, so a file built for a town is not handed out after its official moved town."""
    if actor_role(user) is None:
        return queryset.none()
    return queryset.filter(**{owner: user, scope: scope_key(user)})
