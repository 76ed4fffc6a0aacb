"""Settings for the real Celery worker started by test_worker.py: the test settings, but tasks go through
the broker. (Until settings/test.py reads CELERY_REAL_WORKER itself, this module does the one override.)"""

from shenxian_care.settings.test import *  # noqa: F403

CELERY_TASK_ALWAYS_EAGER = False
