#!/usr/bin/env bash
# Refreshes the ClamAV signatures the scan function uses: rebuilds the layer (engine + fresh
# definitions) and deploys it. Run on a schedule by CI (see README.md: every 6 hours is plenty;
# ClamAV publishes daily.cvd updates a few times a day and rate-limits mirrors that poll more often).
set -euo pipefail
cd "$(dirname "$0")/../.."
# The layer's asset hash covers layers/clamav/; a stamp file makes each refresh a new layer version.
date -u +%Y-%m-%dT%H:%MZ > layers/clamav/REFRESHED_AT
npx aws-cdk deploy --require-approval never "$@"
