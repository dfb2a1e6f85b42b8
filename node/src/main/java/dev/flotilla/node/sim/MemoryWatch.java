package dev.flotilla.node.sim;

import java.lang.management.ManagementFactory;
import java.lang.ref.WeakReference;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.LockSupport;

/**
 * Watches, from its own thread, how much each shard's thread allocates within one handler call. A
 * single Lua instruction can allocate megabytes ({@code {s:byte(1, -1)}}, {@code s:upper()}), so
 * neither the instruction budget nor the string caps bound what a call allocates; reading the JVM's
 * per-thread allocation counter in every call would cost a third of a trivial call. So this thread
 * samples it every millisecond while a shard ticks: a call still running past
 * {@link SimConfig#maxCallAllocBytes()} is interrupted through its meter, and a long call that
 * allocated an eighth of that has its VM's heap measured when it ends. One watch serves every runtime
 * in the JVM.
 */
final class MemoryWatch {
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    private static final long BUSY_PERIOD_NANOS = 1_000_000;
    private static final long IDLE_PERIOD_NANOS = 10_000_000;
    private static final CopyOnWriteArrayList<WeakReference<Shard>> SHARDS = new CopyOnWriteArrayList<>();
    private static Thread thread;

    private MemoryWatch() {
    }

    /** Bytes the calling thread has allocated so far (about 11 ns a read), or -1 if the JVM cannot tell. */
    static long allocatedHere() {
        return THREADS.getCurrentThreadAllocatedBytes();
    }

    /** Starts watching a shard (and the watch's thread, the first time). */
    static synchronized void watch(Shard shard) {
        if (!THREADS.isThreadAllocatedMemorySupported()) {
            SimRuntime.LOG.warn("this JVM cannot count a thread's allocations: a Lua handler call's allocations "
                    + "are not limited (only its VM's heap quota is checked)");
            return;
        }
        if (!THREADS.isThreadAllocatedMemoryEnabled()) {
            THREADS.setThreadAllocatedMemoryEnabled(true);
        }
        SHARDS.add(new WeakReference<>(shard));
        if (thread == null) {
            thread = new Thread(MemoryWatch::run, "sim-memory-watch");
            thread.setDaemon(true);
            thread.start();
        }
    }

    private static void run() {
        while (true) {
            boolean busy = false;
            for (WeakReference<Shard> ref : SHARDS) {
                Shard s = ref.get();
                if (s == null) {
                    SHARDS.remove(ref); // its runtime was dropped
                } else {
                    busy |= check(s);
                }
            }
            LockSupport.parkNanos(busy ? BUSY_PERIOD_NANOS : IDLE_PERIOD_NANOS);
        }
    }

    /** One sample of a shard; true while it is ticking. */
    private static boolean check(Shard s) {
        Thread runner = s.runner;
        if (runner == null) {
            return false;
        }
        long call = s.meter.currentCall();
        long allocated = THREADS.getThreadAllocatedBytes(runner.getId());
        if (allocated < 0) {
            return true;
        }
        if (call != s.watchedCall) {
            // A new call began since the last sample: count from here (what it allocated before this
            // sample goes uncounted, at most a millisecond's worth).
            s.watchedCall = call;
            s.watchedFrom = allocated;
            return true;
        }
        long used = allocated - s.watchedFrom;
        long limit = s.config.maxCallAllocBytes();
        if (used > limit) {
            s.meter.interrupt(call, used, limit);
        } else if (used > limit / 8) {
            s.meter.suspect(call);
        }
        return true;
    }
}
