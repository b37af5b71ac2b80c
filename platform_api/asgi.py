"""ASGI entry point."""

import os

from django.core.asgi import get_asgi_application

from platform_api.pooler import log_database_modes

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "platform_api.settings.production")

application = get_asgi_application()

# As in wsgi.py: the pooler mode in the log, and a contradiction stops the server.
log_database_modes()
