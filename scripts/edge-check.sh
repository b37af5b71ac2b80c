#!/usr/bin/env bash
# The edge checks of issue 11 against a fresh scripts/stack.sh (docs/edge.md): start the stack
# on free ports with its own throwaway database and rate-limit keys, run scripts/edge_check.py,
# stop the stack and drop the database, whatever happens. Run by .ci/run; takes about a minute.
#
# Environment: VENV [.venv]; STACK_PG_URL and STACK_REDIS_URL as scripts/stack.sh reads them;
# EDGE_CHECK_DATABASE (the throwaway database's name [edge_check_<random>]); EDGE_CHECK_ARGS (more
# arguments for edge_check.py, e.g. "--only rate").
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
VENV="${VENV:-.venv}"
[[ "$VENV" = /* ]] || VENV="$PWD/$VENV"

STACK_DIR="$(mktemp -d -t platform-api-edge.XXXXXX)"
STACK_DATABASE="${EDGE_CHECK_DATABASE:-edge_check_$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')}"
export STACK_DIR STACK_DATABASE STACK_SEED="--ambassadors 20 --orders 400"
# The budgets and the lockout the checks measure against. An hour's window: 2,000 requests on a
# busy CI machine may take longer than a minute, and a second window would grant a second budget.
export RATE_LIMIT=600/hour RATE_LIMIT_ADDRESS=600/hour ADMIN_LOGIN_FAILURE_LIMIT=5
pg_url="${STACK_PG_URL:-postgres://postgres@127.0.0.1:5432}"

cleanup() {
    local status=$?
    scripts/stack.sh stop || true
    "$VENV/bin/python" - "$pg_url" "$STACK_DATABASE" <<'PY' || true
import sys

import psycopg
from psycopg import sql

server, name = sys.argv[1:]
with psycopg.connect(f"{server.rstrip('/')}/postgres", autocommit=True, connect_timeout=5) as conn:
    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
PY
    if ((status)); then
        echo "--- gunicorn log: errors (first 10)" >&2
        grep '"level": "ERROR"' "$STACK_DIR/gunicorn.log" | head -n 10 >&2 || true
        echo "--- gunicorn log (tail)" >&2
        tail -n 30 "$STACK_DIR/gunicorn.log" >&2 || true
        echo "--- nginx log (tail)" >&2
        tail -n 30 "$STACK_DIR/nginx.log" >&2 || true
    fi
    rm -rf "$STACK_DIR"
    exit "$status"
}
trap cleanup EXIT

output="$(timeout 600 scripts/stack.sh start)"
token="$(tail -n 2 <<<"$output" | head -n 1)"
base="$(tail -n 1 <<<"$output")"
# shellcheck disable=SC2086 # extra arguments are words on purpose
timeout 600 "$VENV/bin/python" scripts/edge_check.py --base "$base" --token "$token" \
    --stack-dir "$STACK_DIR" ${EDGE_CHECK_ARGS:-}
