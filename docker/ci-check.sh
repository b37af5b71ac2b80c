#!/usr/bin/env bash
# The deployment, checked on a machine without a container engine: runs what the image runs.
#
#   bash docker/ci-check.sh          (from anywhere; .ci/run calls it)
#
# 1. Every runtime dependency of pyproject.toml is pinned in constraints.txt (what the image installs).
# 2. docker/compose.yml is valid for docker-compose (`config -q`, with a throwaway env file).
# 3. docker/entrypoint.sh migrate, then docker/entrypoint.sh web (gunicorn with
#    docker/gunicorn.conf.py) with production settings against a throwaway PostgreSQL database.
# 4. /healthz and /readyz answer 200 (docker/healthcheck.py, the image's HEALTHCHECK); plain HTTP
#    is redirected to HTTPS; admin static files are served (WhiteNoise); the orders endpoint
#    answers 200 with a token from `create_token` after `seed_demo`, 401 without one; the request
#    log is JSON with the token prefix and never the secret.
# 5. SIGTERM: gunicorn exits 0 within its graceful timeout.
#
# Environment: VENV (default .venv), DATABASE_URL (its server is used; default
# postgres://postgres@127.0.0.1:5432), CACHE_URL (the Redis for rate limits; default
# redis://127.0.0.1:6379/0). Exits non-zero on any failure; cleans up what it made.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
VENV="${VENV:-.venv}"
export PATH="$ROOT/$VENV/bin:$PATH"
[[ "$VENV" = /* ]] && export PATH="$VENV/bin:$PATH"
PYTHON="$(command -v python)"

GRACEFUL_TIMEOUT=10
started_at=$SECONDS
work="$(mktemp -d -t platform-api-deploy.XXXXXX)"
server_pid=""
created_static=""
db_name="deploycheck_$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')"
server_url="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"

say() { echo "==> [deploy-check +$((SECONDS - started_at)) s] $*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

# The throwaway database, on the server DATABASE_URL names (created/dropped from its `postgres` db).
admin_db() {
    "$PYTHON" - "$server_url" "$1" "$db_name" <<'PY'
import sys
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

url, action, name = sys.argv[1:]
parts = urlsplit(url)
admin = urlunsplit(parts._replace(path="/postgres", query=""))
with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
    if action == "create":
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    else:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
print(urlunsplit(parts._replace(path="/" + name, query="")))
PY
}

cleanup() {
    local status=$?
    if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.2; done
        kill -KILL "$server_pid" 2>/dev/null || true
    fi
    admin_db drop >/dev/null 2>&1 || echo "warning: could not drop database $db_name" >&2
    [[ -n "$created_static" ]] && rm -rf "$ROOT/staticfiles"
    if [[ $status -ne 0 && -f "$work/server.log" ]]; then
        echo "--- server log (last 40 lines) ---" >&2
        tail -n 40 "$work/server.log" >&2
    fi
    rm -rf "$work"
    say "done (exit status $status)"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- 1. Pinned dependencies ------------------------------------------------------------------
say "runtime dependencies pinned in constraints.txt"
"$PYTHON" - <<'PY'
import re
import sys
import tomllib

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

dependencies = tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]
pinned = {
    canonicalize_name(line.split("==")[0]): line.split("==")[1]
    for line in open("constraints.txt").read().split()
    if re.fullmatch(r"[A-Za-z0-9._-]+==\S+", line)
}
missing = [d for d in dependencies if canonicalize_name(Requirement(d).name) not in pinned]
if missing:
    sys.exit(f"not pinned in constraints.txt: {missing}")
PY

# --- 2. Compose file -------------------------------------------------------------------------
say "docker-compose config -q"
if ! command -v docker-compose >/dev/null; then
    apt-get update -qq && apt-get install -y -qq docker-compose >/dev/null
fi
printf 'SECRET_KEY=ci\nALLOWED_HOSTS=localhost\nPOSTGRES_PASSWORD=ci\n' >"$work/compose.env"
PLATFORM_ENV_FILE="$work/compose.env" \
    timeout 60 docker-compose --env-file "$work/compose.env" -f docker/compose.yml config -q
# Without a password the stack must refuse to start rather than run an open database.
if PLATFORM_ENV_FILE=/dev/null timeout 60 docker-compose --env-file /dev/null \
    -f docker/compose.yml config -q 2>/dev/null; then
    fail "compose accepted a configuration without POSTGRES_PASSWORD"
fi

# --- 3. Migrate and serve, as the container does ---------------------------------------------
say "throwaway database $db_name"
DATABASE_URL="$(admin_db create)"
PORT="$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
export DATABASE_URL PORT
export DJANGO_SETTINGS_MODULE=platform_api.settings.production
export SECRET_KEY="deploy-check-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export ALLOWED_HOSTS=localhost
export TRUST_PROXY_HEADERS=1 FORWARDED_ALLOW_IPS=127.0.0.1
export HOST=127.0.0.1 WEB_CONCURRENCY=2 GUNICORN_GRACEFUL_TIMEOUT=$GRACEFUL_TIMEOUT
export DB_WAIT_SECONDS=15 MIGRATE_ON_START=0 LOG_LEVEL=INFO
unset DATABASE_REPLICA_URLS DATABASE_POOL_SIZE
# Production keeps rate-limit budgets in Redis (.ci/run starts it); this run's keys are its own.
export CACHE_URL="${CACHE_URL:-redis://127.0.0.1:6379/0}" RATE_LIMIT_KEY_PREFIX="$db_name"

if [[ ! -d staticfiles ]]; then
    say "collectstatic (as the image build does)"
    created_static=1
    timeout 120 python manage.py collectstatic --noinput >/dev/null
fi

say "entrypoint.sh migrate"
timeout 180 docker/entrypoint.sh migrate >"$work/migrate.log" 2>&1 || {
    cat "$work/migrate.log" >&2
    fail "migrate"
}

say "demo data and a brand token"
timeout 180 python manage.py seed_demo --ambassadors 50 --orders 400 >"$work/seed.log"
ambassador_id="$(sed -n 's/^Ambassador \([0-9]*\) (brand 1).*/\1/p' "$work/seed.log")"
[[ -n "$ambassador_id" ]] || fail "seed_demo did not name a busy ambassador: $(cat "$work/seed.log")"
secret="$(timeout 60 python manage.py create_token --kind brand --brand 1 --name deploy-check | tail -n 1)"
[[ "$secret" == pat_* ]] || fail "create_token printed no secret"

say "entrypoint.sh web on 127.0.0.1:$PORT"
docker/entrypoint.sh web >"$work/server.log" 2>&1 &
server_pid=$!

base="http://127.0.0.1:$PORT"
for path in /healthz /readyz; do
    ok=""
    for _ in $(seq 60); do
        kill -0 "$server_pid" 2>/dev/null || fail "the server exited"
        if python docker/healthcheck.py "$path" --base "$base" --timeout 2 2>/dev/null; then
            ok=1
            break
        fi
        sleep 0.5
    done
    [[ -n "$ok" ]] || fail "$path did not answer 200 within 30 s"
    say "$path: 200"
done

# --- 4. What a caller sees -------------------------------------------------------------------
say "HTTPS redirect, static files, the orders endpoint"
python - "$base" "$ambassador_id" "$secret" <<'PY'
import json
import sys
import urllib.error
import urllib.request

base, ambassador_id, secret = sys.argv[1:]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


opener = urllib.request.build_opener(NoRedirect)


def get(path, headers=None, https=True):
    headers = {"Host": "localhost", **(headers or {})}
    if https:
        headers["X-Forwarded-Proto"] = "https"
    request = urllib.request.Request(base + path, headers=headers)
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def check(condition, message):
    if not condition:
        sys.exit(f"FAIL: {message}")


orders = f"/api/v2/platform/ambassadors/{ambassador_id}/orders"

status, headers, _ = get(orders, https=False)
check(status == 301 and headers["Location"].startswith("https://"), f"plain HTTP: {status}")

status, headers, _ = get("/static/admin/css/base.css")
check(status == 200, f"admin static file: {status}")
check("text/css" in headers.get("Content-Type", ""), "static file content type")

status, headers, body = get(orders)
check(status == 401, f"without a token: {status}")
check(headers.get("WWW-Authenticate") == "Bearer", "401 without WWW-Authenticate: Bearer")

status, headers, body = get(
    orders + "?per_page=5", {"Authorization": f"Bearer {secret}", "X-Request-ID": "deploy-check-1"}
)
check(status == 200, f"with the token: {status} {body[:200]!r}")
check(headers.get("X-Request-ID") == "deploy-check-1", "X-Request-ID not echoed")
page = json.loads(body)
check(len(page["data"]) == 5 and page["total"] > 5, f"page: {len(page['data'])}/{page['total']}")
print(f"orders: 200, {page['total']} orders, first id {page['data'][0]['id_order']}")
PY

# The request log: JSON lines, the token's prefix, never its secret.
python - "$work/server.log" "$secret" <<'PY'
import json
import sys

path, secret = sys.argv[1:]
text = open(path).read()
if secret in text:
    sys.exit("FAIL: the token secret appears in the log")
lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
requests = [line for line in lines if line.get("logger") == "platform_api.request"]
mine = [line for line in requests if line.get("request_id") == "deploy-check-1"]
if len(mine) != 1 or mine[0]["status"] != 200 or not mine[0]["token_prefix"]:
    sys.exit(f"FAIL: request log line for deploy-check-1: {mine}")
if not secret.startswith("pat_" + mine[0]["token_prefix"]):
    sys.exit("FAIL: the logged prefix is not the token's")
print(f"request log: {len(requests)} JSON lines, token prefix {mine[0]['token_prefix']}")
PY

# --- 5. Graceful shutdown --------------------------------------------------------------------
say "SIGTERM: exit within the graceful timeout (${GRACEFUL_TIMEOUT} s)"
stop_started=$SECONDS
kill -TERM "$server_pid"
status=0
for _ in $(seq $(((GRACEFUL_TIMEOUT + 5) * 5))); do
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.2
done
if kill -0 "$server_pid" 2>/dev/null; then
    fail "gunicorn still running $((SECONDS - stop_started)) s after SIGTERM"
fi
wait "$server_pid" || status=$?
server_pid=""
[[ $status -eq 0 ]] || fail "gunicorn exited with status $status after SIGTERM"
grep -q '"Shutting down: Master"' "$work/server.log" || fail "no shutdown message in the log"
say "stopped in $((SECONDS - stop_started)) s, exit status 0"
say "all deployment checks passed"
