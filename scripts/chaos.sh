#!/usr/bin/env bash
# Chaos runs against real node processes, each in its own network namespace:
#   scripts/chaos.sh --time S --runs N --faults LIST [--seed X] [--unsafe-local-reads]
# LIST is comma-separated: all, or kinds (kill, kill-leader, pause, pause-leader, partition-one,
# partition-leader, partition-halves, partition-ring, clock-skew, clock-bump, clock-strobe, corrupt,
# membership), or families (partition, clock, ...). Reports go to chaos-tests/target/chaos/<run>/.
# Needs root (ip netns, iptables). Builds what is missing or older than its sources. Exit 0 only when
# every run is valid.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

if [[ "$(id -u)" != 0 ]]; then
  echo "chaos.sh: needs root to make network namespaces and iptables rules; run it with sudo" >&2
  exit 2
fi

stale() { # $1: a build output; true when it is missing or older than any source of modules $2...
  local out="$1"; shift
  [[ ! -e "$out" ]] && return 0
  [[ -n "$(find "$@" -newer "$out" -type f -print -quit 2>/dev/null)" ]]
}

if stale node/target/flotilla-node.jar pom.xml proto/src statemachine/src node/src node/pom.xml \
   || stale chaos-tests/target/classpath.txt chaos-tests/src/main chaos-tests/pom.xml; then
  echo "== building node and chaos-tests"
  mvn -B -q -o -pl node,chaos-tests -am package -DskipTests
  mvn -B -q -o -pl chaos-tests dependency:build-classpath -Dmdep.outputFile=target/classpath.txt
fi

exec java -Xmx1g -cp "chaos-tests/target/classes:$(cat chaos-tests/target/classpath.txt)" \
  dev.flotilla.chaos.ChaosMain --flotilla "$root/bin/flotilla" --out "$root/chaos-tests/target/chaos" "$@"
