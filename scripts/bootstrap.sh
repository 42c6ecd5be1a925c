#!/usr/bin/env bash
# Creates .venv and installs DeskOS with everything the local cloud and the tests need.
# Idempotent and quick when nothing changed (keyed on a hash of pyproject.toml).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}

# Node.js runs the CDK synthesis (jsii) in the infra tests.
if ! command -v node >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq nodejs >/dev/null
  else
    echo "Node.js is required (for the CDK infra tests); install it and re-run." >&2
    exit 1
  fi
fi

# ClamAV: the upload scan's engine, and freshclam, which `deskos up` runs to fetch and refresh the official
# signatures (without network it falls back to test signatures and says so).
if ! command -v clamscan >/dev/null 2>&1 || ! command -v freshclam >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq clamav clamav-freshclam >/dev/null
  else
    echo "ClamAV (clamscan) is required for the upload scan tests; install it and re-run." >&2
    exit 1
  fi
fi
# clamd: the daemon the scanner prefers; a test starts a real one (foreground, temporary config).
if ! command -v clamd >/dev/null 2>&1 && [ ! -x /usr/sbin/clamd ]; then
  if command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq clamav-daemon >/dev/null
  else
    echo "clamd (package clamav-daemon) is required for the clamd scan test; install it and re-run." >&2
    exit 1
  fi
fi

# Chromium (headless): the browser test opens the Swagger UI at /docs as a user would.
if ! command -v chromium >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq chromium >/dev/null
  else
    echo "Chromium is required for the API docs browser test; install it and re-run." >&2
    exit 1
  fi
fi

if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.deskos-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  # swagger-ui-bundle (Swagger UI 4, no OpenAPI 3.1) was replaced by swagger-ui-bundle-v2: same module name
  .venv/bin/python -m pip uninstall --quiet --yes swagger-ui-bundle >/dev/null 2>&1 || true
  .venv/bin/python -m pip install --quiet -e '.[dev]'
  echo "$want" > "$stamp"
fi
