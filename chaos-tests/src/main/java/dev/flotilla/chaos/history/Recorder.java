package dev.flotilla.chaos.history;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/** Collects ops from many client threads while a run is going on; times are relative to its start. */
public final class Recorder {
    private final long startNanos;
    private final AtomicLong nextId = new AtomicLong();
    private final List<Op> ops = new ArrayList<>();

    public Recorder(long startNanos) {
        this.startNanos = startNanos;
    }

    /** Nanoseconds since the run began, on the monotonic clock. */
    public long now() {
        return System.nanoTime() - startNanos;
    }

    /** The monotonic instant the run began at, for converting other timestamps. */
    public long startNanos() {
        return startNanos;
    }

    /** Records one finished op and returns it with its id. */
    public Op record(int client, String node, String workload, String key, OpKind kind, long invokeNanos,
                     long completeNanos, Outcome outcome, VmState read, int status, String error) {
        Op op = new Op(nextId.getAndIncrement(), client, node, workload, key, kind, invokeNanos,
                completeNanos, outcome, read, status, error);
        synchronized (ops) {
            ops.add(op);
        }
        return op;
    }

    /** A snapshot of everything recorded so far. */
    public History history() {
        synchronized (ops) {
            return new History(new ArrayList<>(ops));
        }
    }
}
