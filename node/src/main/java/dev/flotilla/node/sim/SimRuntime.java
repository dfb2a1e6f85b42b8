package dev.flotilla.node.sim;

import dev.flotilla.node.net.DropReason;
import dev.flotilla.node.net.Ipv4;
import dev.flotilla.node.net.Packet;
import dev.flotilla.node.net.PacketSink;
import dev.flotilla.node.net.RouteDecision;
import dev.flotilla.node.net.Router;
import dev.flotilla.proto.FileChange;
import org.luaj.vm2.LuaTable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * Runs simulated VMs: Lua handler tables ticked at a steady rate on a few shards. It knows nothing of
 * Raft: it is told which VMs to run ({@link #addVm}, {@link #removeVm}), hands packets for other nodes
 * to a {@link PacketSink}, takes theirs in through {@link #deliver}, and hands out file changes through
 * an {@link FsBatch} hook so the caller can make them durable.
 *
 * <p>Either {@link #start()} the paced loop, or (tests, benchmarks) drive it with {@link #step()}.
 */
public final class SimRuntime implements AutoCloseable {
    static final Logger LOG = LoggerFactory.getLogger(SimRuntime.class);
    private static final int WORKER_STACK_BYTES = 16 << 20;

    final SimConfig config;
    final Router router;
    final Shard[] shards;
    private final ConcurrentHashMap<String, Integer> shardOfVm = new ConcurrentHashMap<>();
    private volatile PacketSink sink;
    private volatile Consumer<FsBatch> fsSink = b -> { };
    private volatile BiConsumer<String, String> logListener;

    private volatile boolean running;
    private volatile boolean stopping;
    private Thread driver;
    private Worker[] workers;
    private final AtomicInteger pending = new AtomicInteger();
    private volatile long tick;
    private long startedNanos = System.nanoTime();
    private long lastLogNanos = System.nanoTime();

    private volatile long lateTicks;
    private volatile long overruns;
    private volatile long lastTickNanos;
    private volatile long maxTickNanos;
    private volatile long pacedTicks;
    private volatile long pacedWorkNanos;
    private volatile long fsBytesOut;
    private volatile long fsBatches;
    private volatile long fsThrottled;
    private volatile long coalescedWrites;

    public SimRuntime(SimConfig config, Router router) {
        this.config = config;
        this.router = router;
        Strings.install(config.maxStringBytes());
        shards = new Shard[config.shards()];
        for (int i = 0; i < shards.length; i++) {
            shards[i] = new Shard(i, this);
        }
    }

    /** Where packets for other nodes go; without one they are dropped as NO_ROUTE. */
    public void setPacketSink(PacketSink sink) {
        this.sink = sink;
    }

    /** Receives batches of file changes on the tick thread; it must only queue them, not block. */
    public void setFsSink(Consumer<FsBatch> sink) {
        this.fsSink = sink;
    }

    /** Receives every log line (vm id, line) on a shard thread, for {@code vm logs --follow}. */
    public void setLogListener(BiConsumer<String, String> listener) {
        this.logListener = listener;
    }

    public Router router() {
        return router;
    }

    public SimConfig config() {
        return config;
    }

    // ------------------------------------------------------------------ VMs

    /**
     * Adds (or replaces) a VM; it starts in the next tick. Throws IllegalArgumentException naming the
     * bad field when the spec is invalid (a bad address, a program that does not compile, a bad rule).
     */
    public void addVm(SimVmSpec spec) {
        OptionalInt ip = Ipv4.parse(spec.ip());
        if (ip.isEmpty()) {
            throw new IllegalArgumentException("ip '" + spec.ip() + "' of VM " + spec.id()
                    + " is not an IPv4 address; write it as a.b.c.d");
        }
        CompiledProgram[] programs = new CompiledProgram[spec.programs().size()];
        for (int i = 0; i < programs.length; i++) {
            SimProgram p = spec.programs().get(i);
            programs[i] = ProgramCache.compile(p.name(), p.source());
        }
        router.setFirewall(ip.getAsInt(), spec.firewall());
        int s = shardOf(ip.getAsInt());
        Shard shard = shards[s];
        LuaTable env = new LuaTable();
        env.setmetatable(shard.envMeta);
        Vm vm = new Vm(spec, ip.getAsInt(), programs, env);
        Integer old = shardOfVm.put(spec.id(), s);
        if (old != null && old != s) {
            shards[old].control.add(() -> shards[old].remove(spec.id()));
        }
        shard.control.add(() -> shard.add(vm));
    }

    /** Stops and forgets a VM (its pending file changes are still handed out). */
    public void removeVm(String id) {
        Integer s = shardOfVm.remove(id);
        if (s != null) {
            shards[s].control.add(() -> {
                Vm vm = shards[s].byId.get(id);
                shards[s].remove(id);
                if (vm != null && (shardOfVm.get(id) == null)) {
                    router.removeFirewall(vm.ip);
                }
            });
        }
    }

    /** The VM's status, answered by its shard at the next tick (at once when the loop is not running). */
    public CompletableFuture<Optional<SimVmStatus>> status(String id) {
        return onShardOf(id, (shard, vm) -> shard.status(vm));
    }

    /** The VM's kept log lines, oldest first. */
    public CompletableFuture<Optional<List<String>>> logs(String id) {
        return onShardOf(id, (shard, vm) -> vm.log == null ? List.<String>of() : List.copyOf(vm.log));
    }

    /**
     * The kept log lines numbered after {@code after} (lines are numbered from 1 as they are logged;
     * older ones than the kept window are gone). {@code next} is the number to pass next time.
     */
    public CompletableFuture<Optional<LogPage>> logsSince(String id, long after) {
        return onShardOf(id, (shard, vm) -> {
            if (vm.log == null) {
                return new LogPage(List.of(), vm.logCount);
            }
            long first = vm.logCount - vm.log.size() + 1;
            List<String> out = new ArrayList<>();
            long n = first;
            for (String line : vm.log) {
                if (n > after) {
                    out.add(line);
                }
                n++;
            }
            return new LogPage(List.copyOf(out), vm.logCount);
        });
    }

    /** A page of a VM's log: the lines asked for and the count of lines it has logged so far. */
    public record LogPage(List<String> lines, long next) {
    }

    /** Every VM's status, each answered by its shard (one round for all, instead of one per VM). */
    public CompletableFuture<Map<String, SimVmStatus>> statusAll() {
        List<CompletableFuture<List<SimVmStatus>>> parts = new ArrayList<>();
        for (Shard shard : shards) {
            CompletableFuture<List<SimVmStatus>> f = new CompletableFuture<>();
            parts.add(f);
            onShard(shard, () -> {
                List<SimVmStatus> out = new ArrayList<>(shard.byId.size());
                for (Vm vm : shard.byId.values()) {
                    out.add(shard.status(vm));
                }
                f.complete(out);
            });
        }
        return CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new)).thenApply(x -> {
            Map<String, SimVmStatus> all = new TreeMap<>();
            for (CompletableFuture<List<SimVmStatus>> f : parts) {
                for (SimVmStatus s : f.join()) {
                    all.put(s.id(), s);
                }
            }
            return all;
        });
    }

    private interface ShardQuery<T> {
        T answer(Shard shard, Vm vm);
    }

    private <T> CompletableFuture<Optional<T>> onShardOf(String id, ShardQuery<T> q) {
        Integer s = shardOfVm.get(id);
        CompletableFuture<Optional<T>> f = new CompletableFuture<>();
        if (s == null) {
            f.complete(Optional.empty());
            return f;
        }
        Shard shard = shards[s];
        onShard(shard, () -> {
            Vm vm = shard.byId.get(id);
            f.complete(vm == null ? Optional.empty() : Optional.of(q.answer(shard, vm)));
        });
        return f;
    }

    /** Runs r on the shard's thread at its next tick, or here at once when the loop is not running. */
    private void onShard(Shard shard, Runnable r) {
        if (running) {
            shard.control.add(r);
        } else {
            synchronized (this) {
                shard.control.add(r);
                // Not ticking: drain the queue here (same order the shard would use).
                Runnable c;
                while ((c = shard.control.poll()) != null) {
                    c.run();
                }
            }
        }
    }

    int shardOf(int ip) {
        int h = ip * 0x9E3779B9;
        return Math.floorMod(h ^ (h >>> 16), shards.length);
    }

    // ------------------------------------------------------------------ packets

    /** A packet from another node: routed here (firewall, NAT) and delivered in the next tick. */
    public void deliver(Packet packet) {
        RouteDecision d = router.route(packet);
        if (d instanceof RouteDecision.Deliver del) {
            shards[shardOf(del.packet().dstIp())].remoteInbox.add(del.packet());
        } else if (d instanceof RouteDecision.CrossNode cn) {
            // The table says another node hosts it now (a VM moved): forward rather than lose it.
            sendCrossNode(cn.node(), cn.packet());
        }
    }

    boolean sendCrossNode(String node, Packet p) {
        PacketSink s = sink;
        if (s == null) {
            router.countDrop(DropReason.NO_ROUTE);
            return false;
        }
        return s.send(node, p);
    }

    void logLine(String vmId, String line) {
        BiConsumer<String, String> l = logListener;
        if (l != null) {
            l.accept(vmId, line);
        }
    }

    // ------------------------------------------------------------------ ticking

    /** Runs one tick on the caller's thread (only while the paced loop is not running). */
    public synchronized void step() {
        if (running) {
            throw new IllegalStateException("the runtime is ticking on its own; step() is for a stopped runtime");
        }
        long t = tick + 1;
        long t0 = System.nanoTime();
        for (Shard s : shards) {
            s.runTick(t);
        }
        endTick(t, System.nanoTime() - t0);
    }

    /** Runs {@code n} ticks with {@link #step()}. */
    public void step(int n) {
        for (int i = 0; i < n; i++) {
            step();
        }
    }

    private void endTick(long t, long workNanos) {
        PacketSink s = sink;
        if (s != null) {
            s.flush(t);
        }
        if (t % config.fsFlushEveryTicks() == 0) {
            flushFiles();
        }
        lastTickNanos = workNanos;
        tick = t;
        long now = System.nanoTime();
        if (now - lastLogNanos >= 5_000_000_000L) {
            lastLogNanos = now;
            SimStats st = stats();
            LOG.info("tick {} | {} VMs | {} runnable | {} packets | uptime {}s", t, st.vms(), st.runnable(),
                    st.packetsSent(), st.uptimeMillis() / 1000);
        }
    }

    /** Hands out coalesced file changes, at most fsMaxBytesPerFlush in all; the rest waits (throttled). */
    private void flushFiles() {
        long budget = config.fsMaxBytesPerFlush();
        Consumer<FsBatch> out = fsSink;
        for (Shard shard : shards) {
            ArrayList<Vm> keep = new ArrayList<>();
            for (Vm vm : shard.fsDirty) {
                if (vm.fs == null || !vm.fs.hasChanges()) {
                    vm.fsDirtyQueued = false;
                    continue;
                }
                if (budget <= 0) {
                    fsThrottled++;
                    keep.add(vm);
                    continue;
                }
                coalescedWrites += vm.fs.coalescedWrites;
                vm.fs.coalescedWrites = 0;
                List<FileChange> changes = vm.fs.drain(Math.min(budget, config.fsMaxBatchBytes()));
                long bytes = 0;
                for (FileChange c : changes) {
                    bytes += c.getData().size() + c.getPath().length();
                }
                budget -= bytes;
                fsBytesOut += bytes;
                fsBatches++;
                out.accept(new FsBatch(vm.id(), List.copyOf(changes), bytes));
                if (vm.fs.hasChanges()) {
                    fsThrottled++;
                    keep.add(vm);
                } else {
                    vm.fsDirtyQueued = false;
                }
            }
            shard.fsDirty.clear();
            shard.fsDirty.addAll(keep);
        }
    }

    /** Starts the paced loop: shard 0 on the driver thread, the others on worker threads. */
    public synchronized void start() {
        if (running) {
            return;
        }
        running = true;
        startedNanos = System.nanoTime();
        workers = new Worker[shards.length - 1];
        for (int i = 1; i < shards.length; i++) {
            workers[i - 1] = new Worker(shards[i]);
            Thread t = new Thread(null, workers[i - 1], "sim-shard-" + i, WORKER_STACK_BYTES);
            t.setDaemon(true);
            workers[i - 1].thread = t;
            t.start();
        }
        driver = new Thread(null, this::loop, "sim-shard-0", WORKER_STACK_BYTES);
        driver.setDaemon(true);
        driver.start();
        LOG.info("simulated VM runtime started: {} shards at {} ticks per second", shards.length,
                config.ticksPerSecond());
    }

    /** One shard's worker: waits for a tick number, runs it, reports done. */
    private final class Worker implements Runnable {
        final Shard shard;
        Thread thread;
        volatile long requested;
        long done;

        Worker(Shard shard) {
            this.shard = shard;
        }

        @Override
        public void run() {
            while (!stopping) {
                long t = requested;
                if (t == done) {
                    LockSupport.park(this);
                    continue;
                }
                try {
                    shard.runTick(t);
                } catch (Throwable e) {
                    LOG.error("shard {} failed in tick {}; its VMs miss this tick", shard.index, t, e);
                }
                done = t;
                if (pending.decrementAndGet() == 0) {
                    LockSupport.unpark(driver);
                }
            }
        }
    }

    private void loop() {
        long period = config.tickNanos();
        long next = System.nanoTime();
        while (!stopping) {
            long now = System.nanoTime();
            while (now < next && !stopping) {
                LockSupport.parkNanos(next - now);
                now = System.nanoTime();
            }
            if (stopping) {
                break;
            }
            if (now - next > period / 2) {
                lateTicks++;
            }
            long t = tick + 1;
            pending.set(workers.length + 1);
            for (Worker w : workers) {
                w.requested = t;
                LockSupport.unpark(w.thread);
            }
            try {
                shards[0].runTick(t);
            } catch (Throwable e) {
                LOG.error("shard 0 failed in tick {}; its VMs miss this tick", t, e);
            }
            if (pending.decrementAndGet() != 0) {
                while (pending.get() != 0) {
                    LockSupport.park(this);
                }
            }
            long work = System.nanoTime() - now;
            if (work > period) {
                overruns++;
            }
            pacedTicks++;
            pacedWorkNanos += work;
            if (work > maxTickNanos) {
                maxTickNanos = work;
            }
            endTick(t, work);
            next += period;
            if (System.nanoTime() - next > 5 * period) {
                // Far behind (a long pause): start the schedule again from now instead of bursting.
                next = System.nanoTime();
            }
        }
    }

    /** Current tick number. */
    public long tick() {
        return tick;
    }

    public boolean isRunning() {
        return running;
    }

    public SimStats stats() {
        long calls = 0;
        long sent = 0;
        int vms = 0;
        int runnable = 0;
        long heapChecks = 0;
        long heapQuotaStops = 0;
        long callAllocStops = 0;
        for (Shard s : shards) {
            heapChecks += s.heapChecks;
            heapQuotaStops += s.heapQuotaStops;
            callAllocStops += s.meter.allocationStops;
            calls += s.publishedHandlerCalls;
            sent += s.publishedPacketsSent;
            vms += s.publishedVms;
            runnable += s.publishedRunnable;
        }
        Router.Stats r = router.stats();
        Map<String, Long> drops = new TreeMap<>();
        r.drops().forEach((k, v) -> drops.put(k.name(), v));
        return new SimStats(tick, vms, runnable, calls, sent, r.delivered(), r.crossNode(), drops, lateTicks,
                overruns, lastTickNanos, maxTickNanos, pacedTicks, pacedWorkNanos, fsBytesOut, fsBatches, coalescedWrites, fsThrottled,
                heapChecks, heapQuotaStops, callAllocStops,
                (System.nanoTime() - startedNanos) / 1_000_000);
    }

    /** Stops the loop and its threads. VMs are kept (a later start() resumes them). */
    @Override
    public void close() {
        Thread d;
        synchronized (this) {
            if (!running) {
                return;
            }
            stopping = true;
            d = driver;
        }
        try {
            d.join(5000);
            for (Worker w : workers) {
                LockSupport.unpark(w.thread);
                w.thread.join(5000);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (this) {
            running = false;
            stopping = false;
        }
    }
}
