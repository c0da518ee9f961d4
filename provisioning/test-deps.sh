#!/usr/bin/env bash
# Installs the Debian packages the test suite drives for real: Chromium and Firefox ESR (browser
# tests), Prosody (XMPP), coturn (TURN), PostgreSQL (the database suite) and docker-compose
# (validating compose.yaml without an engine). Skipped when everything is present; when packages
# are missing and we are not root, says which and how to install them, and the suite goes on
# (the tests that need a missing part fail with a message naming it).
set -euo pipefail

declare -A binary_of=(
  [chromium]=/usr/bin/chromium
  [firefox-esr]=/usr/bin/firefox-esr
  [prosody]=/usr/bin/prosody
  [coturn]=/usr/bin/turnserver
  [postgresql]=/usr/bin/pg_ctlcluster
  [docker-compose]=/usr/bin/docker-compose
)

missing=()
for package in "${!binary_of[@]}"; do
  [ -x "${binary_of[$package]}" ] || missing+=("$package")
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "test-deps: missing system packages: ${missing[*]}" >&2
  echo "test-deps: not root, so not installing them; run: sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 0
fi

echo "test-deps: installing ${missing[*]} (apt-get update once, then apt-get install)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
