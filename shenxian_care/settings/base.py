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
    "shenxian_care.middleware.RequestSizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "shenxian_care.content_security.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "shenxian_care.middleware.SessionLimitsMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "auditlog.middleware.AuditlogMiddleware",
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
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
# Bureau staff in the admin can be required to confirm a TOTP code (django-otp).
ADMIN_REQUIRE_OTP = env.bool("ADMIN_REQUIRE_OTP", default=False)
OTP_TOTP_ISSUER = "莘县特困照料服务平台"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
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

# Throttle counters stay in-process: Redis being down must never stop the portal.
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

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "shenxian_care.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "shenxian_care.api.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "shenxian_care.throttling.WriteRateThrottle",
        "rest_framework.throttling.AnonRateThrottle",
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
REDIS_URL = env("REDIS_URL")
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
}
CELERY_TIMEZONE = TIME_ZONE
# A broker that is down must fail fast: the portal keeps the task in its outbox and moves on.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 2
CELERY_BEAT_SCHEDULE = {
    "audit-purge-expired": {
        "task": "shenxian_care.tasks.audit_purge_expired_task",
        "schedule": crontab(minute=0, hour=3, day_of_month=2),
    },
    "export-cleanup": {
        "task": "shenxian_care.tasks.export_cleanup_task",
        "schedule": crontab(minute=40, hour=3),
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
}

AUDITLOG_INCLUDE_ALL_MODELS = False

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}

# How many confirmed months a settlement re-checks for corrections (backdated exits, level changes): they
# appear as adjustment lines in the next open month.
BILLING_ADJUSTMENT_LOOKBACK_MONTHS = env.int("BILLING_ADJUSTMENT_LOOKBACK_MONTHS", default=3)
