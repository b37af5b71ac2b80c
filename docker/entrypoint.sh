#!/bin/sh
# What the image runs, and what docker/ci-check.sh runs on a machine without containers.
#
#   entrypoint.sh web       wait for the database, migrate if MIGRATE_ON_START=1, serve (gunicorn)
#   entrypoint.sh migrate   wait for the database, apply migrations, exit (compose's `migrate`)
#   entrypoint.sh <cmd...>  run anything else as is, e.g. `python manage.py create_token ...`
#
# Environment: DJANGO_SETTINGS_MODULE (the image sets production), DATABASE_URL and the rest of
# .env.example; DB_WAIT_SECONDS bounds the wait for the database (default 60).
set -eu

APP_DIR=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
cd "$APP_DIR"
export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-platform_api.settings.production}"

log() {
    # Same shape as the service's own log lines, so one parser reads everything.
    printf '{"level":"INFO","logger":"entrypoint","message":"%s"}\n' "$*" >&2
}

wait_for_db() {
    # One Python process polls (starting Django once per attempt would cost a second each);
    # bounded so that a wrong DATABASE_URL fails the container instead of hanging it.
    python - <<'PY'
import os
import sys
import time

import django
from django.db import OperationalError, connections

django.setup()
deadline = time.monotonic() + int(os.environ.get("DB_WAIT_SECONDS", "60"))
while True:
    try:
        connections["default"].ensure_connection()
    except OperationalError as exc:
        if time.monotonic() >= deadline:
            print(f'{{"level":"ERROR","logger":"entrypoint","message":"database unreachable: {type(exc).__name__}"}}', file=sys.stderr)
            sys.exit(1)
        time.sleep(1)
    else:
        connections["default"].close()
        break
PY
}

command="${1:-web}"
case "$command" in
    web)
        wait_for_db
        if [ "${MIGRATE_ON_START:-0}" = "1" ]; then
            log "applying migrations (MIGRATE_ON_START=1)"
            python manage.py migrate --noinput
        fi
        log "starting gunicorn"
        # exec: gunicorn becomes this process, so SIGTERM from the orchestrator reaches it
        # directly and starts the graceful shutdown.
        exec gunicorn --config "$APP_DIR/docker/gunicorn.conf.py" platform_api.wsgi:application
        ;;
    migrate)
        wait_for_db
        log "applying migrations"
        exec python manage.py migrate --noinput
        ;;
    *)
        exec "$@"
        ;;
esac
