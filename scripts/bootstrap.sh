#!/usr/bin/env bash
# Make .venv/ match the project's pinned dependencies.
#
# Creates the virtual environment with `python3 -m venv` when missing, and (re)installs the
# project and the client package (`client/`, whose tests are part of the suite) with
# `pip install -c constraints.txt -e '.[dev]' -e ./client` only when pyproject.toml,
# client/pyproject.toml or constraints.txt changed since the last install: their digest is kept
# in .venv/.installed.
# Idempotent and quick when nothing changed, so every other script starts with it.
# VENV=<dir> puts the environment elsewhere (CI uses a throwaway one).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON="${PYTHON:-python3}"
VENV="${VENV:-.venv}"
STAMP="$VENV/.installed"

if [[ ! -x "$VENV/bin/python" ]]; then
    echo "==> Creating the virtual environment in $VENV/ ($("$PYTHON" --version))"
    "$PYTHON" -m venv "$VENV"
fi

wanted="$(cat pyproject.toml client/pyproject.toml constraints.txt | sha256sum | cut -d' ' -f1)"
if [[ ! -f "$STAMP" || "$(cat "$STAMP")" != "$wanted" ]]; then
    echo "==> Installing the project and its pinned dependencies (constraints.txt)"
    "$VENV/bin/python" -m pip install --quiet -c constraints.txt -e '.[dev]' -e ./client
    echo "$wanted" > "$STAMP"
fi
