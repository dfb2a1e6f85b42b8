#!/usr/bin/env bash
# Commit benchmark: starts a three-node loopback cluster (Raft log fsync on, the Ratis default) on its own
# ports, drives creates through the HTTP API and through a Raft client directly, with 1 and 64 concurrent
# clients, and prints ops/s and p50/p99/p999 latency. Each run is bounded: SECONDS long, MAX_OPS at most.
#   scripts/bench-commit.sh [SECONDS (default 20)] [MAX_OPS (default 100000)]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
seconds="${1:-20}"
max_ops="${2:-100000}"
run_dir="$(mktemp -d /tmp/flotilla-bench.XXXXXX)"
export FLOTILLA_RUN_DIR="$run_dir" FLOTILLA_API_PORT=18088 FLOTILLA_RAFT_PORT=19088 FLOTILLA_TRANSPORT_PORT=17088
trap 'scripts/bootstrap-cluster.sh --stop >/dev/null 2>&1 || true; rm -rf "$run_dir"' EXIT

echo "building..."
mvn -B -q -ntp -DskipTests install >/dev/null
mvn -B -q -ntp -pl node test-compile >/dev/null
cp_file="$run_dir/classpath"
mvn -B -q -ntp -pl node dependency:build-classpath -Dmdep.outputFile="$cp_file" >/dev/null
classpath="node/target/test-classes:node/target/classes:$(cat "$cp_file")"

scripts/bootstrap-cluster.sh >/dev/null
http="127.0.0.1:18088,127.0.0.1:18089,127.0.0.1:18090"
raft="n1=127.0.0.1:19088,n2=127.0.0.1:19089,n3=127.0.0.1:19090"

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(java -version 2>&1 | head -1), disk $(df -h "$run_dir" | awk 'NR==2{print $1}')"
echo "each run: ${seconds} s or ${max_ops} creates, whichever first; three nodes on loopback"
for mode in http raft; do
  for clients in 1 64; do
    addrs=$http
    [[ $mode == raft ]] && addrs=$raft
    java -Xmx1g -cp "$classpath" dev.flotilla.node.bench.CommitBench "$mode" "$clients" "$seconds" "$max_ops" "$addrs" 2>/dev/null
  done
done
