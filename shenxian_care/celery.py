import os

from celery import Celery

# Production unless told otherwise (`make worker` and `make beat` ask for the development settings).
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shenxian_care.settings.production")

app = Celery("shenxian_care")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
