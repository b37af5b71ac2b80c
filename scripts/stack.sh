#!/usr/bin/env bash
# The production shape on this machine, without containers (docs/edge.md):
#
#   scripts/stack.sh start    PostgreSQL (the local server, the stack's own database) migrated and
#                             seeded, Redis, gunicorn (docker/gunicorn.conf.py, production
#                             settings) on 127.0.0.1 only, nginx (docker/nginx/) in front; prints
#                             a brand token on its second-to-last line and the base URL alone on
#                             its last line (progress goes to stderr).
#   scripts/stack.sh stop     ends what `start` started (the database stays).
#
# Environment (all optional; defaults in brackets):
#   STACK_DIR           state, logs and nginx's private prefix [var/stack]
#   STACK_HTTP_PORT     nginx's port on 127.0.0.1 [a free one]
#   STACK_APP_PORT      gunicorn's port on 127.0.0.1 [a free one]
#   STACK_PG_URL        the PostgreSQL server [postgres://postgres@127.0.0.1:5432]
#   STACK_DATABASE      the stack's database on it, created if missing [platform_api_stack]
#   STACK_REDIS_URL     Redis for the rate-limit budgets [redis://127.0.0.1:6379/0]
#   STACK_WORKERS       gunicorn processes [2]
#   STACK_SEED          seed_demo arguments ["--ambassadors 50 --orders 400"]; "" skips seeding
#   NGINX_REAL_IP_FROM  the balancer(s) in front of nginx, as in the image [none]
#                       (on a database seeded before: the token is for brand 1)
#   VENV                the virtual environment [.venv]
# Anything else the service reads (RATE_LIMIT, RATE_LIMIT_ADDRESS, AXES_*, LOG_LEVEL...) is passed
# through from the caller's environment. Every start uses fresh rate-limit keys.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
VENV="${VENV:-.venv}"
[[ "$VENV" = /* ]] || VENV="$ROOT/$VENV"
STACK_DIR="${STACK_DIR:-$ROOT/var/stack}"
mkdir -p "$STACK_DIR"
STACK_DIR="$(cd "$STACK_DIR" && pwd)"
PIDS="$STACK_DIR/pids"

say() { echo "==> [stack] $*" >&2; }
fail() {
    echo "FAIL [stack]: $*" >&2
    exit 1
}

free_port() {
    "$VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

stop() {
    [[ -f "$PIDS" ]] || {
        say "nothing to stop ($PIDS is missing)"
        return 0
    }
    local name pid
    # nginx first: no new requests reach gunicorn while it drains.
    while read -r name pid; do
        if kill -0 "$pid" 2>/dev/null; then
            say "stopping $name (pid $pid)"
            kill -TERM "$pid" 2>/dev/null || true
        fi
    done < <(tac "$PIDS")
    while read -r name pid; do
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.5
        done
        if kill -0 "$pid" 2>/dev/null; then
            say "$name (pid $pid) still running after 25 s: SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    done < <(tac "$PIDS")
    rm -f "$PIDS"
}

start() {
    [[ ! -f "$PIDS" ]] || fail "already started ($PIDS exists): scripts/stack.sh stop first"
    command -v nginx >/dev/null || fail "nginx is not installed (apt-get install -y nginx)"
    command -v envsubst >/dev/null || fail "envsubst is not installed (apt-get install -y gettext-base)"
    scripts/bootstrap.sh >&2

    local pg_url="${STACK_PG_URL:-postgres://postgres@127.0.0.1:5432}"
    local database="${STACK_DATABASE:-platform_api_stack}"
    local http_port="${STACK_HTTP_PORT:-$(free_port)}"
    local app_port="${STACK_APP_PORT:-$(free_port)}"
    local seed="${STACK_SEED---ambassadors 50 --orders 400}"
    # stdout of this function's helpers goes to stderr: stdout is the token and the URL only.
    trap 'status=$?; if ((status)); then say "start failed (status $status): stopping what started"; stop; fi' EXIT

    say "database $database on $pg_url"
    "$VENV/bin/python" - "$pg_url" "$database" <<'PY' >&2
import sys

import psycopg
from psycopg import sql

server, name = sys.argv[1:]
with psycopg.connect(f"{server.rstrip('/')}/postgres", autocommit=True, connect_timeout=5) as conn:
    if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
PY

    # The service's environment: production settings, nothing insecure by default.
    export DJANGO_SETTINGS_MODULE=platform_api.settings.production
    export DATABASE_URL="${pg_url%/}/$database"
    export SECRET_KEY="stack-$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    export ALLOWED_HOSTS="${ALLOWED_HOSTS:-127.0.0.1,localhost}"
    export CACHE_URL="${STACK_REDIS_URL:-redis://127.0.0.1:6379/0}"
    export RATE_LIMIT_KEY_PREFIX="stack-$database-$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    # Plain HTTP on 127.0.0.1: no TLS to redirect to. nginx is the only trusted hop.
    export SECURE_SSL_REDIRECT=0
    export TRUST_PROXY_HEADERS=1 FORWARDED_ALLOW_IPS=127.0.0.1 TRUSTED_PROXIES=127.0.0.1,::1
    export HOST=127.0.0.1 PORT="$app_port" WEB_CONCURRENCY="${STACK_WORKERS:-2}"
    export PATH="$VENV/bin:$PATH"
    # For commands against the stack (e.g. createsuperuser in .ci/edge-check): `. $STACK_DIR/env`.
    export -p | grep -E ' (DJANGO_SETTINGS_MODULE|DATABASE_URL|SECRET_KEY|ALLOWED_HOSTS|CACHE_URL|RATE_LIMIT_KEY_PREFIX|SECURE_SSL_REDIRECT|TRUST_PROXY_HEADERS|TRUSTED_PROXIES)=' >"$STACK_DIR/env"

    say "migrate"
    timeout 300 python manage.py migrate --noinput >&2
    if [[ ! -d staticfiles ]]; then
        say "collectstatic (WhiteNoise serves the admin's and the docs' files)"
        timeout 300 python manage.py collectstatic --noinput >/dev/null
    fi
    if [[ -n "$seed" ]]; then
        say "seed_demo $seed"
        # shellcheck disable=SC2086 # the arguments are words on purpose
        timeout 300 python manage.py seed_demo $seed >&2
    fi
    local token
    token="$(timeout 60 python manage.py create_token --kind brand --brand 1 --name stack | tail -n 1)"
    [[ "$token" == pat_* ]] || fail "create_token printed no token"

    say "gunicorn on 127.0.0.1:$app_port ($WEB_CONCURRENCY workers)"
    : >"$PIDS"
    nohup gunicorn --config docker/gunicorn.conf.py platform_api.wsgi:application \
        </dev/null >"$STACK_DIR/gunicorn.log" 2>&1 &
    echo "gunicorn $!" >>"$PIDS"

    say "nginx on 127.0.0.1:$http_port (prefix $STACK_DIR/nginx)"
    local prefix="$STACK_DIR/nginx"
    mkdir -p "$prefix/temp"
    NGINX_LISTEN="127.0.0.1:$http_port" APP_UPSTREAM="127.0.0.1:$app_port" \
        envsubst '${NGINX_LISTEN} ${APP_UPSTREAM}' \
        <docker/nginx/platform-api.conf.template >"$prefix/platform-api.conf"
    local user_line=""
    if [[ "$(id -u)" == 0 ]]; then
        # As root the workers must drop to an unprivileged user, which needs its temp files.
        user_line="user nobody $(id -gn nobody);"
        chown nobody "$prefix/temp"
    fi
    cat >"$prefix/nginx.conf" <<CONF
# Written by scripts/stack.sh: Debian's nginx with a private prefix, pid and temp paths (never
# the system configuration) around docker/nginx/platform-api.conf.template.
$user_line
daemon off;
worker_processes 2;
worker_rlimit_nofile 16384;
pid $prefix/nginx.pid;
error_log stderr warn;
events {
    worker_connections 8192;
}
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    client_body_temp_path $prefix/temp/body;
    proxy_temp_path $prefix/temp/proxy;
    fastcgi_temp_path $prefix/temp/fastcgi;
    uwsgi_temp_path $prefix/temp/uwsgi;
    scgi_temp_path $prefix/temp/scgi;
    include $prefix/platform-api.conf;
}
CONF
    # NGINX_REAL_IP_FROM from the shell, as in the image (docker/nginx/real-ip.sh).
    docker/nginx/real-ip.sh "$prefix/real-ip/platform.conf" || fail "NGINX_REAL_IP_FROM"
    nginx -t -q -e stderr -p "$prefix" -c "$prefix/nginx.conf" >&2 || fail "nginx -t"
    nohup nginx -e stderr -p "$prefix" -c "$prefix/nginx.conf" \
        </dev/null >"$STACK_DIR/nginx.log" 2>&1 &
    echo "nginx $!" >>"$PIDS"

    local base="http://127.0.0.1:$http_port"
    say "waiting for $base/readyz"
    local ready=""
    for _ in $(seq 1 120); do
        while read -r name pid; do
            kill -0 "$pid" 2>/dev/null || fail "$name exited: see $STACK_DIR/$name.log"
        done <"$PIDS"
        if [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$base/readyz" || true)" == 200 ]]; then
            ready=1
            break
        fi
        sleep 0.5
    done
    [[ -n "$ready" ]] || fail "$base/readyz did not answer 200 within 60 s"
    trap - EXIT
    say "ready: logs in $STACK_DIR/{gunicorn,nginx}.log; stop with scripts/stack.sh stop"
    echo "$token"
    echo "$base"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    *)
        echo "usage: scripts/stack.sh start|stop" >&2
        exit 2
        ;;
esac
