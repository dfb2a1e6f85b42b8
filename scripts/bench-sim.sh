#!/usr/bin/env bash
# Simulated-VM benchmark (docs/performance.md, "Simulated VMs"). Bounded: each part has its own
# timeout and ramps to a fixed maximum. Builds the node module if needed and runs the bench main class
# from the test classpath: node/target/test-classes + node/target/flotilla-node.jar + node/target/lib/*.
#
#   scripts/bench-sim.sh [parts...]     parts: idle active packets calls lua   (default: all)
#   IDLE_MAX=1000000 ACTIVE_MAX=200000 BENCH_HEAP=6g BENCH_HOLD=4 BENCH_GC=UseSerialGC scripts/bench-sim.sh
# The collector is the node's (bin/flotilla runs a node with -XX:+UseSerialGC); BENCH_GC tries another.
set -euo pipefail
cd "$(dirname "$0")/.."

IDLE_MAX=${IDLE_MAX:-1000000}
ACTIVE_MAX=${ACTIVE_MAX:-200000}
HEAP=${BENCH_HEAP:-6g}
HOLD=${BENCH_HOLD:-4}
GC=${BENCH_GC:-UseSerialGC}
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
echo "== $(java -version 2>&1 | head -1), heap $HEAP, -XX:+$GC, hold ${HOLD}s per step"

bench() { # timeout part args...
  local limit=$1; shift
  # AlwaysPreTouch: the heap's pages are touched once at start, so CPU figures do not count the
  # kernel's first-touch page faults (half the CPU of a short run otherwise).
  timeout "$limit" java -Xms"$HEAP" -Xmx"$HEAP" -XX:+"$GC" -XX:+AlwaysPreTouch -Dbench.hold="$HOLD" \
    -Dlogback.configurationFile="$LOGCFG" -cp "$CP" dev.flotilla.node.sim.bench.SimBench "$@" | tee -a "$OUT" \
    || echo "(part '$1' stopped: exit $? — timeout or failure; figures above are the last completed step)"
}

for part in "${PARTS[@]}"; do
  case "$part" in
    idle)    echo "== (a) idle VMs, ramp to $IDLE_MAX"; bench 600 idle "$IDLE_MAX" ;;
    active)  echo "== (b) VMs whose on_tick runs every tick, ramp to $ACTIVE_MAX"; bench 400 active "$ACTIVE_MAX" ;;
    packets) echo "== (c) packets per second"; bench 120 packets ;;
    calls)   echo "== (d) cost per handler call in our runtime"
             for n in 100 10000; do bench 90 calls $n; bench 90 calls $n interpreted; done
             bench 60 interp 3000000 ;;
    lua)     echo "== (d) the same trivial handler in PUC Lua 5.4 and LuaJIT (CPU time, os.clock; median of 3 runs)"
             # The loop our runtime runs: each VM its own handler closure and its own ctx table, called
             # round-robin (100 and 10,000 VMs); and, as in earlier runs, one closure on one table ("1").
             cat > "$LUAFILE" <<'LUA'
local vms = tonumber(arg[1])
local function program()
  return { on_start = function(ctx) ctx.n = 0 end, on_tick = function(ctx) ctx.n = ctx.n + 1 end }
end
local ticks, ctxs = {}, {}
for i = 1, vms do local p = program() p.on_start(p) ticks[i], ctxs[i] = p.on_tick, p end
local rounds = math.floor(20000000 / vms)
local t0 = os.clock()
if vms == 1 then -- one handler on one table, called straight from a loop
  local on_tick, ctx = ticks[1], ctxs[1]
  for r = 1, rounds do on_tick(ctx) end
else
  for r = 1, rounds do for i = 1, vms do ticks[i](ctxs[i]) end end
end
print(string.format("%.1f", (os.clock() - t0) / (rounds * vms) * 1e9))
LUA
             for l in lua5.4 luajit; do
               if ! command -v $l >/dev/null; then
                 echo "lua: $l is not installed (apt-get install lua5.4 luajit)"; continue
               fi
               for n in 1 100 10000; do
                 ns=$(for r in 1 2 3; do timeout 60 $l "$LUAFILE" $n; done | sort -n | sed -n 2p)
                 echo "lua: $l, $n VMs: $ns ns CPU per call"; echo "RESULT lua.$l.$n $ns" >> "$OUT"
               done
             done ;;
    *) echo "unknown part '$part'; use idle active packets calls lua" >&2; exit 2 ;;
  esac
done

echo "== summary"
# The last value of each key wins (ramps print one per completed step).
awk '$1=="RESULT"{v[$2]=$3} END{for (k in v) print k, v[k]}' "$OUT" | sort | column -t
val() { awk -v k="$1" '$1=="RESULT" && $2==k{v=$3} END{print v}' "$OUT"; }
for n in 100 10000; do
  ours=$(val calls.compiled.$n); puc=$(val lua.lua5.4.$n); one=$(val lua.lua5.4.1); jit=$(val lua.luajit.$n)
  if [ -n "$ours" ] && [ -n "$puc" ]; then
    awk -v n="$n" -v o="$ours" -v p="$puc" -v q="$one" -v j="$jit" 'BEGIN{
      printf "ratio, %s VMs: our handler call / PUC Lua 5.4 call over as many VMs = %.2fx", n, o/p
      if (q > 0) printf "; / PUC Lua 5.4 on one table = %.2fx", o/q
      if (j > 0) printf "; / LuaJIT = %.0fx", o/j
      print ""}'
  fi
done
