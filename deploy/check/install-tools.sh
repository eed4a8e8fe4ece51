#!/usr/bin/env bash
# Fetches promtool without installing the Prometheus service: the Debian package is downloaded and unpacked into
# .toolchain/prometheus (git-ignored). Prints `skipped: <why>` and exits 0 when apt is not available, so the
# caller reports the rule checks as skipped rather than passed.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
target="$repo_root/.toolchain/prometheus"
promtool="$target/usr/bin/promtool"

if [ -x "$promtool" ]; then
  echo "tools: promtool already at $promtool"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg >/dev/null 2>&1; then
  echo "skipped: promtool (apt-get/dpkg not available)"
  exit 0
fi

download_dir="$(mktemp -d)"
trap 'rm -rf "$download_dir"' EXIT
cd "$download_dir"
if ! apt-get download prometheus >/dev/null 2>&1; then
  # The package lists may be missing on a fresh machine; refresh once and retry.
  apt-get update >/dev/null 2>&1 || true
  if ! apt-get download prometheus >/dev/null 2>&1; then
    echo "skipped: promtool (apt-get download prometheus failed)"
    exit 0
  fi
fi
mkdir -p "$target"
dpkg -x prometheus_*.deb "$target"
echo "tools: promtool $("$promtool" --version 2>&1 | head -1)"
