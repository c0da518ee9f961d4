#!/bin/sh
# coturn's entry in the bundle. Writes the settings that must not appear on a command line (where
# `ps` on the host shows them) or that depend on the environment into a private file, then runs
# turnserver with it and with the options compose.yaml gives as arguments.
#
#   TURN_SECRET         the REST API shared secret (credentials the appliance and Prosody mint)
#   TURN_REALM          the realm, TURN_HOST
#   TURN_ALLOWED_PEERS  comma-separated addresses a relay may reach: the videobridges
#   TURN_CONFIG_FILE    where the file goes (default /tmp/turnserver.conf, a tmpfs in the bundle)
#
# Every Jitsi participant gets TURN credentials, so a relay is a way into this network: coturn
# allows private addresses by default. Here every private, loopback, link-local and reserved range
# is denied and only the bridges are allowed (coturn lets an allowed address win over a denied range).
set -eu

: "${TURN_SECRET:?TURN_SECRET must be set}"
: "${TURN_REALM:?TURN_REALM must be set}"
: "${TURN_ALLOWED_PEERS:?TURN_ALLOWED_PEERS must name the videobridge address(es)}"
file=${TURN_CONFIG_FILE:-/tmp/turnserver.conf}

umask 077
{
  echo "use-auth-secret"
  echo "static-auth-secret=$TURN_SECRET"
  echo "realm=$TURN_REALM"
  for range in \
    0.0.0.0-0.255.255.255 \
    10.0.0.0-10.255.255.255 \
    100.64.0.0-100.127.255.255 \
    127.0.0.0-127.255.255.255 \
    169.254.0.0-169.254.255.255 \
    172.16.0.0-172.31.255.255 \
    192.0.0.0-192.0.0.255 \
    192.0.2.0-192.0.2.255 \
    192.88.99.0-192.88.99.255 \
    192.168.0.0-192.168.255.255 \
    198.18.0.0-198.19.255.255 \
    198.51.100.0-198.51.100.255 \
    203.0.113.0-203.0.113.255 \
    224.0.0.0-255.255.255.255 \
    ::1 \
    ::ffff:0.0.0.0-::ffff:255.255.255.255 \
    64:ff9b::-64:ff9b::ffff:ffff \
    2001::-2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff \
    2002::-2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff \
    fc00::-fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff \
    fe80::-febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff; do
    echo "denied-peer-ip=$range"
  done
  echo "$TURN_ALLOWED_PEERS" | tr ',' '\n' | while read -r peer; do
    [ -z "$peer" ] || echo "allowed-peer-ip=$peer"
  done
} >"$file"

# turnserver needs none of these, and a child's environment is one more place to read them from.
unset TURN_SECRET TURN_REALM TURN_ALLOWED_PEERS
exec turnserver -c "$file" "$@"
