"""API tokens (the caregivers' phones): each lasts API_TOKEN_LIFETIME_SECONDS from sign-in (the phone then signs in
again), and ends at once with the password it was issued under, however the password is changed (the admin, an
action, `manage.py changepassword`), the way Django ends sessions: the token's key carries a mark of the password
(an HMAC of its hash, `get_session_auth_hash`), checked on every request. Sign-out and deactivation delete it."""

import datetime
import secrets

from django.conf import settings
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed

from .fields import without_secrets

_RANDOM_HEX = 24  # 96 random bits; the remaining 16 characters of the 40 are the password's mark


def _password_mark(user):
    return user.get_session_auth_hash()[: 40 - _RANDOM_HEX]


def new_token_key(user):
    """A fresh key for `user`'s token, bound to their present password."""
    return secrets.token_hex(_RANDOM_HEX // 2) + _password_mark(user)


def token_expires_at(token):
    return token.created + datetime.timedelta(seconds=settings.API_TOKEN_LIFETIME_SECONDS)


def token_is_current(token, user):
    """Still within its lifetime, and issued under the password the user has now."""
    return timezone.now() < token_expires_at(token) and constant_time_compare(
        token.key[_RANDOM_HEX:], _password_mark(user)
    )


class ApiTokenAuthentication(TokenAuthentication):
    """DRF's token authentication (unknown keys and deactivated users are refused), plus the lifetime and the
    password check. A token that fails them is deleted: the phone is told to sign in again (401).

    The login's caregiver record, with its provider, is read in the same query: every upload from a phone needs it
    next (`scoping.caregiver_of`, which then reads nothing). Never the caregiver's encrypted ID or bank numbers."""

    def authenticate_credentials(self, key):
        model = self.get_model()
        tokens = without_secrets(
            model.objects.select_related("user__caregiver__provider"), "user__caregiver", "user__caregiver__provider"
        )
        try:
            token = tokens.get(key=key)
        except model.DoesNotExist:
            raise AuthenticationFailed("令牌无效，请重新登录。") from None
        user = token.user
        if not user.is_active:
            raise AuthenticationFailed("账号已停用。")
        if not token_is_current(token, user):
            token.delete()
            raise AuthenticationFailed("登录已失效，请重新登录。")
        return user, token
