#!/usr/bin/env bash
# Writes the bundle's .env from env.example with a fresh random value for every secret
# (docker-jitsi-meet's gen-passwords.sh, for Samverka). Never reuses a value, never overwrites an
# existing .env unless told to: a new DATA_KEY makes the stored identity numbers unreadable.
#
#   provisioning/gen-secrets.sh [--force] [OUTPUT]
#
# OUTPUT defaults to .env beside compose.yaml. SAMVERKA_ENV_TEMPLATE names another template.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
template=${SAMVERKA_ENV_TEMPLATE:-$root/env.example}
output=$root/.env
force=0

usage() {
  echo "usage: $(basename "$0") [--force] [OUTPUT]   (OUTPUT defaults to $root/.env)" >&2
}

for arg in "$@"; do
  case $arg in
    --force) force=1 ;;
    -h | --help) usage; exit 0 ;;
    -*) echo "gen-secrets: unknown option $arg" >&2; usage; exit 2 ;;
    *) output=$arg ;;
  esac
done

# Bytes of randomness per secret. 16 bytes (128 bits) as docker-jitsi-meet does; the appliance's own
# keys take 32: DATA_KEY is an AES-256 key (64 hex characters), SESSION_SECRET and the HS256 JWT
# secret must be at least 32 characters and gain nothing from being shorter than the hash.
declare -A bytes=(
  [SESSION_SECRET]=32
  [DATA_KEY]=32
  [JWT_APP_SECRET]=32
  [TURN_SECRET]=16
  [XMPP_PASSWORD]=16
  [JICOFO_AUTH_PASSWORD]=16
  [JVB_AUTH_PASSWORD]=16
  [POSTGRES_PASSWORD]=16
)

if [ ! -r "$template" ]; then
  echo "gen-secrets: cannot read the template $template" >&2
  exit 1
fi
if [ -e "$output" ] && [ "$force" -ne 1 ]; then
  echo "gen-secrets: $output already exists; not overwriting it (its DATA_KEY encrypts stored data)." >&2
  echo "gen-secrets: to start over with new secrets, run again with --force (the old file is kept as a backup)." >&2
  exit 1
fi
command -v openssl >/dev/null || { echo "gen-secrets: openssl is needed (apt-get install openssl)" >&2; exit 1; }

declare -A value=()
declare -A seen=()
for name in "${!bytes[@]}"; do
  while :; do
    candidate=$(openssl rand -hex "${bytes[$name]}")
    # A repeat is astronomically unlikely, but "never reuse a secret" is a rule, not a hope.
    [ -z "${seen[$candidate]:-}" ] && break
  done
  seen[$candidate]=1
  value[$name]=$candidate
done

umask 077
tmp=$(mktemp "$(dirname "$output")/.env.XXXXXX")
trap 'rm -f "$tmp"' EXIT
filled=()
while IFS= read -r line || [ -n "$line" ]; do
  name=${line%%=*}
  if [ "$line" = "$name=" ] && [ -n "${bytes[$name]:-}" ]; then
    line="$name=${value[$name]}"
    filled+=("$name")
  fi
  # The commented PostgreSQL DATABASE_URL carries the password that compose cannot splice in itself.
  line=${line//<POSTGRES_PASSWORD>/${value[POSTGRES_PASSWORD]}}
  printf '%s\n' "$line"
done <"$template" >"$tmp"

# env.example must carry every secret the bundle needs; other templates (the Debian one) hold a subset.
for name in "${!bytes[@]}"; do
  [ "$template" = "$root/env.example" ] || break
  if [[ ! " ${filled[*]} " == *" $name "* ]]; then
    echo "gen-secrets: the template has no empty line \"$name=\" to fill" >&2
    exit 1
  fi
done

if [ -e "$output" ]; then
  backup="$output.bak-$(date +%Y%m%d-%H%M%S)"
  cp -p "$output" "$backup"
  echo "gen-secrets: kept the previous file as $backup"
fi
mv "$tmp" "$output"
trap - EXIT
echo "gen-secrets: wrote $output with ${#filled[@]} new secrets; now fill in the names, RELAYHOST and SMPP_URL"
