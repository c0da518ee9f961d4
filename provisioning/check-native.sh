#!/usr/bin/env bash
# Checks that the installed better-sqlite3 loads in this Node and was not compiled against Node
# 24.19+'s node_object_wrap.h, whose cleanup hook makes better-sqlite3 12 abort the process when a
# statement is garbage-collected ("Assertion failed: (env) != nullptr"). Run by .ci/run and by the
# image build; README, "Node versions", says why.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

addon=node_modules/better-sqlite3/build/Release/better_sqlite3.node
node -e "const Database = require('better-sqlite3'); new Database(':memory:').prepare('select 1').get()" || {
  echo "check-native: better-sqlite3 does not load in Node $(node --version): rebuild it (npm rebuild better-sqlite3)" >&2
  exit 1
}
if grep -q '_ZN4node10ObjectWrap11CleanupHookEPv' "$addon"; then
  echo "check-native: $addon was compiled against Node 24.19+ headers and will abort under load;" >&2
  echo "check-native: rebuild it against Node 24.18.0's headers (npm_config_nodedir, see .ci/node24.sh)" >&2
  exit 1
fi
echo "check-native: better-sqlite3 loads in Node $(node --version), built without ObjectWrap's cleanup hook"
