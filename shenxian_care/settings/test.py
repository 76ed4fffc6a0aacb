"""Settings for the test suite: fast hashing, in-process tasks unless a test asks for the real worker."""

from .base import *  # noqa: F403
from .base import env

DEBUG = False
DEMO_DATA_ALLOWED = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# In-process tasks, except in the processes that tests start as a real worker (CELERY_REAL_WORKER=1).
CELERY_TASK_ALWAYS_EAGER = not env.bool("CELERY_REAL_WORKER", default=False)
MEDIA_ROOT = BASE_DIR / "test-artifacts" / "media"  # noqa: F405
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    # On disk, not in memory: a real Celery worker (another process) builds the files the live server serves.
    "exports": {
        "BACKEND": "shenxian_care.storage.PrivateStorage",
        "OPTIONS": {"location": str(BASE_DIR / "test-artifacts" / "exports")},  # noqa: F405
    },
}

# In-process counters even where REDIS_URL is set (CI): tests clear the cache, which must never flush Redis.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "shenxian-test"}}
# Every test reads the dashboard fresh (tests of the dashboard's cache turn it on).
DASHBOARD_MONTH_SECONDS = 0

# Throttling is tested on its own (tests/shenxian_care/test_sign_in.py); elsewhere it would only make
# the suite's many requests flaky.
REST_FRAMEWORK = {
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_THROTTLE_RATES": {
        "writes": "100000/minute",
        "visit_uploads": "100000/minute",
        "anon": "100000/minute",
        "sign_in": "100000/minute",
    },
}
