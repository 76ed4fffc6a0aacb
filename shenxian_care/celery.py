import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shenxian_care.settings.local")

app = Celery("shenxian_care")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
