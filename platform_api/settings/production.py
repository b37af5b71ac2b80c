"""Production: no insecure defaults. Refuses to start without its required variables."""

from django.core.exceptions import ImproperlyConfigured

from platform_api.env import env_bool, env_int, env_list, env_required

from .base import *  # noqa: F403
from .base import database_config

SECRET_KEY = env_required("SECRET_KEY", "a long random value that signs sessions (admin).")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
if not ALLOWED_HOSTS:
    # A value made only of commas and blanks names no host: as good as missing.
    raise ImproperlyConfigured(
        "The environment variable ALLOWED_HOSTS is required: "
        "the host names this service answers for, comma-separated."
    )
DATABASE_URL = env_required("DATABASE_URL", "e.g. postgres://user:password@host:5432/dbname")
DATABASES["default"] = database_config(DATABASE_URL)  # noqa: F405

# DEBUG cannot be turned on here, whatever the environment says.
DEBUG = False

SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
# Health checks come over plain HTTP from inside the deployment.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
X_FRAME_OPTIONS = "DENY"
