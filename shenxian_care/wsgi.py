import os

from django.core.wsgi import get_wsgi_application

# Production unless told otherwise: only manage.py defaults to the development settings.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shenxian_care.settings.production")
application = get_wsgi_application()
