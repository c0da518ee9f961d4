#!/bin/sh
# The container's entry script: checks the configuration the bundle needs before the appliance
# starts, and stops with one "FATAL: <VAR> must be set" line per empty variable instead of starting
# half-configured. (The appliance then validates formats itself and refuses invalid values.)
# SAMVERKA_REQUIRED lists the variables; compose.yaml names every part of the bundle. With
# SAMVERKA_PREFLIGHT=1 (the bundle) it then runs `samverka check --config`, which refuses invalid
# values and the examples and placeholders env.example ships with.
set -eu

required=${SAMVERKA_REQUIRED:-PUBLIC_URL SESSION_SECRET DATA_KEY SMTP_URL SMPP_URL}
missing=0
for variable in $required; do
  case $variable in
    *[!A-Za-z0-9_]* | [0-9]*)
      echo "FATAL: SAMVERKA_REQUIRED names \"$variable\", which is not a variable name" >&2
      exit 1
      ;;
  esac
  eval "value=\${$variable:-}"
  if [ -z "$value" ]; then
    echo "FATAL: $variable must be set (see env.example; secrets come from provisioning/gen-secrets.sh)" >&2
    missing=1
  fi
done
[ "$missing" -eq 0 ] || exit 1

if [ "${SAMVERKA_PREFLIGHT:-0}" = 1 ]; then
  ${SAMVERKA_COMMAND:-samverka} check --config || exit 1
fi

exec "$@"
