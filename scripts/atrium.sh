#!/usr/bin/env bash
# Runs the atrium CLI with a Node.js new enough for it (installing Node 24 locally if the machine's is older).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$root/scripts/toolchain.sh" 2>/dev/null
# The same V8 settings as the container image (deploy/docker/Dockerfile says why).
exec node --heap-growing-percent=50 --no-allocation-site-pretenuring "$root/apps/server/src/cli.ts" "$@"
