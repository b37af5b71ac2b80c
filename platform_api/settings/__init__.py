"""Settings per environment: local (default), test, production. Values come from `env.py`."""
