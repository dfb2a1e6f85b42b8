package dev.flotilla.node.sim;

import dev.flotilla.node.net.DropReason;
import dev.flotilla.node.net.IpMap;
import dev.flotilla.node.net.Ipv4;
import dev.flotilla.node.net.Packet;
import dev.flotilla.node.net.RouteDecision;
import dev.flotilla.node.net.Router;
import org.luaj.vm2.Globals;
import org.luaj.vm2.LuaError;
import org.luaj.vm2.LuaString;
import org.luaj.vm2.LuaTable;
import org.luaj.vm2.LuaValue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * One worker's share of the VMs: its own LuaJ Globals and instruction meter, a run queue (only VMs with
 * something to do are touched in a tick), a timer wheel and the VMs' mailboxes. Everything here is
 * confined to the thread running the shard's tick; other threads talk to it through {@link #control}
 * and {@link #remoteInbox}, and packets between shards move through per-tick lanes that only change
 * hands across the tick barrier.
 */
final class Shard {
    static final String[] DROP_NAMES = {"NO_ROUTE", "TTL", "FIREWALL", "QUEUE_FULL", "NO_LISTENER"};
    static final int DROP_NO_LISTENER = 4;
    private static final LuaString FROM = LuaValue.valueOf("from");
    private static final LuaString FROM_PORT = LuaValue.valueOf("from_port");
    private static final LuaString PORT = LuaValue.valueOf("port");
    private static final LuaString DATA = LuaValue.valueOf("data");
    private static final ThreadLocal<Shard> ACTIVE = new ThreadLocal<>();
    /** Lua values the periodic heap check may look at per tick. */
    static final int HEAP_VISITS_PER_TICK = 10_000;
    /** A VM that runs has its heap checked at least this often (10 s), and sooner if it allocates a lot. */
    static final int HEAP_CHECK_EVERY_TICKS = 600;
    /** One handler call in this many has what it allocates counted (two reads of the counter, 11-30 ns each). */
    static final int ALLOC_SAMPLE_EVERY = 32;

    final int index;
    final SimRuntime rt;
    final SimConfig config;
    final Router router;
    final Globals globals;
    final InstructionMeter meter;
    final FrozenTable envMeta;
    final TimerWheel wheel = new TimerWheel(1024);
    final ConcurrentLinkedQueue<Runnable> control = new ConcurrentLinkedQueue<>();
    final ConcurrentLinkedQueue<Packet> remoteInbox = new ConcurrentLinkedQueue<>();
    /** lanes[tick & 1][destination shard]: packets this shard routed to that shard in that tick. */
    final ArrayList<Packet>[][] lanes;

    final IpMap<Vm> byIp = new IpMap<>();
    private IpMap<LuaString> ipStrings = new IpMap<>(1024);
    final Map<String, Vm> byId = new HashMap<>();
    private ArrayList<Vm> runNow = new ArrayList<>();
    private ArrayList<Vm> runNext = new ArrayList<>();
    private final ArrayList<Packet> sent = new ArrayList<>();
    private final ArrayList<Vm> sentBy = new ArrayList<>();
    final ArrayList<Vm> fsDirty = new ArrayList<>();
    private final LuaHeap heap = new LuaHeap();
    private final ArrayList<Vm> heapUrgent = new ArrayList<>();
    /** Every VM of the shard, for the periodic heap check's round (removed ones are dropped as it meets them). */
    private final ArrayList<Vm> all = new ArrayList<>();
    private int heapCursor;
    private int sampleSeed = (int) System.nanoTime() | 1;

    long tick;
    private boolean inTick;
    /** The thread running this shard's tick, null between ticks: what the memory watch samples. */
    volatile Thread runner;
    long watchedCall; // the memory watch's own bookkeeping, touched only by its thread
    long watchedFrom;
    Vm current;
    LuaProcess currentProc;

    // Written by the shard's thread, read by stats() from anywhere: plain longs, published per tick.
    private long handlerCalls;
    private long packetsSent;
    volatile long publishedHandlerCalls;
    volatile long publishedPacketsSent;
    volatile int publishedVms;
    volatile int publishedRunnable;
    volatile long heapChecks;
    volatile long heapQuotaStops;

    @SuppressWarnings("unchecked")
    Shard(int index, SimRuntime rt) {
        this.index = index;
        this.rt = rt;
        this.config = rt.config;
        this.router = rt.router;
        this.globals = new Globals();
        this.meter = new InstructionMeter(config.maxCallDepth(), config.maxStringBytes());
        this.envMeta = LuaApi.envMetatable(this, globals);
        // Installed after the base library is loaded: every closure made with these Globals reports
        // its instructions, calls and returns here.
        globals.debuglib = meter;
        meter.globals = globals;
        int n = config.shards();
        lanes = new ArrayList[2][n];
        for (int p = 0; p < 2; p++) {
            for (int d = 0; d < n; d++) {
                lanes[p][d] = new ArrayList<>();
            }
        }
        MemoryWatch.watch(this);
    }

    /** Charges string-building bytes to the handler running on this thread (none outside handlers). */
    static void charge(long bytes, String what) {
        Shard s = ACTIVE.get();
        if (s != null && s.currentProc != null) {
            s.meter.charge(bytes, what);
        }
    }

    /** The meter of the handler running on this thread, for compiled Lua code (see JvmCompiler). */
    static InstructionMeter activeMeter() {
        Shard s = ACTIVE.get();
        if (s == null) {
            throw new IllegalStateException("compiled Lua code ran outside a shard's tick");
        }
        return s.meter;
    }

    /** Makes a violation raised in Java code sticky for the running handler (see InstructionMeter). */
    static SandboxViolation sticky(SandboxViolation v) {
        Shard s = ACTIVE.get();
        return s == null ? v : s.meter.violate(v);
    }

    /** The traceback of the handler running on this thread, for violations raised in Java code. */
    static String tracebackHere() {
        Shard s = ACTIVE.get();
        return s == null ? "" : s.meter.traceback(0);
    }

    // ------------------------------------------------------------------ the tick

    void runTick(long t) {
        ACTIVE.set(this);
        runner = Thread.currentThread();
        inTick = true;
        tick = t;
        ArrayList<Vm> tmp = runNow;
        runNow = runNext;
        runNext = tmp;
        runNext.clear();
        Runnable r;
        while ((r = control.poll()) != null) {
            r.run();
        }
        int parity = (int) ((t - 1) & 1);
        for (Shard s : rt.shards) {
            ArrayList<Packet> lane = s.lanes[parity][index];
            for (int i = 0; i < lane.size(); i++) {
                deliverLocal(lane.get(i));
            }
            lane.clear();
        }
        Packet p;
        while ((p = remoteInbox.poll()) != null) {
            deliverLocal(p);
        }
        wheel.advance(t, this::fire);
        ArrayList<Vm> queue = runNow;
        for (int i = 0, n = queue.size(); i < n; i++) {
            runVm(queue.get(i));
        }
        publishedRunnable = runNow.size();
        routeSent(t);
        runner = null;
        checkHeaps();
        publishedHandlerCalls = handlerCalls;
        publishedPacketsSent = packetsSent;
        publishedVms = byId.size();
        inTick = false;
        ACTIVE.remove();
    }

    private void enqueueNow(Vm vm) {
        if (vm.queuedFor != tick) {
            vm.queuedFor = tick;
            runNow.add(vm);
        }
    }

    void scheduleNext(Vm vm) {
        if (vm.queuedFor != tick + 1) {
            vm.queuedFor = tick + 1;
            runNext.add(vm);
        }
    }

    private void deliverLocal(Packet p) {
        Vm vm = byIp.get(p.dstIp());
        if (vm == null || vm.stopped) {
            router.countDrop(DropReason.NO_ROUTE);
            return;
        }
        if (vm.mailbox == null) {
            vm.mailbox = new java.util.ArrayDeque<>(4);
        }
        if (vm.mailbox.size() >= config.mailboxCapacity()) {
            vm.countDrop(DropReason.QUEUE_FULL.ordinal());
            router.countDrop(DropReason.QUEUE_FULL);
            return;
        }
        vm.mailbox.add(p);
        enqueueNow(vm);
    }

    private void fire(TimerWheel.Entry e) {
        LuaProcess p = e.process();
        Vm vm = p.vm;
        if (e.timerId() != null) {
            vm.timers--;
        }
        if (!p.alive() || vm.stopped) {
            return;
        }
        if (e.timerId() == null) {
            if (p.state == LuaProcess.SLEEPING && p.wakeAt == e.due()) {
                setRunning(p);
                enqueueNow(vm);
            }
            return;
        }
        if (p.onTimer != null) {
            current = vm;
            call(p, p.onTimer, e.timerId());
            current = null;
            markRan(vm);
            if (vm.hasRunnable()) {
                enqueueNow(vm);
            }
        }
    }

    private void markRan(Vm vm) {
        if (vm.lastRunTick != tick) {
            vm.lastRunTick = tick;
            vm.ticksRun++;
        }
    }

    private void runVm(Vm vm) {
        if (vm.stopped || vm.removed) {
            return;
        }
        current = vm;
        boolean ran = false;
        if (vm.pendingStart) {
            vm.pendingStart = false;
            for (int i = 0; i < vm.procs.length && !vm.stopped; i++) {
                LuaProcess p = vm.procs[i];
                if (p != null && p.state == LuaProcess.STARTING) {
                    start(p);
                    ran = true;
                }
            }
        }
        if (vm.mailbox != null) {
            Packet pk;
            while (!vm.stopped && (pk = vm.mailbox.poll()) != null) {
                vm.packetsIn++;
                LuaProcess owner = vm.listener(pk.dstPort());
                if (owner == null || owner.onPacket == null) {
                    vm.countDrop(DROP_NO_LISTENER);
                    continue;
                }
                call(owner, owner.onPacket, packetTable(pk));
                ran = true;
            }
            if (vm.mailbox != null && vm.mailbox.isEmpty()) {
                vm.mailbox = null; // an idle VM keeps no buffer
            }
        }
        LuaProcess[] procs = vm.procs;
        for (int i = 0; i < procs.length && !vm.stopped; i++) {
            LuaProcess p = procs[i];
            if (p != null && p.state == LuaProcess.RUNNING) {
                call(p, p.onTick, null);
                ran = true;
            }
        }
        if (ran) {
            markRan(vm);
        }
        current = null;
        if (!vm.stopped && vm.hasRunnable()) {
            scheduleNext(vm);
        }
    }

    private LuaString ipString(int ip) {
        LuaString s = ipStrings.get(ip);
        if (s == null) {
            if (ipStrings.size() >= 65_536) {
                ipStrings = new IpMap<>(1024); // a cache, not a registry: start over rather than grow
            }
            s = LuaValue.valueOf(Ipv4.format(ip));
            ipStrings.put(ip, s);
        }
        return s;
    }

    private LuaTable packetTable(Packet p) {
        LuaTable t = new LuaTable(0, 4);
        t.rawset(FROM, ipString(p.srcIp()));
        t.rawset(FROM_PORT, LuaValue.valueOf(p.srcPort()));
        t.rawset(PORT, LuaValue.valueOf(p.dstPort()));
        t.rawset(DATA, LuaString.valueUsing(p.payload()));
        return t;
    }

    private void setRunning(LuaProcess p) {
        p.state = p.onTick != null ? LuaProcess.RUNNING : LuaProcess.WAITING;
    }

    private void start(LuaProcess p) {
        Vm vm = p.vm;
        meter.begin(config.instructionBudget());
        currentProc = p;
        handlerCalls++;
        vm.handlerCalls++;
        long allocatedBefore = MemoryWatch.allocatedHere(); // a start is rare, and builds the most
        try {
            LuaValue r = p.program.instantiate(vm.env, globals, meter, config.compileToJvm()).call();
            LuaTable ctx;
            if (r.istable()) {
                ctx = (LuaTable) r;
            } else {
                // A program may also define its handlers as globals instead of returning a table.
                ctx = new LuaTable();
                for (String h : new String[] {"on_start", "on_tick", "on_packet", "on_timer"}) {
                    LuaValue f = vm.env.rawget(h);
                    if (f.isfunction()) {
                        ctx.rawset(h, f);
                    }
                }
            }
            p.ctx = ctx;
            p.onTick = functionOrNull(ctx.get("on_tick"));
            p.onPacket = functionOrNull(ctx.get("on_packet"));
            p.onTimer = functionOrNull(ctx.get("on_timer"));
            setRunning(p);
            LuaValue onStart = functionOrNull(ctx.get("on_start"));
            if (onStart != null) {
                meter.begin(config.instructionBudget());
                applyWake(p, onStart.call(ctx));
            }
        } catch (Throwable e) {
            handleFailure(p, e);
        } finally {
            currentProc = null;
            endCall(p.vm, allocatedBefore, 1);
        }
    }

    private static LuaValue functionOrNull(LuaValue v) {
        return v.isfunction() ? v : null;
    }

    private void call(LuaProcess p, LuaValue fn, LuaValue arg) {
        meter.begin(config.instructionBudget());
        currentProc = p;
        handlerCalls++;
        p.vm.handlerCalls++;
        int x = sampleSeed; // xorshift: which calls are sampled cannot be foreseen by the script
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        sampleSeed = x;
        long allocatedBefore = (x & (ALLOC_SAMPLE_EVERY - 1)) == 0 ? MemoryWatch.allocatedHere() : -1;
        try {
            LuaValue r = arg == null ? fn.call(p.ctx) : fn.call(p.ctx, arg);
            if (r != LuaValue.NIL && p.alive()) {
                applyWake(p, r);
            }
        } catch (Throwable e) {
            handleFailure(p, e);
        } finally {
            currentProc = null;
            endCall(p.vm, allocatedBefore, ALLOC_SAMPLE_EVERY);
        }
    }

    /**
     * After a handler call: counts what a sampled call allocated ({@code before} is -1 for one not
     * sampled), scaled by how rarely calls are sampled, and has the VM's heap measured at the end of
     * the tick once it allocated more than an eighth of the quota or its own last measured size since
     * its last check (so measuring costs in proportion to allocating), or when the memory watch saw
     * this call allocate a lot.
     */
    private void endCall(Vm vm, long before, int scale) {
        if (before >= 0) {
            long kib = vm.allocatedKib + (((MemoryWatch.allocatedHere() - before) * scale) >> 10);
            vm.allocatedKib = (int) Math.min(kib, Integer.MAX_VALUE);
            if (kib > Math.max(config.heapQuotaBytes() / 8, vm.heapBytes) >> 10) {
                vm.allocatedKib = 0;
                heapUrgent.add(vm);
            }
        }
        if (meter.suspected()) {
            heapUrgent.add(vm);
        }
    }

    private void applyWake(LuaProcess p, LuaValue r) {
        if (!(r instanceof Wake w)) {
            return;
        }
        switch (w.kind) {
            case Wake.SLEEP -> {
                p.state = LuaProcess.SLEEPING;
                p.wakeAt = tick + w.n;
                wheel.add(new TimerWheel.Entry(p, p.wakeAt, null));
            }
            case Wake.WAIT_PACKET -> p.state = LuaProcess.WAITING;
            default -> exit(p, (int) w.n);
        }
    }

    private void exit(LuaProcess p, int code) {
        p.state = LuaProcess.EXITED;
        p.exitCode = code;
        log(p.vm, "[sim] pid " + p.pid + " (" + p.program.name() + ") exited with code " + code);
    }

    private void handleFailure(LuaProcess p, Throwable e) {
        Vm vm = p.vm;
        if (e instanceof ProcessExit x) {
            exit(p, x.code);
        } else if (e instanceof SandboxViolation v) {
            stop(vm, p, v.getMessage(), v.traceback());
        } else if (e instanceof StackOverflowError) {
            stop(vm, p, "Java stack overflow (too deep recursion)", "");
        } else if (e instanceof LuaError le) {
            p.state = LuaProcess.FAILED;
            p.lastError = le.getMessage();
            log(vm, "[sim] pid " + p.pid + " (" + p.program.name() + ") failed: " + firstLine(le.getMessage()));
        } else if (e instanceof OutOfMemoryError oom) {
            stop(vm, p, "out of memory while running this VM's handler", "");
        } else if (e instanceof Error err) {
            throw err;
        } else {
            p.state = LuaProcess.FAILED;
            p.lastError = "internal error in the runtime: " + e;
            SimRuntime.LOG.warn("VM {} pid {}: internal error in a handler", vm.id(), p.pid, e);
        }
    }

    private static String firstLine(String s) {
        int i = s == null ? -1 : s.indexOf('\n');
        return i < 0 ? String.valueOf(s) : s.substring(0, i);
    }

    /**
     * Stops a whole VM for a sandbox violation; its other processes are killed, other VMs go on. The
     * offender is the process that broke the rule, or null when the VM as a whole did (its heap).
     */
    private void stop(Vm vm, LuaProcess offender, String reason, String traceback) {
        vm.stopped = true;
        vm.stopReason = offender == null ? reason
                : reason + " (pid " + offender.pid + ", program " + offender.program.name() + ")";
        if (offender != null) {
            offender.lastError = reason + (traceback == null || traceback.isEmpty() ? "" : "\n" + traceback);
        }
        for (LuaProcess p : vm.procs) {
            if (p != null) {
                if (p.alive()) {
                    p.state = LuaProcess.KILLED;
                    if (offender == null) {
                        p.lastError = reason;
                    }
                }
            }
        }
        dropLuaState(vm); // everything the VM's Lua code built (it may be what exhausted the heap)
        log(vm, "[sim] VM stopped by the sandbox: " + vm.stopReason);
        SimRuntime.LOG.info("simulated VM {} stopped by the sandbox: {}", vm.id(), vm.stopReason);
    }

    /**
     * Measures the heap of the VMs that allocated a lot (see {@link #endCall}), then goes on with the
     * round over all the shard's VMs, so many per tick that each comes up every
     * {@link #HEAP_CHECK_EVERY_TICKS} (those checked more recently or not run since are passed over),
     * as far as {@link #HEAP_VISITS_PER_TICK} goes; stops those over quota.
     */
    private void checkHeaps() {
        for (int i = 0; i < heapUrgent.size(); i++) {
            checkHeap(heapUrgent.get(i)); // rarely one twice (two reasons in one call): cheap, and simpler
        }
        heapUrgent.clear();
        int n = all.size() / HEAP_CHECK_EVERY_TICKS + 1;
        long visits = 0;
        for (int i = 0; i < n && !all.isEmpty() && visits < HEAP_VISITS_PER_TICK; i++) {
            if (heapCursor >= all.size()) {
                heapCursor = 0;
            }
            Vm vm = all.get(heapCursor);
            if (vm.removed) {
                Vm last = all.remove(all.size() - 1);
                if (heapCursor < all.size()) {
                    all.set(heapCursor, last);
                }
                continue;
            }
            heapCursor++;
            if ((int) vm.lastRunTick - vm.heapCheckedTick > 0 && (int) tick - vm.heapCheckedTick >= HEAP_CHECK_EVERY_TICKS) {
                visits += checkHeap(vm);
            }
        }
    }

    private long checkHeap(Vm vm) {
        if (vm.stopped || vm.env == null) {
            return 1;
        }
        long quota = config.heapQuotaBytes();
        long bytes;
        try {
            bytes = heap.measure(vm, quota);
        } catch (RuntimeException e) { // a value LuaHeap cannot read: leave the VM be rather than fail the tick
            SimRuntime.LOG.warn("could not measure the heap of VM {}; it goes unchecked until its next check", vm.id(), e);
            vm.heapCheckedTick = (int) tick;
            return 1;
        }
        vm.heapBytes = (int) Math.min(bytes, Integer.MAX_VALUE);
        vm.heapCheckedTick = (int) tick;
        vm.allocatedKib = 0;
        heapChecks++;
        if (bytes > quota) {
            heapQuotaStops++;
            stop(vm, null, "memory quota exceeded: its Lua data holds more than " + quota
                    + " bytes (lua.heap_quota_bytes); keep less in tables and globals, or raise the quota", "");
        }
        return heap.visits + 1;
    }

    private static void dropLuaState(Vm vm) {
        for (LuaProcess p : vm.procs) {
            if (p != null) {
                p.ctx = null;
                p.onTick = null;
                p.onPacket = null;
                p.onTimer = null;
            }
        }
        vm.env = null;
        vm.mailbox = null;
    }

    void log(Vm vm, String line) {
        vm.log(line, config.logLines());
        rt.logLine(vm.id(), line);
    }

    void send(Vm vm, Packet p) {
        vm.packetsOut++;
        sent.add(p);
        sentBy.add(vm);
    }

    private void routeSent(long t) {
        int parity = (int) (t & 1);
        for (int i = 0; i < sent.size(); i++) {
            Packet p = sent.get(i);
            Vm src = sentBy.get(i);
            RouteDecision d = router.route(p);
            if (d instanceof RouteDecision.Deliver del) {
                lanes[parity][rt.shardOf(del.packet().dstIp())].add(del.packet());
            } else if (d instanceof RouteDecision.CrossNode cn) {
                if (!rt.sendCrossNode(cn.node(), cn.packet())) {
                    src.countDrop(DropReason.QUEUE_FULL.ordinal());
                }
            } else if (d instanceof RouteDecision.Drop drop) {
                src.countDrop(drop.reason().ordinal());
            }
        }
        packetsSent += sent.size();
        sent.clear();
        sentBy.clear();
    }

    // ------------------------------------------------------------------ VMs and files

    /** Adds a VM (on the shard's thread). */
    void add(Vm vm) {
        Vm old = byId.get(vm.id());
        if (old != null) {
            remove(old.id());
        }
        byId.put(vm.id(), vm);
        byIp.put(vm.ip, vm);
        if (!vm.spec.files().isEmpty()) {
            fsOf(vm).seed(vm.spec.files());
        }
        vm.spawn(vm.programs[0]);
        vm.pendingStart = true;
        vm.heapCheckedTick = (int) tick; // first measured once it ran and allocated a lot, or in the round
        all.add(vm);
        if (inTick) {
            enqueueNow(vm);
        } else {
            scheduleNext(vm); // added between ticks (a status query drained the queue): run it in the next one
        }
    }

    void remove(String id) {
        Vm vm = byId.remove(id);
        if (vm == null) {
            return;
        }
        vm.removed = true;
        vm.stopped = true;
        if (vm.stopReason == null) {
            vm.stopReason = "removed";
        }
        dropLuaState(vm); // the heap check's round still holds the Vm until it comes by
        if (byIp.get(vm.ip) == vm) {
            byIp.remove(vm.ip);
        }
    }

    VmFs fsOf(Vm vm) {
        if (vm.fs == null) {
            long quota = vm.spec.fsQuotaBytes() > 0 ? vm.spec.fsQuotaBytes() : config.defaultFsQuotaBytes();
            vm.fs = new VmFs(quota);
        }
        return vm.fs;
    }

    void fsChanged(Vm vm) {
        if (!vm.fsDirtyQueued) {
            vm.fsDirtyQueued = true;
            fsDirty.add(vm);
        }
    }

    SimVmStatus status(Vm vm) {
        java.util.List<SimVmStatus.ProcessStatus> procs = new ArrayList<>();
        for (LuaProcess p : vm.procs) {
            if (p != null) {
                procs.add(new SimVmStatus.ProcessStatus(p.pid, p.program.name(), p.stateName(), p.exitCode,
                        p.lastError == null ? "" : p.lastError));
            }
        }
        Map<String, Long> drops = new java.util.TreeMap<>();
        if (vm.drops != null) {
            for (int i = 0; i < vm.drops.length; i++) {
                if (vm.drops[i] > 0) {
                    drops.put(DROP_NAMES[i], vm.drops[i]);
                }
            }
        }
        long quota = vm.spec.fsQuotaBytes() > 0 ? vm.spec.fsQuotaBytes() : config.defaultFsQuotaBytes();
        return new SimVmStatus(vm.id(), Ipv4.format(vm.ip), vm.spec.hostname(),
                vm.stopped ? "stopped" : "running", vm.stopReason == null ? "" : vm.stopReason, procs,
                vm.ticksRun, vm.handlerCalls, vm.packetsIn, vm.packetsOut, drops,
                vm.fs == null ? 0 : vm.fs.used(), quota, vm.heapBytes, config.heapQuotaBytes());
    }
}
