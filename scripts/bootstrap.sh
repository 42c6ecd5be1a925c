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

# ClamAV: the upload scan uses the real engine in tests (with a signature database the tests generate).
if ! command -v clamscan >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq clamav >/dev/null
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

if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.deskos-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e '.[dev]'
  echo "$want" > "$stamp"
fi

# checkov (template security checks in the infra tests) in a venv of its own: it pins boto3 and packaging
# exactly, which would downgrade DeskOS's own.
checkov=.venv/tools/checkov
checkov_spec="checkov>=3.3,<4"
if [ ! -f "$checkov/.spec" ] || [ "$(cat "$checkov/.spec")" != "$checkov_spec" ]; then
  "$PYTHON" -m venv "$checkov"
  "$checkov/bin/python" -m pip install --quiet "$checkov_spec"
  echo "$checkov_spec" > "$checkov/.spec"
fi
