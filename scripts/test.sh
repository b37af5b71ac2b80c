#!/usr/bin/env bash
# Run the whole test suite: `scripts/test.sh [pytest arguments]` (what `make test` runs).
#
# SQLite (in memory) by default; PostgreSQL when DATABASE_URL points at it, e.g.
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/platform_api scripts/test.sh
# (pytest-django creates and drops the database test_<name> next to <name>).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/bootstrap.sh
VENV="${VENV:-.venv}"

# The test settings are chosen by pyproject.toml; a DJANGO_SETTINGS_MODULE left in the shell
# (e.g. production) would silently override them.
unset DJANGO_SETTINGS_MODULE

# Shown without its password, if any.
echo "==> pytest, database: ${DATABASE_URL:-SQLite in memory (DATABASE_URL unset)}" \
    | sed -E 's#//([^:@/]+):[^@/]*@#//\1:***@#'
exec "$VENV/bin/pytest" "$@"
