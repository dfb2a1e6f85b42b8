package dev.flotilla.statemachine;

import static dev.flotilla.statemachine.Commands.delete;
import static dev.flotilla.statemachine.Commands.process;
import static dev.flotilla.statemachine.Commands.start;
import static dev.flotilla.statemachine.Commands.stop;
import static dev.flotilla.statemachine.Commands.upsert;
import static dev.flotilla.statemachine.Commands.withRequestId;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flotilla.proto.Command;
import dev.flotilla.proto.CommandBatch;
import dev.flotilla.proto.CommandResult;
import dev.flotilla.proto.ErrorCode;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A batch entry: its commands applied in order at one index, each with its own result and dedupe. */
class BatchTest {
    @TempDir
    Path dir;

    private static Command batch(Command... commands) {
        return Command.newBuilder().setStampedMs(Commands.NOW).setBatch(CommandBatch.newBuilder().addAllCommands(List.of(commands))).build();
    }

    @Test
    void eachCommandGetsItsOwnResultInOrderAtTheBatchIndex() throws Exception {
        try (StoreFixture f = new StoreFixture(dir)) {
            CommandResult r = f.apply(batch(upsert("a", process("sleep", "1")), upsert("b", process("sleep", "1")),
                    start("nobody")));
            assertEquals(3, r.getBatch().getResultsCount(), "one result per command: " + r);
            assertEquals("a", r.getBatch().getResults(0).getVm().getId());
            assertEquals("b", r.getBatch().getResults(1).getVm().getId());
            assertEquals(ErrorCode.NOT_FOUND, r.getBatch().getResults(2).getRejection().getCode(),
                    "a refused command refuses only itself: " + r.getBatch().getResults(2));
            assertEquals(f.index, r.getBatch().getResults(0).getVm().getVersion(), "a VM's version is the entry's index");
            // Each later command saw the ones before it: the two VMs hold different addresses.
            assertFalse(r.getBatch().getResults(0).getVm().getIp().equals(r.getBatch().getResults(1).getVm().getIp()));
            assertTrue(f.store.vm("a").isPresent() && f.store.vm("b").isPresent());
        }
    }

    @Test
    void aRequestIdSeenInAnEarlierBatchAnswersItsFirstResult() throws Exception {
        try (StoreFixture f = new StoreFixture(dir)) {
            Command create = withRequestId(upsert("a", process("sleep", "1")), "req-1");
            CommandResult first = f.apply(batch(create, withRequestId(upsert("b", process("sleep", "1")), "req-2")));
            CommandResult again = f.apply(batch(withRequestId(upsert("c", process("sleep", "1")), "req-3"), create));
            assertTrue(again.getBatch().getResults(1).getDuplicate(), "the retry is a duplicate: " + again);
            assertEquals(first.getBatch().getResults(0).getVm(), again.getBatch().getResults(1).getVm());
            assertEquals(3, f.store.listVms("").size());
        }
    }

    @Test
    void batchesThatBreakTheRulesAreRefusedWholeNamingTheCommand() throws Exception {
        try (StoreFixture f = new StoreFixture(dir)) {
            CommandResult twice = f.apply(batch(upsert("a", process("sleep", "1")), delete("a")));
            assertEquals("batch.commands[1]", twice.getRejection().getField(), twice.toString());
            assertTrue(f.store.vm("a").isEmpty(), "nothing of a refused batch is applied");
            CommandResult nested = f.apply(batch(upsert("a", process("sleep", "1")), batch(upsert("b", process("sleep", "1")))));
            assertEquals("batch.commands[1]", nested.getRejection().getField(), nested.toString());
            assertEquals("batch.commands", f.apply(batch()).getRejection().getField());
        }
    }

    @Test
    void aReplayAfterACrashPartWayAnswersEveryDoneCommandAsTheFirstRunDid() throws Exception {
        // A rejection, a duplicate (answered from an earlier index) and a command without a request id:
        // none of them can be answered from the request table alone.
        Command before = withRequestId(upsert("before", process("sleep", "1")), "r0");
        Command entry = batch(stop("missing"), withRequestId(upsert("x", process("sleep", "1")), "r0"),
                upsert("plain", process("sleep", "1")), upsert("last", process("sleep", "1")));
        CommandResult expected;
        try (StoreFixture f = new StoreFixture(dir.resolve("whole"))) {
            f.apply(before);
            expected = f.apply(entry);
        }
        Path crashed = dir.resolve("crashed");
        try (StoreFixture f = new StoreFixture(crashed)) {
            f.apply(before);
            f.store.applyPartOfBatch(1, 2, entry, 3);
        }
        try (RegistryStore reopened = RegistryStore.open(crashed, Subnet.parse("10.0.0.0/16"), false)) {
            assertEquals(expected, reopened.apply(1, 2, entry).orElseThrow().result());
        }
    }

    @Test
    void aCrashPartWayThroughABatchResumesAfterTheLastCommandWritten() throws Exception {
        Command entry = batch(withRequestId(upsert("a", process("sleep", "1")), "ra"),
                withRequestId(upsert("b", process("sleep", "1")), "rb"),
                withRequestId(upsert("c", process("sleep", "1")), "rc"));
        Path whole = dir.resolve("whole");
        Path crashed = dir.resolve("crashed");
        String expected;
        try (StoreFixture f = new StoreFixture(whole)) {
            f.apply(upsert("before", process("sleep", "1")));
            f.apply(entry);
            expected = f.store.digest().digest();
        }
        try (StoreFixture f = new StoreFixture(crashed)) {
            f.apply(upsert("before", process("sleep", "1")));
            f.store.applyPartOfBatch(1, 2, entry, 2);
            assertEquals(1, f.store.applied().index(), "the batch's entry is not whole yet");
            assertEquals(2, f.store.applied().nextParts());
        }
        try (RegistryStore reopened = RegistryStore.open(crashed, Subnet.parse("10.0.0.0/16"), false)) {
            assertEquals(2, reopened.applied().nextParts(), "the mark of how far the batch got survives a restart");
            CommandResult replay = reopened.apply(1, 2, entry).orElseThrow().result();
            assertEquals(3, replay.getBatch().getResultsCount());
            assertEquals("a", replay.getBatch().getResults(0).getVm().getId(), "done commands answer their first result");
            assertFalse(replay.getBatch().getResults(0).getDuplicate());
            assertEquals(2, reopened.applied().index());
            assertEquals(0, reopened.applied().nextParts());
            assertEquals(expected, reopened.digest().digest(), "the same state as applying the batch once, whole");
            assertTrue(reopened.apply(1, 2, entry).isEmpty(), "a whole entry is not applied again");
        }
    }

    @Test
    void subjectsKeepTwoCommandsOnOneVmOutOfOneBatch() {
        assertEquals(List.of("vm:a"), Batch.subjects(start("a")));
        assertFalse(Batch.fits(new java.util.HashSet<>(List.of("vm:a")), Batch.subjects(delete("a"))));
        assertTrue(Batch.fits(new java.util.HashSet<>(List.of("vm:a")), Batch.subjects(delete("b"))));
        assertFalse(Batch.fits(new java.util.HashSet<>(List.of("vm:a")), List.of(Batch.ALONE)),
                "a command with no named subject goes alone");
        assertTrue(Batch.fits(new java.util.HashSet<>(), List.of(Batch.ALONE)));
    }
}
