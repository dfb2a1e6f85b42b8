package dev.flotilla.node.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flotilla.proto.BatchResults;
import dev.flotilla.proto.Command;
import dev.flotilla.proto.CommandResult;
import dev.flotilla.proto.StartVm;
import dev.flotilla.proto.StopVm;
import dev.flotilla.proto.VmRecord;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;

/** Group commit: what waits, what shares an entry, and who gets which answer. */
class GroupCommitTest {
    /** A log that holds each sent entry until the test completes it. */
    private static final class HeldLog {
        final List<Command> sent = new ArrayList<>();
        final List<CompletableFuture<CommandResult>> pending = new ArrayList<>();

        synchronized CompletableFuture<CommandResult> send(Command entry) {
            sent.add(entry);
            CompletableFuture<CommandResult> f = new CompletableFuture<>();
            pending.add(f);
            return f;
        }

        /** Answers entry {@code i} as the state machine would: each command's result names its VM. */
        void apply(int i) {
            Command entry;
            CompletableFuture<CommandResult> f;
            synchronized (this) {
                entry = sent.get(i);
                f = pending.get(i);
            }
            if (!entry.hasBatch()) {
                f.complete(resultFor(entry));
                return;
            }
            BatchResults.Builder results = BatchResults.newBuilder();
            for (Command c : entry.getBatch().getCommandsList()) results.addResults(resultFor(c));
            f.complete(CommandResult.newBuilder().setBatch(results).build());
        }

        private static CommandResult resultFor(Command c) {
            String id = c.hasStartVm() ? c.getStartVm().getJobId() : c.getStopVm().getJobId();
            return CommandResult.newBuilder().setVm(VmRecord.newBuilder().setId(id)).build();
        }
    }

    private static Command start(String id) {
        return Command.newBuilder().setRequestId("start-" + id).setStartVm(StartVm.newBuilder().setJobId(id)).build();
    }

    private static Command stop(String id) {
        return Command.newBuilder().setRequestId("stop-" + id).setStopVm(StopVm.newBuilder().setJobId(id)).build();
    }

    @Test
    void aLoneCommandGoesAtOnceUnwrapped() throws Exception {
        HeldLog log = new HeldLog();
        GroupCommit gc = new GroupCommit(log::send, 1, 1 << 20);
        CompletableFuture<CommandResult> a = gc.submit(start("a"));
        assertEquals(List.of(start("a")), log.sent, "sent at once, as itself");
        log.apply(0);
        assertEquals("a", a.get().getVm().getId());
    }

    @Test
    void commandsWaitingWhileAnEntryCommitsGoTogetherAndEachGetsItsOwnResult() throws Exception {
        HeldLog log = new HeldLog();
        GroupCommit gc = new GroupCommit(log::send, 1, 1 << 20);
        CompletableFuture<CommandResult> a = gc.submit(start("a"));
        List<CompletableFuture<CommandResult>> later = new ArrayList<>();
        for (String id : List.of("b", "c", "d")) later.add(gc.submit(start(id)));
        assertEquals(1, log.sent.size(), "b, c and d wait while a's entry commits");
        log.apply(0);
        assertEquals(2, log.sent.size());
        Command batch = log.sent.get(1);
        assertEquals(List.of(start("b"), start("c"), start("d")), batch.getBatch().getCommandsList(), "in submission order");
        assertFalse(later.get(0).isDone(), "answered only when its own entry is applied");
        log.apply(1);
        assertEquals("a", a.get().getVm().getId());
        for (int i = 0; i < 3; i++) assertEquals(List.of("b", "c", "d").get(i), later.get(i).get().getVm().getId());
        assertEquals(2, gc.counts()[0], "two entries");
        assertEquals(4, gc.counts()[1], "four commands");
    }

    @Test
    void twoCommandsOnOneVmNeverShareAnEntryAndKeepTheirOrder() throws Exception {
        HeldLog log = new HeldLog();
        GroupCommit gc = new GroupCommit(log::send, 1, 1 << 20);
        gc.submit(start("x"));
        CompletableFuture<CommandResult> stopA = gc.submit(stop("a"));
        CompletableFuture<CommandResult> startA = gc.submit(start("a"));
        CompletableFuture<CommandResult> startB = gc.submit(start("b"));
        log.apply(0);
        assertEquals(List.of(stop("a"), start("b")), log.sent.get(1).getBatch().getCommandsList(),
                "start a waits for stop a; b may go ahead of it");
        log.apply(1);
        assertEquals(start("a"), log.sent.get(2), "then start a, alone");
        log.apply(2);
        assertTrue(stopA.isDone() && startA.isDone() && startB.isDone());
    }

    @Test
    void aCommandOnAVmStillCommittingWaitsEvenWithRoomInFlight() {
        HeldLog log = new HeldLog();
        GroupCommit gc = new GroupCommit(log::send, 2, 1 << 20);
        gc.submit(stop("a"));
        gc.submit(start("a"));
        assertEquals(1, log.sent.size(), "the second entry slot stays free rather than reorder one VM's commands");
        gc.submit(start("b"));
        assertEquals(List.of(stop("a"), start("b")), log.sent);
        log.apply(0);
        assertEquals(start("a"), log.sent.get(2));
    }

    @Test
    void whenAnEntryFailsEveryCommandInItFailsWithThatError() {
        HeldLog log = new HeldLog();
        GroupCommit gc = new GroupCommit(log::send, 1, 1 << 20);
        gc.submit(start("x"));
        CompletableFuture<CommandResult> b = gc.submit(start("b"));
        CompletableFuture<CommandResult> c = gc.submit(start("c"));
        log.apply(0);
        log.pending.get(1).completeExceptionally(new IOException("no quorum"));
        for (CompletableFuture<CommandResult> f : List.of(b, c)) {
            ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class, f::get);
            assertEquals("no quorum", e.getCause().getMessage());
        }
        gc.submit(start("d"));
        assertEquals(start("d"), log.sent.get(2), "a failed entry frees its slot");
    }

    @Test
    void anEntryGathersNoMoreThanItsByteLimit() {
        HeldLog log = new HeldLog();
        int one = start("b").getSerializedSize();
        GroupCommit gc = new GroupCommit(log::send, 1, 2 * one);
        gc.submit(start("x"));
        for (String id : List.of("b", "c", "d")) gc.submit(start(id));
        log.apply(0);
        assertEquals(List.of(start("b"), start("c")), log.sent.get(1).getBatch().getCommandsList());
        log.apply(1);
        assertEquals(start("d"), log.sent.get(2));
    }
}
