#!/usr/bin/env bash
# Dispatch benchmark (issue 3):
#  (a) API create to observed running for the process backend, and a warm-pool claim (POST to 201 with
#      the VM already running), p50/p99 over COUNT VMs each, on three local node processes;
#  (b) the microvm backend's overhead over a raw microvm-run boot of the same guest on the microvm.nix
#      test host, median of 5 (scripts/bench-boot.sh).
# Bounded: COUNT (default 30, at most 200) VMs of each kind, each wait at most 60 s.
#   scripts/bench-dispatch.sh [COUNT]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
count="${1:-30}"
cp_file="$(mktemp /tmp/flotilla-bench-cp.XXXXXX)"
trap 'rm -f "$cp_file"' EXIT

echo "building..."
mvn -B -q -ntp -DskipTests install >/dev/null
mvn -B -q -ntp -pl node test-compile >/dev/null
mvn -B -q -ntp -pl node dependency:build-classpath -Dmdep.outputFile="$cp_file" >/dev/null
classpath="node/target/test-classes:node/target/classes:$(cat "$cp_file")"

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(java -version 2>&1 | head -1), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== (a) create to running, warm claim: three nodes, process backend, $count VMs each"
java -Xmx512m -cp "$classpath" dev.flotilla.node.dispatch.DispatchBench "$count"
echo "== (b) microvm backend over a raw microvm-run boot (test host, real qemu guest)"
scripts/bench-boot.sh 5
