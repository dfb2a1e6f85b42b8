#!/usr/bin/env bash
# The README's test command: installs what the tests need (idempotent), then runs every default test:
# unit and property tests, real-process cluster tests, backend tests, the NixOS module checks, and the
# short chaos run. Long runs (full chaos, benchmarks) are separate scripts.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

bash scripts/install-deps.sh

echo "== maven: build and test every module"
mvn -B -ntp verify

echo "== chaos: a short run under every kind of fault, and the negative control (needs root)"
mvn -B -ntp -pl chaos-tests test -Dchaos.groups=cluster -Dchaos.excludedGroups=none \
  -Dtest='ShortChaosIT,NegativeControlIT' -Dsurefire.failIfNoSpecifiedTests=false

echo "== the README's run command: bootstrap, kill, rerun, stop"
bash scripts/smoke-bootstrap.sh

if [[ -x scripts/check-nix.sh ]]; then
  echo "== nix: parse and evaluate the NixOS module"
  bash scripts/check-nix.sh
fi
echo "== all tests passed"
