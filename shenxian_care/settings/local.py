"""Development on one machine: SQLite and in-process Celery unless the environment says otherwise."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env("DEBUG", default=True)
DEMO_DATA_ALLOWED = env.bool("DEMO_DATA_ALLOWED", default=True)
