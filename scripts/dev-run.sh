#!/usr/bin/env bash
# Set up and serve the API locally: what `make run` runs.
#
# Virtual environment and pinned install (scripts/bootstrap.sh), migrations, demo data
# (`seed_demo` resets and reloads it), a fresh brand token for brand 1 printed with a
# ready-to-paste curl line, then Django's development server on 127.0.0.1:${PORT:-8000}.
# The database is DATABASE_URL, by default the SQLite file var/db.sqlite3.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/bootstrap.sh
VENV="${VENV:-.venv}"

export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-platform_api.settings.local}"
PORT="${PORT:-8000}"
manage=("$VENV/bin/python" manage.py)

# The default SQLite file lives in var/, which git does not track.
mkdir -p var

echo "==> Migrating the database"
"${manage[@]}" migrate --no-input

echo "==> Loading demo data (seed_demo: replaces any previous demo data)"
"${manage[@]}" seed_demo

echo "==> Creating a brand token for brand 1"
# The secret is the command's last line; everything before it is commentary.
secret="$("${manage[@]}" create_token --kind brand --brand 1 --name demo | tail -n 1)"
if [[ "$secret" != pat_* ]]; then
    echo "create_token did not print a token (got: $secret)" >&2
    exit 1
fi

cat <<TEXT

Brand token for brand 1 (shown once, only its digest is stored):

    $secret

Try the API:

    curl -H "Authorization: Bearer $secret" 'http://127.0.0.1:$PORT/api/v2/platform/ambassadors/1/orders?per_page=5'

TEXT

echo "==> Serving on http://127.0.0.1:$PORT/ (Ctrl-C to stop)"
exec "${manage[@]}" runserver "127.0.0.1:$PORT"
