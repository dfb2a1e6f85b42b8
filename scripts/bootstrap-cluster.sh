#!/usr/bin/env bash
# Starts a three-node Flotilla cluster on loopback, each node with its own data dir; waits until a leader
# is elected and /health answers on all three. Run again, it starts whichever node is not running (a
# killed node comes back on its data) and leaves running ones alone.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
run_dir="${FLOTILLA_RUN_DIR:-$root/run/cluster}"
api_base="${FLOTILLA_API_PORT:-8088}"
raft_base="${FLOTILLA_RAFT_PORT:-9088}"
transport_base="${FLOTILLA_TRANSPORT_PORT:-7088}"
nodes=(n1 n2 n3)
wait_s="${FLOTILLA_WAIT_SECONDS:-90}"

usage() {
  cat <<USAGE
Usage: scripts/bootstrap-cluster.sh [--stop | --status | --help]

  (no option)  build if needed, start the nodes that are not running, wait until the cluster is healthy
  --stop       stop all three nodes (SIGTERM, then SIGKILL after 20 s)
  --status     show each node's pid, ports, role and health

Nodes n1, n2, n3 listen on 127.0.0.1: HTTP API ${api_base}-$((api_base + 2)), Raft ${raft_base}-$((raft_base + 2)).
Their config, data and logs are under ${run_dir}/NODE/ (node.yaml, data/, node.log).

Environment: FLOTILLA_RUN_DIR, FLOTILLA_API_PORT, FLOTILLA_RAFT_PORT, FLOTILLA_TRANSPORT_PORT,
FLOTILLA_WAIT_SECONDS (default 90), FLOTILLA_NODE_JAVA_OPTS, FLOTILLA_SUBNET (VM addresses; default 10.0.0.0/16).
USAGE
}

idx() { echo $(( ${1#n} - 1 )); }
api_port() { echo $(( api_base + $(idx "$1") )); }
raft_port() { echo $(( raft_base + $(idx "$1") )); }
transport_port() { echo $(( transport_base + $(idx "$1") )); }
pid_of() { cat "$run_dir/$1/node.pid" 2>/dev/null || true; }

running() {
  local pid
  pid=$(pid_of "$1")
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && grep -q "dev.flotilla.node.cli.Flotilla" "/proc/$pid/cmdline" 2>/dev/null
}

health() { curl -s -m 2 "http://127.0.0.1:$(api_port "$1")/health" 2>/dev/null || true; }

build_if_needed() {
  if [[ ! -f "$root/node/target/flotilla-node.jar" || ! -d "$root/node/target/lib" ]]; then
    echo "building Flotilla (first run; takes a minute)..."
    (cd "$root" && mvn -B -q -DskipTests package)
  fi
}

write_config() {
  local n=$1 dir="$run_dir/$1"
  mkdir -p "$dir/data"
  {
    echo "# Written by scripts/bootstrap-cluster.sh; see docs/configuration.md for every key."
    echo "node_id: $n"
    echo "data_dir: $dir/data"
    echo "api_address: 127.0.0.1:$(api_port "$n")"
    echo "raft_address: 127.0.0.1:$(raft_port "$n")"
    echo "transport_address: 127.0.0.1:$(transport_port "$n")"
    [[ -n "${FLOTILLA_SUBNET:-}" ]] && echo "subnet: $FLOTILLA_SUBNET"
    echo "peers:"
    for p in "${nodes[@]}"; do
      echo "  - {id: $p, raft: 127.0.0.1:$(raft_port "$p"), api: 127.0.0.1:$(api_port "$p"), transport: 127.0.0.1:$(transport_port "$p")}"
    done
  } > "$dir/node.yaml"
}

start_node() {
  local n=$1 dir="$run_dir/$1"
  write_config "$n"
  nohup "$root/bin/flotilla" node --config "$dir/node.yaml" >> "$dir/node.log" 2>&1 < /dev/null &
  echo $! > "$dir/node.pid"
  echo "started $n (pid $!, api http://127.0.0.1:$(api_port "$n"), log $dir/node.log)"
}

status() {
  printf '%-4s %-8s %-22s %-10s %-8s %s\n' NODE PID API ROLE LEADER HEALTH
  for n in "${nodes[@]}"; do
    local pid="-" h role="-" leader="-" st="down"
    if running "$n"; then
      pid=$(pid_of "$n")
      h=$(health "$n")
      if [[ -n "$h" ]]; then
        role=$(sed -n 's/.*"role" *: *"\([^"]*\)".*/\1/p' <<<"$h" | head -1)
        leader=$(sed -n 's/.*"leader" *: *"\([^"]*\)".*/\1/p' <<<"$h" | head -1)
        st=$(sed -n 's/.*"status" *: *"\([^"]*\)".*/\1/p' <<<"$h" | head -1)
      else
        st="starting"
      fi
    fi
    printf '%-4s %-8s %-22s %-10s %-8s %s\n' "$n" "$pid" "127.0.0.1:$(api_port "$n")" "${role:--}" "${leader:--}" "$st"
  done
}

stop_all() {
  for n in "${nodes[@]}"; do
    if running "$n"; then
      kill -TERM "$(pid_of "$n")" 2>/dev/null || true
      echo "stopping $n (pid $(pid_of "$n"))"
    fi
  done
  local deadline=$((SECONDS + 20))
  for n in "${nodes[@]}"; do
    while running "$n" && ((SECONDS < deadline)); do sleep 0.2; done
    if running "$n"; then
      echo "$n did not stop in 20 s; killing it"
      kill -KILL "$(pid_of "$n")" 2>/dev/null || true
    fi
    rm -f "$run_dir/$n/node.pid"
  done
  echo "stopped"
}

case "${1:-}" in
  -h|--help) usage; exit 0 ;;
  --stop) stop_all; exit 0 ;;
  --status) status; exit 0 ;;
  "") ;;
  *) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
esac

command -v java >/dev/null || { echo "java is not installed; run scripts/install-deps.sh" >&2; exit 2; }
build_if_needed
mkdir -p "$run_dir"
for n in "${nodes[@]}"; do
  if running "$n"; then
    echo "$n already running (pid $(pid_of "$n")); left alone"
  else
    start_node "$n"
  fi
done

printf 'waiting for a leader and /health on all three nodes'
deadline=$((SECONDS + wait_s))
while :; do
  healthy=0
  for n in "${nodes[@]}"; do
    if grep -q '"status" *: *"healthy"' <<<"$(health "$n")"; then healthy=$((healthy + 1)); fi
  done
  ((healthy == 3)) && break
  if ((SECONDS >= deadline)); then
    echo
    echo "the cluster is not healthy after ${wait_s} s ($healthy of 3 nodes healthy). Status:" >&2
    status >&2
    echo "Look at the logs: $run_dir/n*/node.log" >&2
    exit 1
  fi
  for n in "${nodes[@]}"; do
    if ! running "$n"; then
      echo
      echo "$n exited during start; the end of its log ($run_dir/$n/node.log):" >&2
      tail -n 20 "$run_dir/$n/node.log" >&2
      exit 1
    fi
  done
  printf '.'
  sleep 0.5
done
echo " ok"
status
cat <<TOUR

The cluster is up. Talk to any node:
  bin/flotilla vm create --job-id hello --runtime process --cmd sleep --cmd 600
  bin/flotilla vm list
  bin/flotilla cluster status
  curl -s http://127.0.0.1:${api_base}/vms
Stop it with: scripts/bootstrap-cluster.sh --stop
TOUR
