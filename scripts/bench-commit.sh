#!/usr/bin/env bash
# Commit benchmark: starts a three-node loopback cluster (Raft log fsync on, the Ratis default) on its own
# ports, drives creates (of VMs desired stopped: one log entry each) through the HTTP API and through a
# Raft client directly, with 1 and 64 concurrent clients, and prints ops/s and p50/p99/p999 latency.
# The peer, a three-node etcd cluster (Debian's etcd-server, fsync on, its default) on loopback in the
# same run, gets the same load: puts of the same JSON through its v3 HTTP gateway. Each run is bounded:
# SECONDS long, MAX_OPS at most. Before the runs, each cluster gets WARMUP seconds (default 90, at most
# 500,000 ops) of the 64-client HTTP load, not counted: the nodes' JVMs compile their hot code during
# their first minute or two under load, which on two cores costs more than the work measured.
#   scripts/bench-commit.sh [SECONDS (default 20)] [MAX_OPS (default 100000)] [WARMUP (default 90)]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
seconds="${1:-20}"
max_ops="${2:-100000}"
warmup="${3:-90}"
run_dir="$(mktemp -d /tmp/flotilla-bench.XXXXXX)"
export FLOTILLA_RUN_DIR="$run_dir" FLOTILLA_API_PORT=18088 FLOTILLA_RAFT_PORT=19088 FLOTILLA_TRANSPORT_PORT=17088
# Room for every VM the runs create (a /16 holds 65,534; the warm-up alone may create more).
export FLOTILLA_SUBNET=10.0.0.0/12
etcd_pids=()
stop_all() {
  scripts/bootstrap-cluster.sh --stop >/dev/null 2>&1 || true
  for p in "${etcd_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${etcd_pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$run_dir"
}
trap stop_all EXIT
command -v etcd >/dev/null || { echo "etcd is not installed; run scripts/install-deps.sh" >&2; exit 2; }

echo "building..."
mvn -B -q -ntp -DskipTests install >/dev/null
mvn -B -q -ntp -pl node test-compile >/dev/null
cp_file="$run_dir/classpath"
mvn -B -q -ntp -pl node dependency:build-classpath -Dmdep.outputFile="$cp_file" >/dev/null
classpath="node/target/test-classes:node/target/classes:$(cat "$cp_file")"

scripts/bootstrap-cluster.sh >/dev/null
http="127.0.0.1:18088,127.0.0.1:18089,127.0.0.1:18090"
raft="n1=127.0.0.1:19088,n2=127.0.0.1:19089,n3=127.0.0.1:19090"

# The peer: three etcd members on loopback, one data dir each.
cluster="e1=http://127.0.0.1:12380,e2=http://127.0.0.1:12382,e3=http://127.0.0.1:12384"
for i in 1 2 3; do
  client=$((12377 + 2 * i)) peer=$((12378 + 2 * i))
  etcd --name "e$i" --data-dir "$run_dir/etcd-e$i" \
    --listen-client-urls "http://127.0.0.1:$client" --advertise-client-urls "http://127.0.0.1:$client" \
    --listen-peer-urls "http://127.0.0.1:$peer" --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
    --initial-cluster "$cluster" --initial-cluster-state new --log-level error > "$run_dir/etcd-e$i.log" 2>&1 &
  etcd_pids+=($!)
done
etcd_addrs="127.0.0.1:12379,127.0.0.1:12381,127.0.0.1:12383"
deadline=$((SECONDS + 60))
until curl -sf 127.0.0.1:12379/health | grep -q true; do
  ((SECONDS < deadline)) || { echo "etcd did not become healthy; see $run_dir/etcd-e*.log" >&2; exit 1; }
  sleep 0.3
done

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(java -version 2>&1 | head -1), disk $(df -h "$run_dir" | awk 'NR==2{print $1}')"
echo "each run: ${seconds} s or ${max_ops} creates, whichever first; three nodes on loopback"
echo "peer: $(etcd --version | head -1), three members on loopback, puts through the v3 HTTP gateway"
echo "node JVM: ${FLOTILLA_NODE_JAVA_OPTS:-the defaults of bin/flotilla}; warm-up ${warmup} s per cluster"
bench() { java -Xmx1g -cp "$classpath" dev.flotilla.node.bench.CommitBench "$@" 2>/dev/null; }
for mode in http raft etcd; do
  addrs=$http
  [[ $mode == raft ]] && addrs=$raft
  [[ $mode == etcd ]] && addrs=$etcd_addrs
  [[ $mode == raft ]] || bench "$mode" 64 0 500000 "$addrs" "$warmup"
  for clients in 1 64; do
    bench "$mode" "$clients" "$seconds" "$max_ops" "$addrs"
  done
done
