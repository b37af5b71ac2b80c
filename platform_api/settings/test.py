"""Test settings: fast hashing, private cache; the database comes from DATABASE_URL as usual."""

from .base import *  # noqa: F403
from .base import REST_FRAMEWORK

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Budgets in the process too, whatever CACHE_URL the shell exports: the tests that need Redis
# set it themselves (TEST_REDIS_URL).
CACHE_URL = "locmem://"
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    # A high budget so that ordinary tests never trip the limiter; its own tests lower it.
    "DEFAULT_THROTTLE_RATES": {"token": "100000/minute", "address": "100000/minute"},
}
LOGGING = {"version": 1, "disable_existing_loggers": False}
