#!/usr/bin/env sh
# Deploy shortpub to Google Cloud: deploy/deploy.sh [--dry-run] [--project P] [--region R] [--config FILE]
set -eu
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"
[ -x "$PYTHON" ] || PYTHON=python3
exec "$PYTHON" -m deploy.deploy "$@"
