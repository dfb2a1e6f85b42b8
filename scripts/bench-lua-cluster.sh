#!/usr/bin/env bash
# Lua VMs through a three-node cluster: COUNT idle lua VMs created through the HTTP API, create to
# observed running (p50/p99 from the records' stamps), where they were placed (followers first), and
# each node's runtime counters. Bounded: COUNT (default 100, at most 2000), waits at most 120 s.
#   scripts/bench-lua-cluster.sh [COUNT]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
count="${1:-100}"
cp_file="$(mktemp /tmp/flotilla-bench-cp.XXXXXX)"
trap 'rm -f "$cp_file"' EXIT

echo "building..."
mvn -B -q -ntp -o -DskipTests install >/dev/null
mvn -B -q -ntp -o -pl node test-compile >/dev/null
mvn -B -q -ntp -o -pl node dependency:build-classpath -Dmdep.outputFile="$cp_file" >/dev/null
classpath="node/target/test-classes:node/target/classes:$(cat "$cp_file")"

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(java -version 2>&1 | head -1), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== $count idle lua VMs through three local node processes"
java -Xmx512m -cp "$classpath" dev.flotilla.node.dispatch.LuaClusterBench "$count"
