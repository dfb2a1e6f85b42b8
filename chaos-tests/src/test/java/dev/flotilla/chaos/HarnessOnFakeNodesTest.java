package dev.flotilla.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flotilla.chaos.nemesis.FaultCatalog;
import dev.flotilla.chaos.report.DigestCheck;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The whole harness (namespaces, processes, every fault kind, clients, final reads, checks, report)
 * against fake nodes (src/test/resources/fake-flotilla.py) that share one registry file: this tests the
 * harness, not Flotilla, and runs where the real daemon is not built. Needs root for the namespaces.
 */
@Tag("netns")
class HarnessOnFakeNodesTest {

    private static Path fake() throws Exception {
        Path p = Path.of(HarnessOnFakeNodesTest.class.getResource("/fake-flotilla.py").toURI());
        p.toFile().setExecutable(true);
        return p;
    }

    private static RunConfig config(String name, String faults, long seed) throws Exception {
        RunConfig c = RunConfig.defaults(name, Duration.ofSeconds(25), FaultCatalog.parse(faults), seed, fake(),
                Path.of("target/chaos").toAbsolutePath());
        return new RunConfig(c.name(), c.time(), c.faults(), c.seed(), c.flotilla(), c.outRoot(), false, c.nodeIds(),
                c.clients(), Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofMillis(300), Duration.ofMillis(600),
                Duration.ofSeconds(1), c.budget(), c.nodeJavaOptions());
    }

    @Test
    void aRunOverNodesSharingOneRegistryIsValidAndReported() throws Exception {
        long seed = System.nanoTime();
        System.out.println("HarnessOnFakeNodesTest seed " + seed);
        ChaosRun.Result r = new ChaosRun(config("fake-shared", "all", seed)).run();
        System.out.println(r.summary());
        assertTrue(r.verdicts().valid(), "seed " + seed + ": " + r.summary() + "; see " + r.reportDir());
        for (String f : new String[] {"history.jsonl", "faults.jsonl", "verdicts.json", "latency.svg", "summary.txt"}) {
            assertTrue(Files.size(r.reportDir().resolve(f)) > 0, f + " written");
        }
        long kinds = Files.readAllLines(r.reportDir().resolve("faults.jsonl")).stream()
                .map(l -> l.replaceAll(".*\"kind\":\"([^\"]+)\".*", "$1")).distinct().count();
        assertEquals(FaultCatalog.names().size() + 1, kinds, "every fault kind plus the final heal appears");
    }

    @Test
    void nodesThatDoNotReplicateAreCaught() throws Exception {
        long seed = System.nanoTime();
        System.out.println("HarnessOnFakeNodesTest unreplicated seed " + seed);
        ChaosRun.Result r = new ChaosRun(config("fake-unreplicated", "partition-one", seed)
                .withUnsafeLocalReads(true)).run();
        System.out.println(r.summary());
        assertEquals("FAIL", r.verdicts().linearizability(), "seed " + seed + ": " + r.summary());
        assertEquals(DigestCheck.Verdict.FAIL, r.verdicts().digests().verdict(), r.summary());
    }
}
