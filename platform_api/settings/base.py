"""Settings shared by every environment. Environment-specific modules import * from here."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url

from platform_api import pooler
from platform_api.env import (
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_optional_bool,
    env_rate,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parent.parent.parent

SECRET_KEY = env_str("SECRET_KEY", "local-development-only-not-a-secret")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "rangefilter",  # the admin's date range filters (django-admin-rangefilter)
    "ambassadors",
    "orders",
    # Admin login brute-force protection (lockouts, and their admin to unlock).
    "axes",
]

MIDDLEWARE = [
    "platform_api.request_log.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Laravel's global HandleCors: CORS headers on api/*, preflights answered before routing.
    "platform_api.cors.LaravelCorsMiddleware",
    # The Bearer API's requests skip from here to ApiShortcutEnd: these serve the admin and the
    # docs (browser sessions, cookies, forms, static files); platform_api/api_path.py.
    "platform_api.api_path.ApiShortcut",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "platform_api.api_path.ApiShortcutEnd",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "platform_api.errors.DatabaseUnavailableMiddleware",
    "platform_api.statement_timeout.StatementTimeoutMiddleware",
    # Last, as django-axes requires: turns a lockout its backend decided into the answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "platform_api.urls"
WSGI_APPLICATION = "platform_api.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # Project-wide templates (the admin's statement-timeout page).
        "DIRS": [BASE_DIR / "platform_api" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DEFAULT_SQLITE_URL = f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}"


def database_config(url: str) -> dict[str, Any]:
    """One DATABASES entry from a URL, with the connection policy the deployment chose."""
    config: dict[str, Any] = dict(dj_database_url.parse(url))
    if config["ENGINE"] != "django.db.backends.postgresql":
        return config
    # Django's backend, with a health check that costs no round trip while the connection is
    # quiet (platform_api/postgresql/base.py).
    config["ENGINE"] = "platform_api.postgresql"
    options: dict[str, Any] = config.setdefault("OPTIONS", {})
    pool_size = env_int("DATABASE_POOL_SIZE", 0)
    if pool_size > 0:
        # Django 5.1+ psycopg pool: one pool per process; persistent connections must be off.
        options["pool"] = {"min_size": 1, "max_size": pool_size, "timeout": 5}
        config["CONN_MAX_AGE"] = 0
    else:
        config["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 60)
    # A connection left dead by a database restart is detected before use, so the service
    # recovers by itself (with a pool, Django then passes psycopg's check_connection to it).
    config["CONN_HEALTH_CHECKS"] = True
    # Whether a transaction pooler may multiplex the connections (platform_api/pooler.py):
    # `auto` finds out per connection; prepared statements and server-side cursors are then
    # used only where a connection keeps its server session.
    config["POOLER"] = env_choice("DATABASE_POOLER", "auto", pooler.CONFIGURED_CHOICES)
    # None: the pooler mode decides; True/False: the operator's choice (refused when it cannot
    # work behind the pooler).
    prepared = env_optional_bool("DATABASE_SERVER_SIDE_BINDING")
    disable_cursors = env_optional_bool("DATABASE_DISABLE_SERVER_SIDE_CURSORS")
    cursors = None if disable_cursors is None else not disable_cursors
    if config["POOLER"] == "transaction":
        pooler.refuse_forced_session_features("DATABASE_POOLER=transaction", prepared, cursors)
    config["PREPARED_STATEMENTS"] = prepared
    config["SERVER_SIDE_CURSORS"] = cursors
    # Server-side binding lets psycopg prepare the hot queries once per connection; planning
    # dominates small queries (bench/: -30% wall time per request on a small page).
    options["server_side_binding"] = prepared is not False and config["POOLER"] != "transaction"
    if options["server_side_binding"]:
        # Django turns psycopg's automatic preparation off (prepare_threshold=None); binding
        # server-side alone measured no faster. psycopg's own default prepares a statement on
        # its fifth execution, so rarely repeated statements (a deep page's OFFSET) stay
        # unprepared. The backend turns it off again on a multiplexed connection.
        options.setdefault("prepare_threshold", 5)
    options.setdefault("connect_timeout", env_int("DATABASE_CONNECT_TIMEOUT", 3))
    # Also decided per connection by the backend; this is what QuerySet.iterator() reads.
    config["DISABLE_SERVER_SIDE_CURSORS"] = cursors is False or config["POOLER"] == "transaction"
    return config


DATABASE_URL = env_str("DATABASE_URL", DEFAULT_SQLITE_URL) or DEFAULT_SQLITE_URL
DATABASES: dict[str, dict[str, Any]] = {"default": database_config(DATABASE_URL)}
for _index, _replica_url in enumerate(env_list("DATABASE_REPLICA_URLS")):
    DATABASES[f"replica_{_index}"] = database_config(_replica_url)
DATABASE_ROUTERS = ["platform_api.db_router.ReplicaRouter"]
# Longest a single SQL statement of a web request may run (platform_api/statement_timeout.py),
# below gunicorn's 30 s worker timeout so that the client gets an answer, not a dropped socket.
DATABASE_STATEMENT_TIMEOUT_MS = env_int("DATABASE_STATEMENT_TIMEOUT_MS", 20_000)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (rate-limit budgets live here; share it between app servers with Redis) ----------
CACHE_URL = env_str("CACHE_URL", "locmem://") or "locmem://"


def cache_config(url: str) -> dict[str, Any]:
    if url.startswith(("redis://", "rediss://", "unix://")):
        return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
    if url.startswith("locmem://"):
        return {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": url.removeprefix("locmem://") or "platform-api",
        }
    if url.startswith("dummy://"):
        return {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
    raise ValueError(
        f"CACHE_URL must be redis://, rediss://, unix://, locmem:// or dummy://: {url}"
    )


CACHES = {"default": cache_config(CACHE_URL)}

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files (admin), served by WhiteNoise so no extra web server is needed -----------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

ADMIN_URL = (env_str("ADMIN_URL", "admin/") or "admin/").strip("/") + "/"


# --- Rate limits (platform_api/throttling.py; budgets in Redis when CACHE_URL names one) -----
RATE_LIMITS: dict[str, str | None] = {
    # Per token; and per client address for calls without a valid token (failed ones included).
    "token": env_rate("RATE_LIMIT", "600/minute"),
    "address": env_rate("RATE_LIMIT_ADDRESS", "60/minute"),
}
# Keys in Redis start with this: several deployments (or stacks) may share one Redis database.
RATE_LIMIT_KEY_PREFIX = env_str("RATE_LIMIT_KEY_PREFIX", "platform-api") or "platform-api"
# Which proxies' X-Forwarded-For is believed for the client address (addresses or CIDR
# networks, comma-separated); empty: none, the peer address is the client.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES")

# --- API ------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Bearer first: DRF answers 401 (not 403) only when the first authenticator names a scheme.
    "DEFAULT_AUTHENTICATION_CLASSES": ["platform_api.authentication.BearerTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": ["platform_api.throttling.PlatformRateThrottle"],
    "DEFAULT_THROTTLE_RATES": RATE_LIMITS,
    "DEFAULT_RENDERER_CLASSES": ["platform_api.renderers.PhpJsonRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "platform_api.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
    "UNAUTHENTICATED_TOKEN": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Platform API",
    "DESCRIPTION": "The brand's Platform API: ambassadors and their orders.",
    "VERSION": "2.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v2",
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    # The docs page's assets come from drf-spectacular-sidecar (staticfiles): no CDN, works offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "platform_api.schema.publish_path_parameter_names",
    ],
}

# Trust X-Forwarded-Proto / X-Forwarded-Host only behind a proxy that sets them.
TRUST_PROXY_HEADERS = env_bool("TRUST_PROXY_HEADERS", False)
if TRUST_PROXY_HEADERS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True

# --- Admin login protection (django-axes) ---------------------------------------------------
# axes' backend first: it refuses a locked-out login before any password is hashed.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Locked after this many failures in a row, per account and, separately, per client address.
AXES_FAILURE_LIMIT = env_int("ADMIN_LOGIN_FAILURE_LIMIT", 5)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# How long a lockout lasts; an administrator unlocks sooner by deleting the access attempt in
# the admin ("Axes" > "Access attempts") or with `manage.py axes_reset`.
AXES_COOLOFF_TIME = timedelta(minutes=env_int("ADMIN_LOCKOUT_MINUTES", 15))
AXES_RESET_ON_SUCCESS = True
# The same client address as the rate limits: X-Forwarded-For only from TRUSTED_PROXIES.
AXES_CLIENT_IP_CALLABLE = "platform_api.client_address.client_address"
AXES_COOLOFF_MESSAGE = "Too many failed login attempts: this account or address is locked."
# The log names who was tried and from where (axes masks both by default); never the password.
AXES_SENSITIVE_PARAMETERS: list[str] = []

# Last-use time of a token is written at most this often (seconds): no write per request.
TOKEN_LAST_USED_INTERVAL = env_int("TOKEN_LAST_USED_INTERVAL", 60)

LOG_LEVEL = env_str("LOG_LEVEL", "INFO") or "INFO"
LOGGING_CONFIG = "platform_api.request_log.configure_logging"
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "platform_api.request_log.JsonFormatter"}},
    "filters": {"client_errors": {"()": "platform_api.request_log.ClientErrorFilter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "json"},
        "security_console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["client_errors"],
        },
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "platform_api": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        # Failed admin logins and lockouts (WARNING; INFO is axes' bookkeeping).
        "axes": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        # Django's own defaults give these plain-text handlers: replaced, every line is JSON.
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "py.warnings": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        # 4xx answers are already in the request log; errors keep their traceback here.
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        # A bad Host header, a forged cookie...: a WARNING without Django's traceback (the
        # request log has its 400); a scanner's every probe was an ERROR of ~4 KB.
        "django.security": {
            "handlers": ["security_console"],
            "level": "WARNING",
            "propagate": False,
        },
    },
}
