"""API throttles (a module of its own: DRF loads it while its own views are still importing).

Counters live in the default cache: Redis when REDIS_URL is set, so every web process counts against the same
limit. If Redis does not answer, the count goes on in this process's memory until it does: a limit a little
looser for a while, never a refused request because of a cache.
"""

import logging
import time

from django.core.cache.backends.locmem import LocMemCache
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

logger = logging.getLogger(__name__)
_local = LocMemCache("throttle-fallback", {})
# After a failure the shared cache is left alone this long, so a hung Redis costs one request its timeout, not
# every request.
RETRY_SHARED_AFTER = 30.0
_shared_down_until = 0.0


class SharedCounterMixin:
    def allow_request(self, request, view):
        global _shared_down_until
        if time.monotonic() >= _shared_down_until:
            try:
                return super().allow_request(request, view)
            except Exception:  # noqa: BLE001 - any cache failure: count locally instead
                logger.warning("throttle cache unavailable: counting in this process for a while")
                _shared_down_until = time.monotonic() + RETRY_SHARED_AFTER
        shared, self.cache = self.cache, _local
        try:
            return super().allow_request(request, view)
        finally:
            self.cache = shared


class ClientAddressMixin:
    """Counts an anonymous caller by `client_address` (DRF's own count believes any X-Forwarded-For sent, so a
    client could step round the limit by sending a new one each time)."""

    def get_ident(self, request):
        from .audit import client_address

        return client_address(request)


class AnonymousRateThrottle(ClientAddressMixin, SharedCounterMixin, AnonRateThrottle):
    pass


class WriteRateThrottle(ClientAddressMixin, SharedCounterMixin, UserRateThrottle):
    """Limits writes (POST, PUT, PATCH, DELETE) per user; reads are not throttled."""

    scope = "writes"

    def allow_request(self, request, view):
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return True
        return super().allow_request(request, view)


class SignInRateThrottle(AnonymousRateThrottle):
    scope = "sign_in"


class VisitUploadRateThrottle(WriteRateThrottle):
    """Visit uploads from caregivers' phones have a larger allowance of their own: a phone back in signal after
    a day in the villages replays its whole queue (check-ins, check-outs, photos), one request each."""

    scope = "visit_uploads"
