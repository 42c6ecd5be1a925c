#!/usr/bin/env bash
# Creates .venv and installs DeskOS with everything the local cloud and the tests need.
# Idempotent and quick when nothing changed (keyed on a hash of pyproject.toml).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}

# has COMMAND: on PATH, or in /usr/sbin (daemons; not on a normal user's PATH)
has() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]; }
# require "WHAT IT IS FOR" COMMAND... -- PACKAGE...: installs the packages with apt when a command is missing
require() {
  local why=$1 commands=() ; shift
  while [ "$1" != "--" ]; do commands+=("$1"); shift; done; shift
  for command in "${commands[@]}"; do
    has "$command" && continue
    if command -v apt-get >/dev/null 2>&1; then
      apt-get update -qq && apt-get install -y -qq "$@" >/dev/null
      return
    fi
    echo "$command is missing ($why): install $* and re-run." >&2
    exit 1
  done
}

# freshclam: `deskos up` runs it to fetch and refresh the official signatures (without network it falls back
# to test signatures and says so)
require "ClamAV, the upload scan's engine" clamscan freshclam -- clamav clamav-freshclam
require "clamd, the daemon the scanner prefers; a test starts a real one" clamd -- clamav-daemon
require "headless Chromium: the browser test opens the Swagger UI at /docs as a user would" chromium -- chromium

if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.deskos-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  .venv/bin/python -m pip install --quiet --upgrade 'pip<26.3'  # chalice 1.34 asks for pip < 26.3
  # swagger-ui-bundle (Swagger UI 4, no OpenAPI 3.1) was replaced by swagger-ui-bundle-v2: same module name
  .venv/bin/python -m pip uninstall --quiet --yes swagger-ui-bundle >/dev/null 2>&1 || true
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
