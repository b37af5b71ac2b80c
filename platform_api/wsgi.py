"""WSGI entry point (gunicorn: `platform_api.wsgi:application`)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "platform_api.settings.production")

application = get_wsgi_application()
