#!/usr/bin/env bash
# Simulated-VM benchmark (docs/performance.md, "Simulated VMs"). Bounded: each part has its own
# timeout and ramps to a fixed maximum. Builds the node module if needed and runs the bench main class
# from the test classpath: node/target/test-classes + node/target/flotilla-node.jar + node/target/lib/*.
#
#   scripts/bench-sim.sh [parts...]     parts: idle active packets calls lua   (default: all)
#   IDLE_MAX=1000000 ACTIVE_MAX=100000 BENCH_HEAP=6g BENCH_HOLD=4 scripts/bench-sim.sh
set -euo pipefail
cd "$(dirname "$0")/.."

IDLE_MAX=${IDLE_MAX:-1000000}
ACTIVE_MAX=${ACTIVE_MAX:-100000}
HEAP=${BENCH_HEAP:-6g}
HOLD=${BENCH_HOLD:-4}
PARTS=("$@")
[ ${#PARTS[@]} -eq 0 ] && PARTS=(idle active packets calls lua)

if [ ! -f node/target/flotilla-node.jar ] || [ ! -f node/target/test-classes/dev/flotilla/node/sim/bench/SimBench.class ]; then
  echo "building node (mvn -o -pl node -am package -DskipTests)..."
  mvn -B -q -o -pl node -am package -DskipTests
fi
CP="node/target/test-classes:node/target/flotilla-node.jar:node/target/lib/*"

LOGCFG=$(mktemp --suffix=.xml)
LUAFILE=$(mktemp --suffix=.lua)
OUT=$(mktemp)
trap 'rm -f "$LOGCFG" "$LUAFILE" "$OUT"' EXIT
cat > "$LOGCFG" <<'XML'
<configuration>
  <appender name="OUT" class="ch.qos.logback.core.ConsoleAppender">
    <encoder><pattern>%d{HH:mm:ss} %-5level %logger{0} - %msg%n</pattern></encoder>
  </appender>
  <root level="WARN"><appender-ref ref="OUT"/></root>
  <logger name="dev.flotilla.node.sim" level="INFO"/>
</configuration>
XML

echo "== machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB RAM, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== $(java -version 2>&1 | head -1), heap $HEAP, hold ${HOLD}s per step"

bench() { # timeout part args...
  local limit=$1; shift
  timeout "$limit" java -Xms"$HEAP" -Xmx"$HEAP" -XX:+UseParallelGC -Dbench.hold="$HOLD" \
    -Dlogback.configurationFile="$LOGCFG" -cp "$CP" dev.flotilla.node.sim.bench.SimBench "$@" | tee -a "$OUT" \
    || echo "(part '$1' stopped: exit $? — timeout or failure; figures above are the last completed step)"
}

for part in "${PARTS[@]}"; do
  case "$part" in
    idle)    echo "== (a) idle VMs, ramp to $IDLE_MAX"; bench 600 idle "$IDLE_MAX" ;;
    active)  echo "== (b) VMs whose on_tick runs every tick, ramp to $ACTIVE_MAX"; bench 400 active "$ACTIVE_MAX" ;;
    packets) echo "== (c) packets per second"; bench 120 packets ;;
    calls)   echo "== (d) cost per handler call in our runtime"
             bench 60 calls 100; bench 60 calls 10000; bench 60 interp 3000000 ;;
    lua)     echo "== (d) the same trivial handler loop in PUC Lua 5.4 and LuaJIT (CPU time, os.clock)"
             cat > "$LUAFILE" <<'LUA'
local ctx = {n = 0}
local function on_tick(c) c.n = c.n + 1 end
local N = 20000000
local t0 = os.clock()
for i = 1, N do on_tick(ctx) end
print(string.format("%.1f", (os.clock() - t0) / N * 1e9))
LUA
             for l in lua5.4 luajit; do
               if command -v $l >/dev/null; then
                 ns=$(timeout 60 $l "$LUAFILE"); echo "lua: $l: $ns ns CPU per call"; echo "RESULT lua.$l $ns" >> "$OUT"
               else
                 echo "lua: $l is not installed (apt-get install lua5.4 luajit)"
               fi
             done ;;
    *) echo "unknown part '$part'; use idle active packets calls lua" >&2; exit 2 ;;
  esac
done

echo "== summary"
# The last value of each key wins (ramps print one per completed step).
awk '$1=="RESULT"{v[$2]=$3} END{for (k in v) print k, v[k]}' "$OUT" | sort | column -t
ours=$(awk '$1=="RESULT" && $2=="calls.cpu_ns_per_call"{v=$3} END{print v}' "$OUT")
puc=$(awk '$1=="RESULT" && $2=="lua.lua5.4"{print $3}' "$OUT")
jit=$(awk '$1=="RESULT" && $2=="lua.luajit"{print $3}' "$OUT")
if [ -n "$ours" ] && [ -n "$puc" ]; then
  awk -v o="$ours" -v p="$puc" -v j="$jit" 'BEGIN{printf "ratio: our handler call (10k VMs) / PUC Lua 5.4 call = %.1fx", o/p; if (j>0) printf ", / LuaJIT call = %.0fx", o/j; print ""}'
fi
