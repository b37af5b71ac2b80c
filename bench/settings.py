"""Benchmark settings: production's, plus the textbook baseline's route.

DEBUG stays off (production forces it); `bench/env.py` supplies SECRET_KEY, ALLOWED_HOSTS,
DATABASE_URL, RATE_LIMIT and LOG_LEVEL. Only ROOT_URLCONF differs, so the service is measured
exactly as deployed.
"""

from platform_api.settings.production import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
