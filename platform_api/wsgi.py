"""WSGI entry point (gunicorn: `platform_api.wsgi:application`)."""

import gc
import os

from django.core.wsgi import get_wsgi_application

from platform_api.pooler import log_database_modes

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "platform_api.settings.production")

application = get_wsgi_application()

# Which pooler mode is in force, in the log of every worker; a contradiction between the
# settings and the pooler found (ImproperlyConfigured) stops the worker before it serves.
log_database_modes()

# What is loaded by now (Django, the apps, their modules) lives as long as the worker: moved out
# of the collector's generations, it is not walked again by every older-generation collection
# (bench/cpu_profile.py under gc callbacks: ~30% less collection time per request).
gc.freeze()
