"""API throttles (a module of its own: DRF loads it while its own views are still importing)."""

from rest_framework.throttling import AnonRateThrottle as BaseAnonRateThrottle
from rest_framework.throttling import UserRateThrottle


class ClientAddressMixin:
    """Counts an anonymous caller by `client_address` (DRF's own count believes any X-Forwarded-For sent, so a
    client could step round the limit by sending a new one each time)."""

    def get_ident(self, request):
        from .audit import client_address

        return client_address(request)


class AnonRateThrottle(ClientAddressMixin, BaseAnonRateThrottle):
    pass


class WriteRateThrottle(ClientAddressMixin, UserRateThrottle):
    """Limits writes (POST, PUT, PATCH, DELETE) per user; reads are not throttled."""

    scope = "writes"

    def allow_request(self, request, view):
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return True
        return super().allow_request(request, view)


class SignInRateThrottle(AnonRateThrottle):
    scope = "sign_in"


class VisitUploadRateThrottle(WriteRateThrottle):
    """Visit uploads from caregivers' phones have a larger allowance of their own: a phone back in signal after
    a day in the villages replays its whole queue (check-ins, check-outs, photos), one request each."""

    scope = "visit_uploads"
