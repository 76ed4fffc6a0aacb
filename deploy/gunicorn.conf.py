"""gunicorn settings for the web processes (Procfile and deploy/shenxian-web.service both use this file).

Every value can be overridden from the environment: WEB_BIND, WEB_CONCURRENCY (worker processes; default two
per core plus one), WEB_TIMEOUT. Behind nginx (deploy/nginx.conf) the web binds to 127.0.0.1 only, so only the
proxy can reach it, and only the proxy's X-Forwarded-Proto and X-Real-IP are believed.
"""

import multiprocessing
import os

bind = os.environ.get("WEB_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
# Requests are short (exports, settlements, imports run on the workers); a stuck one is ended and logged.
timeout = int(os.environ.get("WEB_TIMEOUT", "60"))
graceful_timeout = 30
# A worker process is replaced after this many requests (with jitter), so a slow leak never grows for months.
max_requests = 2000
max_requests_jitter = 200
forwarded_allow_ips = os.environ.get("TRUSTED_PROXIES", "127.0.0.1,::1")
accesslog = "-"
errorlog = "-"
# The access log carries the request id the portal logs with (nginx's $request_id, or the portal's own).
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms rid=%({x-request-id}o)s'

if os.environ.get("LOG_FORMAT") == "json":
    # gunicorn's own lines (start-up, worker deaths, the access log) as JSON too, like the portal's.
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "shenxian_care.observability.JsonFormatter"}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json"}},
        "loggers": {
            "gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
            "gunicorn.access": {"handlers": ["console"], "level": "INFO", "propagate": False},
        },
    }
