#!/usr/bin/env bash
# Samverka's changes to an installation of Jitsi's Debian packages, each one idempotent (safe to run
# again) and each one to a file named on the command line, so that install.sh and the tests run the
# same code:
#
#   configure-jitsi.sh prosody-cfg --jitsi-domain D [--user U]
#       prints Samverka's part of the Prosody configuration for D (provisioning/prosody/samverka.cfg.lua
#       with D's names), without room rights of its own: see "prosody-admins"
#   configure-jitsi.sh prosody-admins --jitsi-domain D --file /etc/prosody/conf.avail/D.cfg.lua [--user U]
#       adds U@hidden.D to the admins of Jitsi's Component "conference.D". Prosody reads conf.d in
#       directory order, so a second file setting admins on the same component would replace Jitsi's
#       list or be replaced by it (Jicofo or the appliance losing its rights): one list, in Jitsi's file.
#   configure-jitsi.sh web --jitsi-domain D --file /etc/jitsi/meet/D-config.js
#       hides the appliance from participants (config.hiddenDomain)
#   configure-jitsi.sh jicofo --jitsi-domain D --file /etc/jitsi/jicofo/jicofo.conf
#       makes Jicofo trust the hidden domain: its occupants are not participants
#   configure-jitsi.sh turn --jitsi-domain D --file /etc/turnserver.conf --env-file /etc/samverka/samverka.env
#                           [--cert FILE --key FILE]
#       one TURN secret for coturn, Jitsi's Prosody and the appliance: coturn's own when it has one
#       (Jitsi's packages write it, and Prosody's external_service_secret with it), else TURN_SECRET;
#       relays only to public addresses; TLS on 5349 with the certificate given (default: Jitsi's for D)
set -euo pipefail

command=${1:-}
shift || true
domain='' file='' user=samverka env_file='' cert='' key=''
while [ $# -gt 0 ]; do
  case $1 in
    --jitsi-domain) domain=${2:-}; shift 2 ;;
    --file) file=${2:-}; shift 2 ;;
    --user) user=${2:-}; shift 2 ;;
    --env-file) env_file=${2:-}; shift 2 ;;
    --cert) cert=${2:-}; shift 2 ;;
    --key) key=${2:-}; shift 2 ;;
    *) echo "configure-jitsi: unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ $domain =~ ^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$ ]] || { echo "configure-jitsi: --jitsi-domain must be a host name" >&2; exit 2; }
[[ $user =~ ^[a-z0-9._-]+$ ]] || { echo "configure-jitsi: --user must be an XMPP user name" >&2; exit 2; }
hidden=hidden.$domain
appliance=$user@$hidden
need_file() { [ -n "$file" ] && [ -f "$file" ] || { echo "configure-jitsi: --file must name an existing file ($file)" >&2; exit 1; }; }
source_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

case $command in
  prosody-cfg)
    sed -e "s/muc\.meet\.jitsi/conference.$domain/g" -e "s/hidden\.meet\.jitsi/$hidden/g" -e "s/\"samverka@/\"$user@/g" \
      -e '/^    -- Room owner rights for the appliance/,/^    admins = /c\    -- Room owner rights for the appliance: in the admins of Jitsi'"'"'s own definition of this component\n    -- (configure-jitsi.sh prosody-admins), the one list Prosody reads whatever the order of conf.d.' \
      "$source_dir/provisioning/prosody/samverka.cfg.lua"
    ;;

  prosody-admins)
    need_file
    tmp=$(mktemp "$file.XXXXXX")
    # Within Component "conference.D": put the appliance into the admins list, or add one with it.
    awk -v component="Component \"conference.$domain\" \"muc\"" -v appliance="$appliance" '
      function flush_missing() {
        if (inside && !seen) { print "    admins = { \"" appliance "\" }"; }
      }
      /^(Component|VirtualHost)[ \t]/ {
        flush_missing()
        inside = (index($0, component) == 1); seen = 0
        print; next
      }
      inside && /^[ \t]*admins[ \t]*=/ {
        seen = 1
        if (index($0, "\"" appliance "\"") == 0) sub(/\{[ \t]*/, "{ \"" appliance "\", ")
        print; next
      }
      { print }
      END { flush_missing() }
    ' "$file" >"$tmp"
    grep -q "^Component \"conference.$domain\" \"muc\"" "$file" || { rm -f "$tmp"; echo "configure-jitsi: $file declares no Component \"conference.$domain\"" >&2; exit 1; }
    chmod --reference="$file" "$tmp" 2>/dev/null || true
    mv "$tmp" "$file"
    echo "configure-jitsi: $appliance is an admin of conference.$domain in $file"
    ;;

  web)
    need_file
    if ! grep -q "^config\.hiddenDomain = '$hidden';" "$file"; then
      printf "\n// Samverka: the appliance observes rooms from this domain; participants do not see it.\nconfig.hiddenDomain = '%s';\n" "$hidden" >>"$file"
    fi
    echo "configure-jitsi: $file hides $hidden"
    ;;

  jicofo)
    need_file
    if ! grep -q "^jicofo\.xmpp\.trusted-domains = \[ \"$hidden\" \]" "$file"; then
      printf '\n# Samverka: occupants from the hidden domain (the appliance) are not participants.\njicofo.xmpp.trusted-domains = [ "%s" ]\n' "$hidden" >>"$file"
    fi
    echo "configure-jitsi: Jicofo trusts $hidden ($file)"
    ;;

  turn)
    need_file
    [ -n "$env_file" ] && [ -f "$env_file" ] || { echo "configure-jitsi: --env-file must name samverka.env" >&2; exit 1; }
    existing=$(sed -n 's/^static-auth-secret=//p' "$file" | tail -n 1)
    if [ -n "$existing" ]; then
      # Jitsi's Prosody hands out credentials from this secret already: the appliance takes it too.
      sed -i "s|^TURN_SECRET=.*|TURN_SECRET=$existing|" "$env_file"
      echo "configure-jitsi: TURN_SECRET in $env_file is now coturn's secret (set external_service_secret in Jitsi's Prosody file to the same if it is not)"
    else
      secret=$(sed -n 's/^TURN_SECRET=//p' "$env_file")
      { echo "use-auth-secret"; echo "static-auth-secret=$secret"; } >>"$file"
      echo "configure-jitsi: coturn uses TURN_SECRET from $env_file"
    fi
    add() { grep -q "^$1\$" "$file" || echo "$1" >>"$file"; }
    grep -q '^realm=' "$file" || echo "realm=$domain" >>"$file"
    add fingerprint
    add no-cli
    add no-multicast-peers
    # Relays reach the public internet only: every private, loopback and link-local range is closed
    # (the same list as the bundle's provisioning/coturn/start.sh).
    for range in 0.0.0.0-0.255.255.255 10.0.0.0-10.255.255.255 100.64.0.0-100.127.255.255 127.0.0.0-127.255.255.255 \
      169.254.0.0-169.254.255.255 172.16.0.0-172.31.255.255 192.0.0.0-192.0.0.255 192.168.0.0-192.168.255.255 \
      198.18.0.0-198.19.255.255 224.0.0.0-255.255.255.255 ::1 fc00::-fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff \
      fe80::-febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff; do
      add "denied-peer-ip=$range"
    done
    grep -q '^tls-listening-port=' "$file" || echo "tls-listening-port=5349" >>"$file"
    grep -q '^cert=' "$file" || echo "cert=${cert:-/etc/jitsi/meet/$domain.crt}" >>"$file"
    grep -q '^pkey=' "$file" || echo "pkey=${key:-/etc/jitsi/meet/$domain.key}" >>"$file"
    echo "configure-jitsi: coturn relays to public addresses only, TLS on 5349 ($file)"
    ;;

  *)
    echo "usage: configure-jitsi.sh prosody-cfg|prosody-admins|web|jicofo|turn --jitsi-domain D [--file F] [--user U] [--env-file F] [--cert F --key F]" >&2
    exit 2
    ;;
esac
