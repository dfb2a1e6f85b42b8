package dev.flotilla.node.backend.lua;

import dev.flotilla.node.sim.FsBatch;
import dev.flotilla.proto.Command;
import dev.flotilla.proto.CommandResult;
import dev.flotilla.proto.FileChange;
import dev.flotilla.proto.FsDelta;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;

/**
 * Turns the runtime's {@link FsBatch}es into {@code FsDelta} commands through the log, fenced by the
 * epoch the VM was started with. Per VM one delta is in flight at a time, so deltas apply in the order
 * they were made; batches that arrive meanwhile are merged (the newer change of a path wins), so a
 * slow log costs at most one pending batch per VM, never a queue. A delta the log could not take (no
 * leader, timeout) is merged back under the newer changes and tried again a second later; one the
 * rules refuse (a newer epoch moved the VM, the quota) is dropped and counted.
 */
public final class FsReplicator implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(FsReplicator.class);
    private static final long RETRY_MS = 1_000;

    /** Submits one command through the log (RaftNode.submit in the node). */
    public interface Log {
        CompletableFuture<CommandResult> submit(Command command);

        Command.Builder command();
    }

    /** One VM's pending changes and whether a delta of it is in flight. */
    private static final class Lane {
        LinkedHashMap<String, FileChange> waiting = new LinkedHashMap<>();
        boolean inFlight;
    }

    private final Log log;
    private final Function<String, Optional<LuaBackend.Target>> targets;
    private final Map<String, Lane> lanes = new ConcurrentHashMap<>();
    private final ScheduledExecutorService retries = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "fs-replicator-retry");
        t.setDaemon(true);
        return t;
    });
    private final LongAdder committed = new LongAdder();
    private final LongAdder committedBytes = new LongAdder();
    private final LongAdder refused = new LongAdder();
    private final LongAdder retried = new LongAdder();
    private final LongAdder orphaned = new LongAdder();

    /** Counters since start. */
    public record Stats(long committed, long committedBytes, long refused, long retried, long orphaned) {}

    /** @param targets the job and epoch a machine runs with now (empty once the machine is gone) */
    public FsReplicator(Log log, Function<String, Optional<LuaBackend.Target>> targets) {
        this.log = log;
        this.targets = targets;
    }

    /** Takes a batch from the tick thread: merges it into the VM's lane and submits when none is in flight. */
    public void accept(FsBatch batch) {
        Lane lane = lanes.computeIfAbsent(batch.vmId(), k -> new Lane());
        boolean submit;
        synchronized (lane) {
            for (FileChange c : batch.changes()) {
                lane.waiting.remove(c.getPath()); // re-insert so the order is the order of the last change
                lane.waiting.put(c.getPath(), c);
            }
            submit = !lane.inFlight;
            lane.inFlight = true;
        }
        if (submit) {
            next(batch.vmId(), lane);
        }
    }

    private void next(String vm, Lane lane) {
        List<FileChange> changes;
        synchronized (lane) {
            if (lane.waiting.isEmpty()) {
                lane.inFlight = false;
                return;
            }
            changes = new ArrayList<>(lane.waiting.values());
            lane.waiting = new LinkedHashMap<>();
        }
        Optional<LuaBackend.Target> target = targets.apply(vm);
        if (target.isEmpty()) {
            orphaned.add(changes.size());
            synchronized (lane) {
                lane.inFlight = false;
            }
            lanes.remove(vm, lane);
            return;
        }
        long bytes = changes.stream().mapToLong(c -> c.getData().size() + c.getPath().length()).sum();
        Command c = log.command().setFsDelta(FsDelta.newBuilder().setJobId(target.get().jobId())
                .setEpoch(target.get().epoch()).addAllChanges(changes)).build();
        log.submit(c).whenComplete((r, err) -> {
            if (err != null) {
                retried.increment();
                LOG.debug("file delta of VM {} not committed ({}); trying again in {} ms", vm, err.toString(), RETRY_MS);
                synchronized (lane) {
                    LinkedHashMap<String, FileChange> merged = new LinkedHashMap<>();
                    changes.forEach(ch -> merged.put(ch.getPath(), ch));
                    lane.waiting.forEach((p, ch) -> {
                        merged.remove(p);
                        merged.put(p, ch);
                    });
                    lane.waiting = merged;
                }
                retries.schedule(() -> next(vm, lane), RETRY_MS, TimeUnit.MILLISECONDS);
                return;
            }
            if (r.hasRejection()) {
                refused.increment();
                LOG.info("file delta of VM {} (job {}, epoch {}) refused: {}", vm, target.get().jobId(),
                        target.get().epoch(), r.getRejection().getMessage());
            } else {
                committed.increment();
                committedBytes.add(bytes);
            }
            next(vm, lane);
        });
    }

    public Stats stats() {
        return new Stats(committed.sum(), committedBytes.sum(), refused.sum(), retried.sum(), orphaned.sum());
    }

    @Override
    public void close() {
        retries.shutdownNow();
    }
}
