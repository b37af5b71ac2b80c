# The README's commands, one short name each. Each target is a script in scripts/, so the same
# steps run without make too (e.g. `scripts/dev-run.sh`, `scripts/test.sh`).
.PHONY: help run test lint ci install

# The virtual environment the scripts create and use (CI points it at a throwaway one).
VENV ?= .venv
export VENV

help:  ## List the targets.
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/'

run:  ## Set up (venv, install, migrate, demo data, token) and serve on 127.0.0.1:8000 (PORT=... to change).
	@scripts/dev-run.sh

test:  ## The whole test suite; SQLite, or PostgreSQL when DATABASE_URL points at it. PYTEST_ARGS=... to pass more.
	@scripts/test.sh $(PYTEST_ARGS)

lint:  ## ruff check, ruff format --check, mypy.
	@scripts/bootstrap.sh
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .

install:  ## Only the virtual environment and the pinned install.
	@scripts/bootstrap.sh

ci:  ## What CI runs (.ci/run): lint, migrations check, tests on PostgreSQL and SQLite.
	@bash .ci/run
