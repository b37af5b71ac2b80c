"""Local development: SQLite by default, DEBUG on unless the environment says otherwise."""

from platform_api.env import env_bool

from .base import *  # noqa: F403

DEBUG = env_bool("DEBUG", True)
