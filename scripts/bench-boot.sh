#!/usr/bin/env bash
# Benchmark (b) of issue 3, first half: a microVM boot on the microvm.nix test host, measured
#   1. raw: the runner's own bin/microvm-run exec'd directly, and
#   2. through MicrovmBackend: create (flake + `microvm -c`) and `systemctl start`,
# each to "QMP says running" and to the guest's "flotilla-guest: up" console line, median of RUNS (5).
# Prints the machine, every run, both medians and their difference.
#
# Usage: scripts/bench-boot.sh [RUNS]      (builds node/ first if its jar is missing)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
runs=${1:-${RUNS:-5}}
cd "$repo"

if [[ ! -f node/target/flotilla-node.jar || ! -d node/target/lib ]]; then
  echo "bench-boot: building node (mvn -o -pl node -am install -DskipTests)"
  mvn -B -q -o -pl node -am install -DskipTests
fi
guest=$(scripts/microvm-host/build-guest.sh)

work=$(mktemp -d /tmp/flotilla-bench-boot.XXXXXX)
cleanup() {
  # Stop whatever a failed run left behind, then remove the scratch dir.
  for unit in "$work"/units/microvm@*.service; do
    [[ -d $unit ]] || continue
    SYSTEMCTL_STATE_DIR=$work/units MICROVM_STATE_DIR=$work/microvms \
      scripts/microvm-host/systemctl stop "$(basename "$unit")" || true
  done
  chmod -R u+w "$work" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n 1)," \
  "$(free -m | awk '/^Mem:/ {print $2}') MB RAM, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "accelerator: TCG software emulation (the test host runner passes -accel tcg; /dev/kvm $([[ -e /dev/kvm ]] && echo "exists but is not used" || echo "is absent"))"
echo "qemu: $(qemu-system-x86_64 --version | head -n 1); guest kernel: $(basename "$(ls /boot/vmlinuz-*-cloud-amd64 | sort -V | tail -n 1)"), initramfs $(du -k "$guest/initrd" | cut -f1) KB"
echo "runs: $runs, guest memory 128 MB, 1 vCPU, -M pc"
java -cp "node/target/flotilla-node.jar:node/target/lib/*" dev.flotilla.node.backend.microvm.BootBench \
  --work "$work" --scripts "$repo/scripts/microvm-host" --runs "$runs" --mem 128
