"""Request ids and log lines an operator's log collector can read (LOG_FORMAT=json: one JSON object a line).

The request id comes from the proxy (nginx's `$request_id`, sent as X-Request-ID) or is made here, is returned
in the response's X-Request-ID header, and is on every log line written while the request is handled, so one
line in the nginx log leads to every line the portal wrote for it.
"""

import contextvars
import datetime
import json
import logging
import re
import uuid

_request_id = contextvars.ContextVar("request_id", default="")
# Only a plain token is taken from outside: a header must never be able to forge log structure.
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def current_request_id():
    return _request_id.get()


class RequestIdMiddleware:
    header = "HTTP_X_REQUEST_ID"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.META.get(self.header, "")
        request_id = given if _VALID_ID.match(given) else uuid.uuid4().hex
        request.request_id = request_id
        token = _request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _request_id.reset(token)
        response["X-Request-ID"] = request_id
        return response


class RequestIdFilter(logging.Filter):
    """Puts the current request id (or "-" outside a request) on every record, for both formats."""

    def filter(self, record):
        # Django logs a request's 4xx and 5xx after the middleware has returned, with the request attached.
        attached = getattr(getattr(record, "request", None), "request_id", None)
        record.request_id = _request_id.get() or attached or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, request id, and the traceback."""

    def format(self, record):
        entry = {
            "time": datetime.datetime.fromtimestamp(record.created, tz=datetime.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
            "process": record.process,
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)
