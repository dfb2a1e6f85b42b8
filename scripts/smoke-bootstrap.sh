#!/usr/bin/env bash
# Smoke test of the README's "run" command, as a user runs it: start the three-node cluster, create a VM
# through the CLI, kill -9 one node, run the script again (it restarts only that node, on its data),
# check equal digests, --status, --stop. Then one node with --log-format json writes JSON lines.
# Uses its own ports and run dir, so it does not disturb a cluster on the default ports.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
run_dir="$(mktemp -d /tmp/flotilla-smoke.XXXXXX)"
export FLOTILLA_RUN_DIR="$run_dir" FLOTILLA_API_PORT=38088 FLOTILLA_RAFT_PORT=39088 FLOTILLA_TRANSPORT_PORT=37088
servers=(--server 127.0.0.1:38088 --server 127.0.0.1:38089 --server 127.0.0.1:38090)
passed=0
failed=0
solo_pid=""
cleanup() {
  scripts/bootstrap-cluster.sh --stop >/dev/null 2>&1 || true
  [[ -n "$solo_pid" ]] && kill -9 "$solo_pid" 2>/dev/null || true
  rm -rf "$run_dir"
}
trap cleanup EXIT
check() {
  local what=$1; shift
  if "$@"; then passed=$((passed + 1)); echo "ok   $what"; else failed=$((failed + 1)); echo "FAIL $what"; fi
}
wait_for() { # wait_for SECONDS COMMAND...: poll until the command succeeds, with a deadline
  local deadline=$((SECONDS + $1)); shift
  until "$@"; do ((SECONDS < deadline)) || return 1; sleep 0.3; done
}

check "bootstrap starts three healthy nodes" scripts/bootstrap-cluster.sh
check "vm create through the CLI" bin/flotilla vm create --job-id smoke-1 --runtime process --cmd sleep --cmd 60 "${servers[@]}"
check "vm list shows it" bash -c "bin/flotilla vm list ${servers[*]} | grep -q smoke-1"
first_pid=$(cat "$run_dir/n1/node.pid")
kill -9 "$(cat "$run_dir/n2/node.pid")"
check "a rerun restarts the killed node and leaves the others" bash -c "scripts/bootstrap-cluster.sh | grep -q 'n1 already running'"
check "n1 kept its pid" test "$first_pid" = "$(cat "$run_dir/n1/node.pid")"
same_digests() {
  local d1 d2 d3
  d1=$(curl -s 127.0.0.1:38088/cluster | jq -r '.digest + "@" + (.digest_index|tostring)')
  d2=$(curl -s 127.0.0.1:38089/cluster | jq -r '.digest + "@" + (.digest_index|tostring)')
  d3=$(curl -s 127.0.0.1:38090/cluster | jq -r '.digest + "@" + (.digest_index|tostring)')
  [[ -n "$d1" && "$d1" == "$d2" && "$d2" == "$d3" ]]
}
check "the restarted node converges (equal digests)" wait_for 60 same_digests
check "the restarted node serves the VM" bash -c "curl -sf 127.0.0.1:38089/vms/smoke-1 | grep -q smoke-1"
check "--status lists three nodes" bash -c "scripts/bootstrap-cluster.sh --status | grep -c healthy | grep -q 3"
check "--stop stops them" scripts/bootstrap-cluster.sh --stop
check "nothing answers after --stop" bash -c "! curl -s -m 1 127.0.0.1:38088/health"

solo_dir="$run_dir/solo"
bin/flotilla node --node-id solo --data-dir "$solo_dir" --api-address 127.0.0.1:38091 --raft-address 127.0.0.1:39091 \
  --log-format json > "$run_dir/solo.log" 2>&1 &
solo_pid=$!
disown "$solo_pid"
check "a single node with --log-format json becomes healthy" wait_for 60 bash -c "curl -sf 127.0.0.1:38091/health >/dev/null"
check "its log lines are JSON" bash -c "head -3 '$run_dir/solo.log' | jq -e .message >/dev/null"
check "a bad config is refused with the key named" bash -c "bin/flotilla node --node-id 'Bad Id' 2>&1 | grep -q node_id"

echo "$passed passed, $failed failed"
((failed == 0))
