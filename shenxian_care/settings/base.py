"""Settings shared by every environment; values come from the environment (12-factor)."""

from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env(
    DEBUG=(bool, False),
    ALLOWED_HOSTS=(list, ["127.0.0.1", "localhost"]),
    REDIS_URL=(str, ""),
)
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env("DEBUG")
# `seed_demo` and `seed_demo_visits` invent people and visits: only on a development or demo database.
DEMO_DATA_ALLOWED = False
SECRET_KEY = env("SECRET_KEY", default="insecure-dev-key-change-me-in-production-0000000000")
ALLOWED_HOSTS = env("ALLOWED_HOSTS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "auditlog",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "csp",
    "shenxian_care",
    "recipients",
    "contracts",
    "services",
    "supervision",
    "billing",
]

AUTH_USER_MODEL = "shenxian_care.User"

MIDDLEWARE = [
    "shenxian_care.observability.RequestIdMiddleware",
    "shenxian_care.middleware.TrustedProxyClientAddressMiddleware",
    "shenxian_care.middleware.RequestSizeLimitMiddleware",
    "shenxian_care.middleware.PageMethodsMiddleware",
    "shenxian_care.middleware.BadInputMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "shenxian_care.headers.PrivacyHeadersMiddleware",
    "shenxian_care.content_security.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "shenxian_care.middleware.SessionLimitsMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "shenxian_care.audit.AuditlogMiddleware",
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    # Axes first: it refuses a locked-out username before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "shenxian_care.urls"
WSGI_APPLICATION = "shenxian_care.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "shenxian_care.context_processors.portal",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
# Persistent connections: each web and worker process keeps its connection this many seconds (0: a new one for
# every request, +35-50 ms each), checked before reuse so a restarted PostgreSQL costs one failed check, not a 500.
# Behind a pooler (PgBouncer, transaction mode) keep them too (to the pooler) and turn server-side cursors off.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("CONN_HEALTH_CHECKS", default=True)
DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env.bool("DISABLE_SERVER_SIDE_CURSORS", default=False)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "shenxian_care.password_validation.CharacterClassValidator", "OPTIONS": {"min_classes": 3}},
]

# Sign-in security (等保 2.0 level 2 身份鉴别): 5 failures lock the username for 30 minutes.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = 0.5  # hours
# By the user name, and by the user name from one address; never by the address alone: behind the county's proxy
# everyone shares one address, and one person's five mistakes must not lock out the whole office.
AXES_LOCKOUT_PARAMETERS = ["username", ["username", "ip_address"]]
# The address and the user name as the audit trail has them (shenxian_care.audit): the client behind the proxy, and
# an ID number typed as a user name kept masked in axes' tables.
AXES_CLIENT_IP_CALLABLE = "shenxian_care.audit.client_address"
AXES_USERNAME_CALLABLE = "shenxian_care.audit.sign_in_username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
# Bureau staff in the admin can be required to confirm a TOTP code (django-otp).
ADMIN_REQUIRE_OTP = env.bool("ADMIN_REQUIRE_OTP", default=False)
OTP_TOTP_ISSUER = "莘县特困照料服务平台"

# Chinese only, whatever language the browser asks for (no LocaleMiddleware): a clerk's English browser must not
# turn form errors or the admin into English.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
FORMAT_MODULE_PATH = ["shenxian_care.formats"]
# Chinese for what Django's and the third-party apps' own catalogs lack (locale/zh_Hans/LC_MESSAGES/django.po).
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")

# Finished exports (导出任务) are private: outside MEDIA_ROOT, with no URL, handed out only to the person who
# asked for them (audited), and deleted after EXPORT_RETENTION_DAYS (daily from beat). Not in backups.
EXPORTS_ROOT = env.path("EXPORTS_ROOT", default=BASE_DIR / "private" / "exports")
EXPORT_RETENTION_DAYS = env.int("EXPORT_RETENTION_DAYS", default=7)
# Roster uploads never applied (failed, discarded, left unconfirmed) hold the province's full list of ID numbers,
# phones and addresses: deleted after ROSTER_RETENTION_DAYS (daily from beat).
ROSTER_RETENTION_DAYS = env.int("ROSTER_RETENTION_DAYS", default=30)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "exports": {"BACKEND": "shenxian_care.storage.PrivateStorage", "OPTIONS": {"location": str(EXPORTS_ROOT)}},
}

# No request body larger than this is read at all (rosters are well under 10 MB, photos under 5 MB each).
MAX_REQUEST_BYTES = 25 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "portal:home"
LOGOUT_REDIRECT_URL = "login"

# Sessions end after 30 minutes idle (the cookie age is renewed on every request) and 12 hours in all.
SESSION_COOKIE_AGE = 30 * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_ABSOLUTE_SECONDS = 12 * 60 * 60
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

# Content-Security-Policy (django-csp): scripts, styles, fonts and fetches come from the portal itself, and no
# inline script, event handler, javascript: URL or style attribute runs, so markup slipped into a name or a note
# cannot act. Photos and signatures are previewed from blob: and data: URLs. The API docs need a little more,
# granted on those responses only (shenxian_care/content_security.py). CSP_REPORT_ONLY=1 sends the same policy as
# Content-Security-Policy-Report-Only (the browser reports, nothing is blocked) to try a change in production;
# CSP_REPORT_URI names a collector for the reports. Both are read into lower-case names: django-csp 4 refuses to
# start with settings named CSP_* (its pre-4.0 format).
_csp_directives = {
    "default-src": [SELF],
    "script-src": [SELF],
    "style-src": [SELF],
    "img-src": [SELF, "data:", "blob:"],
    "connect-src": [SELF],
    "font-src": [SELF],
    "object-src": [NONE],
    "base-uri": [SELF],
    "frame-ancestors": [NONE],
    "form-action": [SELF],
}
_csp_report_uri = env.str("CSP_REPORT_URI", default="")
if _csp_report_uri:
    _csp_directives["report-uri"] = [_csp_report_uri]
_csp_report_only = env.bool("CSP_REPORT_ONLY", default=False)
CONTENT_SECURITY_POLICY = None if _csp_report_only else {"DIRECTIVES": _csp_directives}
CONTENT_SECURITY_POLICY_REPORT_ONLY = {"DIRECTIVES": _csp_directives} if _csp_report_only else None

# Permissions-Policy (shenxian_care.headers): the caregivers' check-in asks for the position (geolocation, the portal
# itself only); no page uses a device otherwise. Photos are taken through a file input (capture="environment"), which
# opens the phone's camera app and needs no camera permission (that governs getUserMedia, which nothing here uses).
PERMISSIONS_POLICY = (
    "geolocation=(self), camera=(), microphone=(), payment=(), usb=(), serial=(), bluetooth=(), "
    "accelerometer=(), gyroscope=(), magnetometer=(), display-capture=()"
)

# The client's address behind the county's proxy: the one header nginx sets (deploy/nginx.conf sets X-Real-IP),
# believed only from TRUSTED_PROXIES. Empty: REMOTE_ADDR as it arrives (no proxy, as with `make run`).
CLIENT_IP_HEADER = env.str("CLIENT_IP_HEADER", default="")
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=["127.0.0.1", "::1"])

# API throttle counters live in Redis when it is configured, so N web processes share one count per user (in
# per-process memory every limit would be N times looser). Short timeouts, and shenxian_care.throttling counts
# in the process for as long as Redis does not answer: Redis being down must never stop the portal.
REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": env.str("CACHE_URL", default=REDIS_URL),
            "KEY_PREFIX": "shenxian-cache",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "shenxian"}}


# Encryption at rest of ID numbers and bank accounts (shenxian_care.crypto). Production sets both from the
# environment (FIELD_ENCRYPTION_KEYS: Fernet keys, comma-separated, first one encrypts); development and tests
# derive fixed ones from SECRET_KEY so that `make run` needs nothing set.
def _derived_key(purpose):
    import base64
    import hashlib

    return base64.urlsafe_b64encode(hashlib.sha256(f"{SECRET_KEY}:{purpose}".encode()).digest()).decode()


FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[_derived_key("field-encryption")])
ID_HASH_KEY = env("ID_HASH_KEY", default=_derived_key("id-digest"))

# The audit trail never stores a full ID number, bank account or phone (see shenxian_care.audit.register).
AUDITLOG_MASK_CALLABLE = "shenxian_care.privacy.mask_audit_value"
# Audit records are kept at least 6 months (等保); the default keeps them three years.
AUDIT_RETENTION_DAYS = env.int("AUDIT_RETENTION_DAYS", default=3 * 365)

# An API token (the caregivers' phones) lasts this long from sign-in; the phone then signs in again. It also ends on
# sign-out, a password change and deactivation (shenxian_care.authentication).
API_TOKEN_LIFETIME_SECONDS = env.int("API_TOKEN_LIFETIME_SECONDS", default=12 * 60 * 60)

# The bureau's dashboard (polled every 30 s) computes the month's figures (visits by town and provider, provider
# compliance, recipients overdue) at most this often per viewer's scope and filters: they are never older than this.
# 0: computed on every request. The live parts (in progress, today, exceptions) are always read fresh. While a
# dashboard is open, beat computes its figures again every 30 s (services.tasks.dashboard_refresh_task), so viewers
# read them rather than wait for them; keep this at 60 or more so they never lapse between two refreshes.
DASHBOARD_MONTH_SECONDS = env.int("DASHBOARD_MONTH_SECONDS", default=60)
# A view not kept whose last computation took longer than this (seconds) is computed by a worker, not by the request
# that finds it missing (services.monitoring._month_figures): the page shows the rest at once and the month's figures
# seconds later. A county's views take a fraction of a second and are computed by the request, as before. A view whose
# cost is not known (neither it nor any view of its scope computed in the last day) goes to a worker, and its request
# waits for it until this long after the dashboard's reads began (their live part, about 0.05 s at city scale, is
# inside it): 0.25 s leaves the rest of the page (session, filters, rendering) within 0.3 s.
DASHBOARD_INLINE_SECONDS = env.float("DASHBOARD_INLINE_SECONDS", default=0.25)
# The queue those refreshes go to. One refresh of a province's county-wide view takes a good part of its 30 s: name a
# queue of its own here and start a worker for it (README "Production"), so settlements and exports never wait
# behind it. Default: the one queue every worker takes.
DASHBOARD_REFRESH_QUEUE = env.str("DASHBOARD_REFRESH_QUEUE", default="celery")

REST_FRAMEWORK = {
    # The token first: a phone whose token has ended is told 401 (sign in again), not 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "shenxian_care.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON, and the browsable API without its forms (their choices would list every recipient: renderers.py)
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "shenxian_care.renderers.BrowsableAPIWithoutFormsRenderer",
    ],
    "DEFAULT_FILTER_BACKENDS": ["shenxian_care.filters.FilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "shenxian_care.api.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "shenxian_care.throttling.WriteRateThrottle",
        "shenxian_care.throttling.AnonymousRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "writes": "120/minute",
        "visit_uploads": env.str("VISIT_UPLOAD_RATE", default="600/minute"),
        "anon": "30/minute",
        "sign_in": "10/minute",
    },
}

SPECTACULAR_SETTINGS = {
    "TITLE": "莘县分散供养特困人员照料服务平台 API",
    "DESCRIPTION": "Shen County care-services portal API (v1).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Every choice set gets its own name in the schema (a new TextChoices needs a line here; the
    # schema test fails on any collision).
    "ENUM_NAME_OVERRIDES": {
        "AgreementStatusEnum": "contracts.models.AgreementStatus",
        "ApprovalStatusEnum": "recipients.models.ApprovalStatus",
        "CareLevelEnum": "recipients.models.CareLevel",
        "CivilCapacityEnum": "recipients.models.CivilCapacity",
        "ComplaintChannelEnum": "supervision.models.rectification.ComplaintChannel",
        "ComplaintPriorityEnum": "supervision.models.rectification.ComplaintPriority",
        "ComplaintRouteEnum": "supervision.models.rectification.ComplaintRoute",
        "ComplaintStatusEnum": "supervision.models.rectification.ComplaintStatus",
        "ConfirmationModeEnum": "services.models.ConfirmationMode",
        "ContractStatusEnum": "contracts.models.ContractStatus",
        "CorrectionReasonEnum": "services.models.CorrectionReason",
        "CorrectionStatusEnum": "services.models.CorrectionStatus",
        "CrossCheckEventEnum": "supervision.models.crosscheck.CrossCheckEvent",
        "CrossCheckHitStatusEnum": "supervision.models.crosscheck.CrossCheckHitStatus",
        "DeductionSourceEnum": "supervision.models.deductions.DeductionSource",
        "DeductionStatusEnum": "supervision.models.deductions.DeductionStatus",
        "EvaluationStatusEnum": "supervision.models.evaluations.EvaluationStatus",
        "ExceptionReasonEnum": "services.models.ExceptionReason",
        "ExitReasonEnum": "recipients.models.ExitReason",
        "FlagKindEnum": "services.models.FlagKind",
        "GpsRuleStatusEnum": "services.models.GpsRuleStatus",
        "LevelSourceEnum": "recipients.models.LevelSource",
        "LineKindEnum": "billing.models.LineKind",
        "NotificationKindEnum": "supervision.models.notifications.NotificationKind",
        "PayeeKindEnum": "billing.models.PayeeKind",
        "PayeeModeEnum": "contracts.models.PayeeMode",
        "ProblemCategoryEnum": "supervision.models.problems.ProblemCategory",
        "ProblemStatusEnum": "supervision.models.problems.ProblemStatus",
        "RectificationSourceEnum": "supervision.models.rectification.RectificationSource",
        "RectificationStatusEnum": "supervision.models.rectification.RectificationStatus",
        "ReviewDecisionEnum": "supervision.models.reviews.ReviewDecision",
        "ReviewStatusEnum": "supervision.models.reviews.ReviewStatus",
        "RoleEnum": "shenxian_care.models.Role",
        "RosterStatusEnum": "recipients.models.RosterStatus",
        "RunStateEnum": "billing.models.RunState",
        "SecurityEventKindEnum": "shenxian_care.models.SecurityEventKind",
        "ServiceItemEnum": "services.models.ServiceItem",
        "SettlementStatusEnum": "billing.models.SettlementStatus",
        "SpotCheckMethodEnum": "supervision.models.spotchecks.SpotCheckMethod",
        "SpotCheckResultEnum": "supervision.models.spotchecks.SpotCheckResult",
        "VisitKindEnum": "services.models.VisitKind",
        "VisitStatusEnum": "services.models.VisitStatus",
    },
}

# Celery: with no REDIS_URL the tasks run in-process, so `make run` needs nothing else running.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Longer than the longest task (a province-scale settlement), so Redis never redelivers a running task.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=4 * 60 * 60),
    # How often a worker sweeps for tasks whose worker died (interval × throttle seconds).
    "unacked_restore_interval": env.int("CELERY_UNACKED_RESTORE_INTERVAL", default=10),
    "unacked_restore_throttle": env.int("CELERY_UNACKED_RESTORE_THROTTLE", default=10),
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
    # A sender (a web process pressing a button, beat, a worker publishing) tries Redis twice within half a second,
    # then gives up: the outbox keeps the work. Workers' own reconnecting is broker_connection_max_retries below.
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_TIMEZONE = TIME_ZONE
# Workers and beat log through LOGGING below (JSON lines with LOG_FORMAT=json), not Celery's own set-up.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# A long run (export, roster import) beats on its progress row every JOB_LEASE_SECONDS / 4 while it works; one
# silent for JOB_LEASE_SECONDS is dead (its worker was killed) and may be redone or asked for again.
JOB_LEASE_SECONDS = env.int("JOB_LEASE_SECONDS", default=45)
# An outbox entry sent this long ago (seconds) whose task has not finished is sent again (shenxian_care/queue.py).
OUTBOX_RESEND_AFTER = env.int("OUTBOX_RESEND_AFTER", default=10 * 60)
# A broker that is down must fail fast: the portal keeps the task in its outbox and moves on.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Workers and beat never give up on Redis (the default gives up after about 46 minutes of attempts and the
# process exits, while the portal still promises the work will run); /healthz shows a long outage.
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 2
CELERY_REDIS_SOCKET_TIMEOUT = 5
CELERY_RESULT_BACKEND_ALWAYS_RETRY = True
# Beat's scheduler records a heartbeat in Redis at every tick (shenxian_care/beat.py); /healthz reads it.
CELERY_BEAT_SCHEDULER = "shenxian_care.beat:HeartbeatScheduler"
CELERY_BEAT_SCHEDULE = {
    "audit-purge-expired": {
        "task": "shenxian_care.tasks.audit_purge_expired_task",
        "schedule": crontab(minute=0, hour=3, day_of_month=2),
    },
    "export-cleanup": {
        "task": "shenxian_care.tasks.export_cleanup_task",
        "schedule": crontab(minute=40, hour=3),
    },
    "roster-purge-expired": {
        "task": "recipients.tasks.roster_purge_expired_task",
        "schedule": crontab(minute=50, hour=3),
    },
    "outbox-relay": {
        "task": "shenxian_care.tasks.outbox_relay_task",
        "schedule": 60.0,
    },
    "settlement-draft-previous-month": {
        "task": "billing.tasks.settlement_draft_previous_month_task",
        "schedule": crontab(minute=30, hour=1, day_of_month=1),
    },
    "half-year-review": {
        "task": "supervision.tasks.half_year_review_build_task",
        "schedule": crontab(minute=0, hour=2, day_of_month=1, month_of_year="1,7"),
    },
    "rectification-mark-overdue": {
        "task": "supervision.tasks.rectification_mark_overdue_task",
        "schedule": crontab(minute=10, hour=0),
    },
    "evaluation-remind-missing": {
        "task": "supervision.tasks.evaluation_remind_missing_task",
        "schedule": crontab(minute=0, hour=9, day_of_month="1-5"),
    },
    "visits-flag-overdue": {
        "task": "services.tasks.visit_flag_overdue_task",
        "schedule": crontab(minute=20, hour=0),
    },
    # the month figures of the dashboards open now, kept under DASHBOARD_MONTH_SECONDS old; a run not started
    # within 25 s is dropped (the next one is due), so a stopped worker does not come back to a pile of them
    "dashboard-refresh": {
        "task": "services.tasks.dashboard_refresh_task",
        "schedule": 30.0,
        "options": {"expires": 25},
    },
}

CELERY_TASK_ROUTES = {
    "services.tasks.dashboard_refresh_task": {"queue": DASHBOARD_REFRESH_QUEUE},
    "services.tasks.dashboard_view_task": {"queue": DASHBOARD_REFRESH_QUEUE},
}

AUDITLOG_INCLUDE_ALL_MODELS = False

# /healthz answers 503 when beat's or a worker's heartbeat is older than this (seconds; beat ticks every 15 s, a
# worker beats every minute), or when background work has waited longer than HEALTH_QUEUE_MAX_AGE.
HEALTH_HEARTBEAT_MAX_AGE = env.int("HEALTH_HEARTBEAT_MAX_AGE", default=180)
HEALTH_QUEUE_MAX_AGE = env.int("HEALTH_QUEUE_MAX_AGE", default=15 * 60)

# LOG_FORMAT=json: one JSON object a line (time, level, logger, message, request_id), for a log collector;
# otherwise plain text. Both carry the request id (shenxian_care.observability).
LOG_FORMAT = env.str("LOG_FORMAT", default="text")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "shenxian_care.observability.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "shenxian_care.observability.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": "json" if LOG_FORMAT == "json" else "text",
        }
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}

# Corrections to confirmed months (a death reported late, a backdated level change) appear as adjustment lines
# in the next open month, however old the month. A county may set a limit in months: corrections older than
# that are listed on the settlement as 待处理追溯 with their amounts, never dropped. Empty: no limit.
_LOOKBACK = env("BILLING_ADJUSTMENT_LOOKBACK_MONTHS", default="")
BILLING_ADJUSTMENT_LOOKBACK_MONTHS = int(_LOOKBACK) if _LOOKBACK.strip() else None
# Exits other than a death (特困人员认定办法: support stops from the month after the decision): paid by day up to the
# exit (default), or, with this on, to the end of the month in which support ends. A death is always by day, the
# day of death paid (recipients.models.support_exit_date).
SUPPORT_EXIT_PAID_TO_MONTH_END = env.bool("SUPPORT_EXIT_PAID_TO_MONTH_END", default=False)
