package dev.flotilla.statemachine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.flotilla.proto.Command;
import dev.flotilla.proto.CommandResult;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real crash: a child JVM applies a seeded command sequence to a store and is killed with SIGKILL at a
 * random point. Reopened, the store says how far it got; replaying the whole sequence must skip exactly
 * the entries at or below that index and end at the digest of a store that never crashed.
 */
class CrashReplayTest {
    static final int LENGTH = 300;

    @TempDir Path tmp;

    /** The child process: applies the sequence for a seed, printing each applied index. */
    public static void main(String[] args) throws IOException {
        Path dir = Path.of(args[0]);
        long seed = Long.parseLong(args[1]);
        boolean sync = Boolean.parseBoolean(args[2]);
        List<Command> commands = new CommandGenerator(seed).sequence(LENGTH);
        try (RegistryStore store = RegistryStore.open(dir, Subnet.parse(CommandGenerator.SUBNET), sync)) {
            for (int i = 0; i < commands.size(); i++) {
                store.apply(1, i + 1, commands.get(i));
                System.out.println("applied " + (i + 1));
                System.out.flush();
            }
            // Stay alive until killed, so the kill always lands on a running process.
            while (true) {
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    @Test
    void killedMidSequenceReplaysToTheSameDigest() throws Exception {
        long seed = Long.getLong("flotilla.seed", System.nanoTime());
        System.out.println("CrashReplayTest seed=" + seed + " (rerun with -Dflotilla.seed=" + seed + ")");
        Random rnd = new Random(seed);
        List<Command> commands = new CommandGenerator(seed).sequence(LENGTH);
        Subnet subnet = Subnet.parse(CommandGenerator.SUBNET);
        List<CommandResult> reference = new ArrayList<>();
        String referenceDigest;
        try (RegistryStore ref = RegistryStore.open(tmp.resolve("reference"), subnet, false)) {
            for (int i = 0; i < commands.size(); i++) {
                reference.add(ref.apply(1, i + 1, commands.get(i)).orElseThrow().result());
            }
            referenceDigest = ref.digest().digest();
        }
        for (boolean sync : new boolean[] {true, false}) {
            int killAfter = 1 + rnd.nextInt(LENGTH - 1);
            Path dir = tmp.resolve("crashed-" + sync);
            long seen = runAndKill(dir, seed, sync, killAfter);
            try (RegistryStore store = RegistryStore.open(dir, subnet, false)) {
                long applied = store.applied().index();
                String where = "seed " + seed + ", sync " + sync + ", killed after seeing index " + seen;
                System.out.println(where + "; the reopened store holds index " + applied);
                assertTrue(applied >= seen, () -> where + ": the store lost acknowledged index " + seen + ", it holds " + applied);
                for (int i = 0; i < commands.size(); i++) {
                    long index = i + 1;
                    Optional<Outcome> o = store.apply(1, index, commands.get(i));
                    if (index <= applied) {
                        assertTrue(o.isEmpty(), () -> where + ": replay re-applied index " + index + " (store held " + applied + ")");
                    } else {
                        int k = i;
                        assertEquals(reference.get(k), o.orElseThrow().result(), () -> where + ": result differs at " + index);
                    }
                }
                assertEquals(referenceDigest, store.digest().digest(), where + ": replay after the crash ends at another digest");
                assertEquals(LENGTH, store.applied().index());
            }
        }
    }

    /** Starts the child, waits until it printed {@code killAfter}, kills it with SIGKILL; returns the last index seen. */
    private long runAndKill(Path dir, long seed, boolean sync, int killAfter) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                CrashReplayTest.class.getName(), dir.toString(), Long.toString(seed), Boolean.toString(sync))
                .redirectError(ProcessBuilder.Redirect.appendTo(tmp.resolve("child-stderr.txt").toFile()));
        Process child = pb.start();
        // Watchdog: a hung child is killed, which ends the read loop below with a clear failure.
        CompletableFuture.delayedExecutor(120, TimeUnit.SECONDS).execute(child::destroyForcibly);
        long seen = 0;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while (seen < killAfter && (line = out.readLine()) != null) {
                if (line.startsWith("applied ")) {
                    seen = Long.parseLong(line.substring(8).trim());
                }
                if (System.nanoTime() > deadline) {
                    fail("the child applied only " + seen + " of " + killAfter + " entries within 120 s");
                }
            }
            if (seen < killAfter) {
                fail("the child ended after index " + seen + " before the kill point " + killAfter + "; see "
                        + tmp.resolve("child-stderr.txt"));
            }
            // SIGKILL: no shutdown hooks, no RocksDB close.
            child.destroyForcibly();
            assertTrue(child.waitFor(30, TimeUnit.SECONDS), "the killed child did not exit within 30 s");
        } finally {
            if (child.isAlive()) {
                child.destroyForcibly();
            }
        }
        return seen;
    }
}
