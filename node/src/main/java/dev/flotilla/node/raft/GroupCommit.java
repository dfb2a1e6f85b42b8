package dev.flotilla.node.raft;

import dev.flotilla.proto.Command;
import dev.flotilla.proto.CommandBatch;
import dev.flotilla.proto.CommandResult;
import dev.flotilla.statemachine.Batch;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Function;

/**
 * Group commit: the commands this node submits while its earlier entries are still committing wait
 * and then go together as one log entry (a {@link CommandBatch}), so Raft's cost per entry (the
 * leader's and followers' log writes and fsyncs, the append RPCs, the apply round) is paid once for
 * all of them. A command alone goes out at once, unwrapped, so a single client waits for nothing.
 *
 * <p>A command on a VM that another of this node's commands is changing waits until that one is
 * committed: no batch holds two commands on one subject, and one subject's commands from this node
 * enter the log in the order they were submitted.
 */
final class GroupCommit {
    private final Function<Command, CompletableFuture<CommandResult>> send;
    private final int maxInFlight;
    private final int maxBytes;
    private final LinkedList<Waiting> queue = new LinkedList<>();
    private final Map<String, Integer> committing = new HashMap<>();
    private int inFlight;
    private long entries;
    private long commands;

    private record Waiting(Command command, List<String> subjects, CompletableFuture<CommandResult> result) {}

    /**
     * @param send sends one log entry and completes with its result
     * @param maxInFlight how many entries from this node may be committing at once
     * @param maxBytes the most command bytes one entry gathers (Ratis's own limits are far above it)
     */
    GroupCommit(Function<Command, CompletableFuture<CommandResult>> send, int maxInFlight, int maxBytes) {
        this.send = send;
        this.maxInFlight = maxInFlight;
        this.maxBytes = maxBytes;
    }

    /** Queues a command; completes with its own result once the entry holding it is applied. */
    CompletableFuture<CommandResult> submit(Command command) {
        Waiting w = new Waiting(command, Batch.subjects(command), new CompletableFuture<>());
        synchronized (this) {
            queue.add(w);
        }
        drain();
        return w.result();
    }

    /** Log entries sent and the commands they held, for the metrics. */
    synchronized long[] counts() {
        return new long[] {entries, commands};
    }

    private void drain() {
        while (true) {
            List<Waiting> batch;
            synchronized (this) {
                if (inFlight >= maxInFlight) return;
                batch = take();
                if (batch.isEmpty()) return;
                inFlight++;
                entries++;
                commands += batch.size();
            }
            dispatch(batch);
        }
    }

    /** The next entry: queued commands in order, skipping any whose subject is taken, within the limits. */
    private List<Waiting> take() {
        List<Waiting> batch = new ArrayList<>();
        Set<String> taken = new HashSet<>(committing.keySet());
        int bytes = 0;
        for (Iterator<Waiting> it = queue.iterator(); it.hasNext() && batch.size() < Batch.MAX_COMMANDS; ) {
            Waiting w = it.next();
            int size = w.command().getSerializedSize();
            if (!batch.isEmpty() && bytes + size > maxBytes) break;
            boolean fits = Batch.fits(taken, w.subjects());
            // Whatever the outcome, later commands on these subjects must not overtake this one.
            taken.addAll(w.subjects());
            if (!fits) continue;
            it.remove();
            batch.add(w);
            bytes += size;
        }
        for (Waiting w : batch) {
            for (String s : w.subjects()) committing.merge(s, 1, Integer::sum);
        }
        return batch;
    }

    private void dispatch(List<Waiting> batch) {
        Command entry;
        if (batch.size() == 1) {
            entry = batch.get(0).command();
        } else {
            CommandBatch.Builder b = CommandBatch.newBuilder();
            for (Waiting w : batch) b.addCommands(w.command());
            Command first = batch.get(0).command();
            entry = Command.newBuilder().setStampedMs(first.getStampedMs()).setOriginNode(first.getOriginNode())
                    .setBatch(b).build();
        }
        CompletableFuture<CommandResult> sent;
        try {
            sent = send.apply(entry);
        } catch (RuntimeException e) {
            sent = CompletableFuture.failedFuture(e);
        }
        sent.whenComplete((result, error) -> {
            synchronized (this) {
                inFlight--;
                for (Waiting w : batch) {
                    for (String s : w.subjects()) committing.computeIfPresent(s, (k, n) -> n == 1 ? null : n - 1);
                }
            }
            complete(batch, result, error);
            drain();
        });
    }

    private static void complete(List<Waiting> batch, CommandResult result, Throwable error) {
        if (error != null) {
            for (Waiting w : batch) w.result().completeExceptionally(error);
            return;
        }
        if (batch.size() == 1) {
            batch.get(0).result().complete(result);
            return;
        }
        if (!result.hasBatch() || result.getBatch().getResultsCount() != batch.size()) {
            // The whole entry was refused (its shape) or answered out of step: each caller gets that answer.
            if (result.hasRejection()) {
                for (Waiting w : batch) w.result().complete(result);
            } else {
                IOException e = new IOException("the state machine answered a batch of " + batch.size()
                        + " commands with " + result.getBatch().getResultsCount() + " results");
                for (Waiting w : batch) w.result().completeExceptionally(new CompletionException(e));
            }
            return;
        }
        for (int i = 0; i < batch.size(); i++) {
            batch.get(i).result().complete(result.getBatch().getResults(i));
        }
    }
}
