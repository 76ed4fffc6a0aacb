"""API sign-in by token (a caregiver's phone)."""

from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from .fields import without_secrets


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token sign-in that reads the login's caregiver record, with its provider, in the same query: every
    upload from a phone needs it next (`scoping.caregiver_of`, which then reads nothing). Never the caregiver's
    encrypted ID or bank numbers."""

    def authenticate_credentials(self, key):
        model = self.get_model()
        tokens = without_secrets(
            model.objects.select_related("user__caregiver__provider"), "user__caregiver", "user__caregiver__provider"
        )
        try:
            token = tokens.get(key=key)
        except model.DoesNotExist:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return token.user, token
