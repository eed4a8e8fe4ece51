#!/usr/bin/env bash
# Runs every offline check of Atrium's deployment code and ends with one summary line.
# A check whose tool is missing prints `skipped: <why>` and counts as skipped, never as passed.
# Exits non-zero when any check failed.
set -uo pipefail

check_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$check_dir/../.." && pwd)"
out="$check_dir/.out"
rm -rf "$out" && mkdir -p "$out"

passed=0
failed=0
skipped=0
failures=()

pass() { passed=$((passed + 1)); echo "ok: $1"; }
fail() { failed=$((failed + 1)); failures+=("$1"); echo "FAILED: $1"; }
skip() { skipped=$((skipped + 1)); echo "skipped: $1"; }

# Runs a command quietly; shows its output only when it fails.
run() {
  local label="$1"; shift
  if "$@" >"$out/step.log" 2>&1; then pass "$label"; else cat "$out/step.log"; fail "$label"; fi
}

echo "== tools"
bash "$check_dir/install-tools.sh" || echo "install-tools.sh failed; dependent checks will be skipped"

echo "== terraform"
terraform_dir="$repo_root/deploy/terraform"
if ! command -v terraform >/dev/null 2>&1; then
  skip "terraform fmt/validate/test (terraform not on PATH)"
else
  run "terraform fmt -check -recursive deploy/terraform" terraform fmt -check -recursive "$terraform_dir"
  mirror=/opt/tf-plugins
  if [ ! -d "$mirror/registry.terraform.io/hashicorp/aws" ]; then
    skip "terraform init/validate/test for AWS (no provider mirror at $mirror)"
  else
    # Scratch CLI config: providers come only from the local mirror, never from the registry.
    cat >"$out/terraform.tfrc" <<CONFIG
provider_installation {
  filesystem_mirror {
    path    = "$mirror"
    include = ["registry.terraform.io/hashicorp/aws"]
  }
  direct {
    exclude = ["registry.terraform.io/hashicorp/aws"]
  }
}
CONFIG
    export TF_CLI_CONFIG_FILE="$out/terraform.tfrc" TF_IN_AUTOMATION=1
    for dir in "$terraform_dir"/aws/modules/* "$terraform_dir"/aws/environments/*; do
      name="aws/${dir#"$terraform_dir"/aws/}"
      if ! (cd "$dir" && terraform init -backend=false -input=false -no-color >"$out/step.log" 2>&1); then
        cat "$out/step.log"; fail "terraform init $name"; continue
      fi
      run "terraform validate $name" terraform -chdir="$dir" validate -no-color
      if [ -d "$dir/tests" ]; then
        run "terraform test $name" terraform -chdir="$dir" test -no-color
      fi
    done
  fi
  skip "terraform validate for GCP (the Google provider is not mirrored here; GCP HCL is policy-tested as JSON below)"
fi

echo "== prometheus rules"
promtool="$repo_root/.toolchain/prometheus/usr/bin/promtool"
if [ ! -x "$promtool" ]; then
  skip "promtool check rules / test rules (promtool unavailable)"
else
  mkdir -p "$out/promtool"
  for rules in "$repo_root"/deploy/monitoring/rules/*.yaml; do
    base="$(basename "$rules" .yaml)"
    node "$check_dir/src/tools/extract-rules.ts" "$rules" "$out/promtool/$base.rules.yaml" || fail "extract $base"
    run "promtool check rules $base" "$promtool" check rules "$out/promtool/$base.rules.yaml"
  done
  cp "$repo_root"/deploy/monitoring/tests/*.test.yaml "$out/promtool/"
  for test in "$out"/promtool/*.test.yaml; do
    run "promtool test rules $(basename "$test")" "$promtool" test rules "$test"
  done
fi

echo "== policy tests (node --test)"
node --test --test-reporter=spec "$check_dir"/src/*.test.ts 2>&1 | tee "$out/node-test.log"
node_status=${PIPESTATUS[0]}
count() { sed -n "s/^ℹ $1 \([0-9]*\)$/\1/p" "$out/node-test.log" | tail -1; }
node_pass="$(count pass)"; node_fail="$(count fail)"; node_skip="$(count skipped)"
passed=$((passed + ${node_pass:-0}))
failed=$((failed + ${node_fail:-0}))
skipped=$((skipped + ${node_skip:-0}))
if [ "$node_status" -ne 0 ] && [ "${node_fail:-0}" -eq 0 ]; then fail "node --test exited $node_status"; fi
[ "${node_fail:-0}" -gt 0 ] && failures+=("${node_fail} policy test(s), see above")

echo
echo "== summary"
echo "tool steps and policy tests together; skipped items are listed above with their reason"
for failure in "${failures[@]+"${failures[@]}"}"; do echo "  failed: $failure"; done
echo "deploy-check: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
