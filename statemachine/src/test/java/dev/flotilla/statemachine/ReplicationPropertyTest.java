package dev.flotilla.statemachine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.google.protobuf.TextFormat;
import dev.flotilla.proto.Command;
import dev.flotilla.proto.CommandResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded random command sequences, invalid ones included, applied to three independent RocksDB stores:
 * identical results and digests after every step; a snapshot at a random index, restored and replayed,
 * reaches the same digest; a store "crashed" (closed and reopened) at a random index and replayed from
 * the start skips what it holds and reaches the same digest. The seed is printed; rerun one with
 * {@code -Dflotilla.seed=N}. A failing sequence is shrunk before it is reported.
 */
class ReplicationPropertyTest {
    static final int SEQUENCES = Integer.getInteger("flotilla.sequences", 8);
    static final int LENGTH = Integer.getInteger("flotilla.length", 200);
    static final int MAX_SHRINK_RUNS = 300;

    @TempDir Path tmp;
    private int attempt;
    /** How often each (command kind, outcome) was seen, to show the sequences reach every path. */
    private final java.util.Map<String, Integer> coverage = new java.util.TreeMap<>();

    /** Where, as fractions of the sequence, the snapshot is taken and the crash happens. */
    record Plan(double snapshotAt, double crashAt) {
        int snapshotIndex(int n) {
            return Math.max(1, (int) Math.ceil(snapshotAt * n));
        }

        int crashIndex(int n) {
            return Math.max(1, (int) Math.ceil(crashAt * n));
        }
    }

    @Test
    void replicasAgreeSnapshotsRestoreAndCrashesReplay() throws IOException {
        long master = Long.getLong("flotilla.seed", System.nanoTime());
        System.out.println("ReplicationPropertyTest seed=" + master + " (rerun with -Dflotilla.seed=" + master + ")");
        for (int s = 0; s < SEQUENCES; s++) {
            long seed = master + s;
            List<Command> commands = new CommandGenerator(seed).sequence(LENGTH);
            Random rnd = new Random(seed ^ 0x5DEECE66DL);
            Plan plan = new Plan(rnd.nextDouble(), rnd.nextDouble());
            Optional<String> failure = check(commands, plan);
            if (failure.isPresent()) {
                List<Command> shrunk = shrink(commands, c -> check(c, plan).isPresent());
                StringBuilder report = new StringBuilder("seed " + seed + " (master " + master + ", rerun with -Dflotilla.seed="
                        + master + "): " + failure.get() + "\nshrunk from " + commands.size() + " to " + shrunk.size()
                        + " commands (" + plan + ", snapshot at index " + plan.snapshotIndex(shrunk.size()) + ", crash at "
                        + plan.crashIndex(shrunk.size()) + "), failing with: " + check(shrunk, plan).orElse("?") + "\n");
                for (int i = 0; i < shrunk.size(); i++) {
                    report.append("  ").append(i + 1).append(": ").append(TextFormat.shortDebugString(shrunk.get(i))).append('\n');
                }
                fail(report.toString());
            }
        }
        System.out.println("coverage: " + coverage);
        for (String kind : List.of("UPSERT_VM", "START_VM", "STOP_VM", "DELETE_VM", "ASSIGN", "REPORT_STATUS", "FS_DELTA",
                "REGISTER_NODE", "SET_NODE_STATE", "REMOVE_NODE")) {
            assertTrue(coverage.containsKey(kind + " OK"), () -> kind + " never succeeded: " + coverage);
        }
        for (String path : List.of("UPSERT_VM CONFLICT", "UPSERT_VM INVALID", "START_VM ILLEGAL_TRANSITION",
                "STOP_VM NOT_FOUND", "REPORT_STATUS STALE_EPOCH", "FS_DELTA INVALID", "KIND_NOT_SET INVALID")) {
            assertTrue(coverage.containsKey(path), () -> path + " never happened: " + coverage);
        }
    }

    /** Runs the three-replica, snapshot and crash checks over a sequence; returns what went wrong. */
    Optional<String> check(List<Command> commands, Plan plan) throws IOException {
        Path dir = tmp.resolve("run-" + attempt++);
        Subnet subnet = Subnet.parse(CommandGenerator.SUBNET);
        int n = commands.size();
        int snapshotAt = Math.min(plan.snapshotIndex(n), n);
        int crashAt = Math.min(plan.crashIndex(n), n);
        List<CommandResult> results = new ArrayList<>();
        RegistryStore a = RegistryStore.open(dir.resolve("a"), subnet, false);
        RegistryStore b = RegistryStore.open(dir.resolve("b"), subnet, false);
        RegistryStore c = RegistryStore.open(dir.resolve("c"), subnet, true);
        try {
            for (int i = 0; i < n; i++) {
                long index = i + 1;
                Command cmd = commands.get(i);
                CommandResult ra = a.apply(1, index, cmd).map(Outcome::result).orElse(null);
                CommandResult rb = b.apply(1, index, cmd).map(Outcome::result).orElse(null);
                CommandResult rc = c.apply(1, index, cmd).map(Outcome::result).orElse(null);
                if (ra == null || rb == null || rc == null) {
                    return Optional.of("index " + index + " was skipped by a fresh store");
                }
                if (!ra.equals(rb) || !ra.equals(rc)) {
                    return Optional.of("results differ at index " + index + ":\n a=" + ra + "\n b=" + rb + "\n c=" + rc);
                }
                results.add(ra);
                String outcome = ra.getDuplicate() ? "DUPLICATE" : ra.hasRejection() ? ra.getRejection().getCode().name() : "OK";
                coverage.merge(cmd.getKindCase() + " " + outcome, 1, Integer::sum);
                String da = a.digest().digest();
                if (!da.equals(b.digest().digest()) || !da.equals(c.digest().digest())) {
                    return Optional.of("digests differ after index " + index);
                }
                List<String> broken = Invariants.check(a, index);
                if (!broken.isEmpty()) {
                    return Optional.of("invariants broken after index " + index + " (" + TextFormat.shortDebugString(cmd)
                            + "): " + broken);
                }
                if (index == snapshotAt) {
                    Path checkpoint = dir.resolve("checkpoint");
                    a.checkpoint(checkpoint);
                    CheckpointStorage shelf = new CheckpointStorage();
                    shelf.init(dir.resolve("sm"));
                    shelf.publish(checkpoint, 1, index);
                }
                if (index == crashAt) {
                    b.close();
                    b = RegistryStore.open(dir.resolve("b"), subnet, false);
                    if (b.applied().index() != index) {
                        return Optional.of("after reopening, the store says it applied " + b.applied() + ", expected " + index);
                    }
                    for (int j = 0; j < crashAt; j++) {
                        if (b.apply(1, j + 1, commands.get(j)).isPresent()) {
                            return Optional.of("replay after a crash at " + crashAt + " re-applied index " + (j + 1));
                        }
                    }
                    if (!b.digest().digest().equals(da)) {
                        return Optional.of("digest changed by reopening at index " + index);
                    }
                }
            }
            String finalDigest = a.digest().digest();
            // Restore the snapshot into a fresh live directory and replay the whole log over it.
            CheckpointStorage shelf = new CheckpointStorage();
            shelf.init(dir.resolve("sm"));
            if (shelf.getLatestSnapshot() == null || shelf.getLatestSnapshot().getIndex() != snapshotAt) {
                return Optional.of("the published snapshot is missing or misnamed: " + shelf.getLatestSnapshot());
            }
            Path live = dir.resolve("restored");
            shelf.restoreInto(shelf.latestDir().orElseThrow(), live);
            try (RegistryStore d = RegistryStore.open(live, subnet, false)) {
                if (d.applied().index() != snapshotAt) {
                    return Optional.of("restored snapshot reports index " + d.applied().index() + ", taken at " + snapshotAt);
                }
                for (int i = 0; i < n; i++) {
                    Optional<Outcome> o = d.apply(1, i + 1, commands.get(i));
                    if (i + 1 <= snapshotAt && o.isPresent()) {
                        return Optional.of("replay over the snapshot at " + snapshotAt + " re-applied index " + (i + 1));
                    }
                    if (i + 1 > snapshotAt && (o.isEmpty() || !o.get().result().equals(results.get(i)))) {
                        return Optional.of("replay over the snapshot gave another result at index " + (i + 1) + ": "
                                + o.map(Outcome::result).orElse(null) + " vs " + results.get(i));
                    }
                }
                if (!d.digest().digest().equals(finalDigest)) {
                    return Optional.of("snapshot at " + snapshotAt + " + replay ends at another digest");
                }
            }
            if (!b.digest().digest().equals(finalDigest)) {
                return Optional.of("the store crashed at " + crashAt + " ends at another digest");
            }
            return Optional.empty();
        } finally {
            a.close();
            b.close();
            c.close();
            CheckpointStorage.deleteTree(dir);
        }
    }

    /** Drops chunks of commands, then single ones, while the sequence still fails. */
    static List<Command> shrink(List<Command> failing, Check stillFails) throws IOException {
        List<Command> current = new ArrayList<>(failing);
        int runs = 0;
        for (int chunk = Math.max(1, current.size() / 2); chunk >= 1 && runs < MAX_SHRINK_RUNS; chunk /= 2) {
            boolean progress = true;
            while (progress && runs < MAX_SHRINK_RUNS) {
                progress = false;
                for (int start = 0; start < current.size() && runs < MAX_SHRINK_RUNS; ) {
                    List<Command> candidate = new ArrayList<>(current.subList(0, start));
                    candidate.addAll(current.subList(Math.min(current.size(), start + chunk), current.size()));
                    runs++;
                    if (!candidate.isEmpty() && stillFails.fails(candidate)) {
                        current = candidate;
                        progress = true;
                    } else {
                        start += chunk;
                    }
                }
            }
        }
        return current;
    }

    /** A property over a command sequence, for the shrinker. */
    interface Check {
        boolean fails(List<Command> commands) throws IOException;
    }

    @Test
    void shrinkerFindsTheCommandsThatMatter() throws IOException {
        // A stand-in property that fails whenever a delete of j1 follows an upsert of j1.
        List<Command> commands = new ArrayList<>(new CommandGenerator(42).sequence(120));
        commands.add(37, Commands.upsert("j1", Commands.process()));
        commands.add(90, Commands.delete("j1"));
        Function<List<Command>, Boolean> bad = cs -> {
            int up = -1;
            for (int i = 0; i < cs.size(); i++) {
                Command c = cs.get(i);
                if (c.hasUpsertVm() && c.getUpsertVm().getJobId().equals("j1") && up < 0) {
                    up = i;
                }
                if (up >= 0 && c.hasDeleteVm() && c.getDeleteVm().getJobId().equals("j1")) {
                    return true;
                }
            }
            return false;
        };
        List<Command> shrunk = shrink(commands, bad::apply);
        assertEquals(2, shrunk.size(), () -> "shrunk to " + shrunk);
        assertTrue(shrunk.get(0).hasUpsertVm() && shrunk.get(1).hasDeleteVm());
    }

    @Test
    void aDivergingReplicaIsCaught() throws IOException {
        // The check must be able to fail: a store that missed one command ends elsewhere.
        Subnet subnet = Subnet.parse(CommandGenerator.SUBNET);
        try (RegistryStore a = RegistryStore.open(tmp.resolve("x"), subnet, false);
                RegistryStore b = RegistryStore.open(tmp.resolve("y"), subnet, false)) {
            a.apply(1, 1, Commands.upsert("j1", Commands.process()));
            b.apply(1, 1, Commands.upsert("j1", Commands.process()));
            a.apply(1, 2, Commands.stop("j1"));
            b.markApplied(1, 2);
            assertTrue(!a.digest().digest().equals(b.digest().digest()), "a missed command must change the digest");
            assertEquals(a.applied(), b.applied());
        }
        assertTrue(Files.exists(tmp));
    }
}
