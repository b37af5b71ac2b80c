"""Production: no insecure defaults. Refuses to start without its required variables."""

from django.core.exceptions import ImproperlyConfigured

from platform_api.env import env_bool, env_int, env_list, env_required
from platform_api.throttling_storage import uses_shared_storage

from .base import *  # noqa: F403
from .base import CACHE_URL, RATE_LIMITS, database_config

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

# A per-process budget would let each worker grant the whole budget: with limits on, the
# budgets must live in Redis, shared by every worker and server.
if any(RATE_LIMITS.values()) and not uses_shared_storage(CACHE_URL):
    raise ImproperlyConfigured(
        "The environment variable CACHE_URL is required: a redis:// (or rediss://, unix://) URL "
        "where every worker and server keeps the rate-limit budgets (or RATE_LIMIT=off and "
        "RATE_LIMIT_ADDRESS=off)."
    )

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
