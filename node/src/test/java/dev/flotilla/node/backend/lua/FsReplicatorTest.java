package dev.flotilla.node.backend.lua;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.ByteString;
import dev.flotilla.node.sim.FsBatch;
import dev.flotilla.proto.Command;
import dev.flotilla.proto.CommandResult;
import dev.flotilla.proto.ErrorCode;
import dev.flotilla.proto.FileChange;
import dev.flotilla.proto.Rejection;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * Ordering, merging and fencing of file deltas. The log here is a scripted stand-in that completes
 * each submit when the test says (the real path through Raft runs in LuaClusterTest on real nodes).
 */
class FsReplicatorTest {
    private static final class ScriptedLog implements FsReplicator.Log {
        final List<Command> submitted = new ArrayList<>();
        final List<CompletableFuture<CommandResult>> pending = new ArrayList<>();

        @Override
        public synchronized CompletableFuture<CommandResult> submit(Command command) {
            submitted.add(command);
            CompletableFuture<CommandResult> f = new CompletableFuture<>();
            pending.add(f);
            return f;
        }

        @Override
        public Command.Builder command() {
            return Command.newBuilder().setRequestId("r");
        }

        void commitNext() {
            pending.remove(0).complete(CommandResult.newBuilder().setDone(true).build());
        }
    }

    private static FileChange write(String path, String data) {
        return FileChange.newBuilder().setPath(path).setData(ByteString.copyFromUtf8(data)).build();
    }

    private static List<String> paths(Command c) {
        return c.getFsDelta().getChangesList().stream().map(f -> f.getPath() + "=" + f.getData().toStringUtf8()).toList();
    }

    @Test
    void oneDeltaPerVmInFlightAndWhatArrivesMeanwhileIsMergedNewestFirst() {
        ScriptedLog log = new ScriptedLog();
        try (FsReplicator r = new FsReplicator(log, m -> Optional.of(new LuaBackend.Target("job-" + m, 7)))) {
            r.accept(new FsBatch("v", List.of(write("/a", "1")), 3));
            r.accept(new FsBatch("v", List.of(write("/b", "1"), write("/a", "2")), 6));
            r.accept(new FsBatch("v", List.of(write("/a", "3")), 3));
            assertEquals(1, log.submitted.size(), "the second and third batch wait for the first");
            assertEquals("job-v", log.submitted.get(0).getFsDelta().getJobId());
            assertEquals(7, log.submitted.get(0).getFsDelta().getEpoch());
            log.commitNext();
            assertEquals(2, log.submitted.size());
            assertEquals(List.of("/b=1", "/a=3"), paths(log.submitted.get(1)), "merged; the last write of /a wins");
            log.commitNext();
            assertEquals(2, r.stats().committed());
        }
    }

    @Test
    void aRefusedDeltaIsCountedAndDroppedAndAGoneVmsChangesAreOrphaned() {
        ScriptedLog log = new ScriptedLog();
        try (FsReplicator r = new FsReplicator(log, m -> m.equals("gone") ? Optional.empty() : Optional.of(new LuaBackend.Target(m, 1)))) {
            r.accept(new FsBatch("v", List.of(write("/a", "1")), 3));
            log.pending.remove(0).complete(CommandResult.newBuilder().setRejection(Rejection.newBuilder()
                    .setCode(ErrorCode.STALE_EPOCH).setMessage("moved")).build());
            r.accept(new FsBatch("gone", List.of(write("/x", "1")), 3));
            assertEquals(1, log.submitted.size(), "nothing is submitted for a VM no longer here");
            assertEquals(new FsReplicator.Stats(0, 0, 1, 0, 1), r.stats());
        }
    }

    @Test
    void aDeltaTheLogCouldNotTakeComesBackUnderNewerChanges() throws Exception {
        ScriptedLog log = new ScriptedLog();
        try (FsReplicator r = new FsReplicator(log, m -> Optional.of(new LuaBackend.Target(m, 1)))) {
            r.accept(new FsBatch("v", List.of(write("/a", "1"), write("/b", "1")), 6));
            r.accept(new FsBatch("v", List.of(write("/a", "2")), 3));
            log.pending.remove(0).completeExceptionally(new java.io.IOException("no leader"));
            dev.flotilla.node.cluster.Eventually.await("the retry a second later", java.time.Duration.ofSeconds(10),
                    () -> { synchronized (log) { return log.submitted.size() == 2; } });
            assertEquals(List.of("/b=1", "/a=2"), paths(log.submitted.get(1)), "the failed /b kept, /a from the newer batch");
            assertEquals(1, r.stats().retried());
        }
    }
}
