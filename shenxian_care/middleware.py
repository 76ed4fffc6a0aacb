import logging
import time

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpResponseNotAllowed, JsonResponse
from django.shortcuts import render

from .exceptions import bad_input_message

logger = logging.getLogger(__name__)


class SessionLimitsMiddleware:
    """Ends a session 12 hours after sign-in, however active (the 30-minute idle limit is the cookie age)."""

    KEY = "_signed_in_at"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            started = request.session.get(self.KEY)
            now = int(time.time())
            if started is None:
                request.session[self.KEY] = now
            elif now - started > settings.SESSION_ABSOLUTE_SECONDS:
                logout(request)
        return self.get_response(request)


class RequestSizeLimitMiddleware:
    """Refuses a request body over MAX_REQUEST_BYTES before Django reads it (a huge upload is never spooled)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.MAX_REQUEST_BYTES:
            from django.http import HttpResponse

            limit = settings.MAX_REQUEST_BYTES // (1024 * 1024)
            return HttpResponse(
                f"上传内容过大（超过{limit}MB）。", status=413, content_type="text/plain; charset=utf-8"
            )
        return self.get_response(request)


class TrustedProxyClientAddressMiddleware:
    """Behind the county's nginx every request comes from 127.0.0.1: take the client's address from the one header
    the proxy sets (CLIENT_IP_HEADER, e.g. X-Real-IP), and only when the request came from a trusted proxy, so a
    client can never choose the address its sign-in failures and audit records are counted under."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from .audit import client_address

        request.META["REMOTE_ADDR"] = client_address(request)
        return self.get_response(request)


class PageMethodsMiddleware:
    """The portal, sign-in and admin pages are read with GET (or HEAD) and written with a form's POST: any other method
    is refused with 405 before a view runs, rather than answered as if it were a GET. The API (/api/) answers every
    method itself (DRF: 405 for one a view does not take)."""

    ALLOWED = ("GET", "HEAD", "POST")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in self.ALLOWED and not request.path.startswith("/api/"):
            response = HttpResponseNotAllowed(self.ALLOWED, "此页面不支持该请求方式。")
            response["Content-Type"] = "text/plain; charset=utf-8"
            return response
        return self.get_response(request)


class BadInputMiddleware:
    """A request whose input Python, the JSON parser or the database cannot hold (`exceptions.bad_input_message`) is
    answered 400 with a Chinese message, never a 500: JSON under /api/, the portal's error page elsewhere. Whatever
    else a view raises is left to Django (a 500, logged). Also reached by an error while a response is rendered (DRF
    rendering an error that repeats a lone surrogate sent to it)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        message = bad_input_message(exception)
        if message is None:
            return None
        logger.warning("bad input refused: %s %s (%s)", request.method, request.path, type(exception).__name__)
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": message}, status=400, json_dumps_params={"ensure_ascii": False})
        return render(request, "400.html", {"message": message}, status=400)
