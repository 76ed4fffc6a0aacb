"""API plumbing shared by every app: the one place a domain error becomes a response."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import status
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .exceptions import ApplicationError
from .throttling import SignInRateThrottle


def exception_handler(exc, context):
    """One place that turns domain errors into API responses (400 with a Chinese `detail`)."""
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
    """Exchange a username and password for an API token (for the caregivers' mobile app).

    Throttled, and counted by the same lockout as the sign-in page (5 failures lock the account 30 minutes).
    """

    throttle_classes = [SignInRateThrottle]
    permission_classes = [AllowAny]
