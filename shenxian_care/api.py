"""API plumbing shared by every app: the one place a domain error becomes a response."""

import re

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from . import actions
from .authentication import token_expires_at
from .exceptions import ApplicationError, bad_input_message
from .throttling import SignInRateThrottle

NOT_FOUND = "未找到该记录，或您无权查看。"
_CHINESE = re.compile(r"[\u4e00-\u9fff]")


# What DRF writes in English without a translation (not a gettext string)
_UNTRANSLATED = {"No data provided": "未提供数据。"}


def _in_chinese(detail):
    if isinstance(detail, dict):
        return {key: _in_chinese(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_in_chinese(value) for value in detail]
    if isinstance(detail, exceptions.ErrorDetail) and str(detail) in _UNTRANSLATED:
        return exceptions.ErrorDetail(_UNTRANSLATED[str(detail)], code=detail.code)
    return detail


def exception_handler(exc, context):
    """One place that turns domain errors into API responses (400 with a Chinese `detail`); what DRF and Django say
    in English of a body that is not JSON, or of an object not found, said in Chinese; a value Python or the database
    cannot hold (`bad_input_message`) a 400, not a 500."""
    message = bad_input_message(exc)
    if message is not None:
        return Response({"detail": message}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Http404) and not _CHINESE.search(str(exc)):
        exc = exceptions.NotFound(NOT_FOUND)  # get_object_or_404's "No Assessment matches the given query."
    if isinstance(exc, exceptions.ParseError) and not _CHINESE.search(str(exc.detail)):
        exc = exceptions.ParseError("请求内容不是有效的 JSON，未处理。")
    if isinstance(exc, exceptions.ValidationError):
        exc.detail = _in_chinese(exc.detail)
    if isinstance(exc, ApplicationError):
        body = {"detail": exc.message}
        if exc.field:
            body["field"] = exc.field
        body.update(exc.extra)
        return Response(body, status=getattr(exc, "status_code", status.HTTP_400_BAD_REQUEST))
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "message_dict"):
            return Response(exc.message_dict, status=status.HTTP_400_BAD_REQUEST)
        return Response({"detail": " ".join(exc.messages)}, status=status.HTTP_400_BAD_REQUEST)
    return drf_exception_handler(exc, context)


class SignInView(ObtainAuthToken):
    """Exchange a username and password for an API token (for the caregivers' mobile app); DELETE signs out.

    Throttled, and counted by the same lockout as the sign-in page (5 failures lock the account 30 minutes). The token
    lasts API_TOKEN_LIFETIME_SECONDS (the phone then signs in again) and ends with a password change or deactivation.
    """

    throttle_classes = [SignInRateThrottle]
    permission_classes = [AllowAny]

    @extend_schema(
        request=AuthTokenSerializer,
        responses=inline_serializer(
            "ApiToken", {"token": serializers.CharField(), "expires_at": serializers.DateTimeField()}
        ),
    )
    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token = actions.api_token_issue(user=serializer.validated_data["user"])
        return Response({"token": token.key, "expires_at": token_expires_at(token)})

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, *args, **kwargs):
        if not isinstance(request.auth, Token):
            return Response({"detail": "请使用登录时取得的令牌退出。"}, status=status.HTTP_400_BAD_REQUEST)
        actions.api_token_revoke(token=request.auth, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)
