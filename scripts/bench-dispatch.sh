#!/usr/bin/env bash
# Dispatch benchmark (issue 3):
#  (a) API create to observed running for the process backend, and a warm-pool claim (POST to 201 with
#      the VM already running), p50/p99 over COUNT VMs each, on three local node processes;
#  (b) the control plane's overhead over a raw microvm-run boot of the same guest on the microvm.nix test
#      host, median of 5: through the whole control plane (API create to observed running on a node
#      process, MicrovmDispatchBench), and the microvm backend's share of it (scripts/bench-boot.sh).
# Bounded: COUNT (default 30, at most 200) VMs of each kind, each wait at most 60 s (180 s for a boot).
#   scripts/bench-dispatch.sh [COUNT]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
count="${1:-30}"
cp_file="$(mktemp /tmp/flotilla-bench-cp.XXXXXX)"
trap 'rm -f "$cp_file"' EXIT

# Offline first (everything is in ~/.m2 once built); online when something is missing.
mvn_() { mvn -B -q -ntp -o "$@" >/dev/null 2>&1 || mvn -B -q -ntp "$@" >/dev/null; }

echo "building..."
mvn_ -DskipTests install
mvn_ -pl node test-compile
mvn_ -pl node dependency:build-classpath -Dmdep.outputFile="$cp_file"
classpath="node/target/test-classes:node/target/classes:$(cat "$cp_file")"
scripts/microvm-host/build-guest.sh >/dev/null

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(java -version 2>&1 | head -1), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== (a) create to running, warm claim: three nodes, process backend, $count VMs each"
java -Xmx512m -cp "$classpath" dev.flotilla.node.dispatch.DispatchBench "$count"
echo "load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== (b1) through Flotilla: API create of a microvm VM to observed running (one node process, test host, real qemu guest) vs raw microvm-run"
java -Xmx512m -cp "$classpath" dev.flotilla.node.dispatch.MicrovmDispatchBench 5 "$root/scripts/microvm-host"
echo "load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== (b2) the microvm backend's share: MicrovmBackend create+start vs raw microvm-run (no node)"
scripts/bench-boot.sh 5
