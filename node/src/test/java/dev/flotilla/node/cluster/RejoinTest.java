package dev.flotilla.node.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.flotilla.node.cluster.LocalCluster.Member;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * A member is removed, its disk replaced (storage wiped), and it is added back under the same id while
 * the others keep writing, as an operator replacing a failed disk would. It must catch up and keep up:
 * replaying the log hands it the entry that removed it, which must not make it shut itself down.
 */
class RejoinTest {
    private static final Map<String, String> JSON = Map.of("Content-Type", "application/json");

    private static void create(LocalCluster cluster, Member via, String id) throws Exception {
        LocalCluster.Response r = cluster.sendOrThrow(via, "POST", "/vms",
                "{\"job_id\":\"" + id + "\",\"desired\":\"stopped\",\"spec\":{\"runtime\":\"process\",\"cmd\":[\"true\"]}}", JSON);
        assertEquals(202, r.status(), r.text());
    }

    @Test
    void aWipedMemberAddedBackUnderItsOldIdCatchesUpAndStaysUp() throws Exception {
        try (LocalCluster cluster = new LocalCluster(3, Files.createTempDirectory("flotilla-rejoin-test"), Map.of())) {
            cluster.startAll();
            cluster.awaitHealthy(Duration.ofSeconds(90));
            String leaderId = cluster.awaitLeader(Duration.ofSeconds(60));
            Member leader = cluster.member(leaderId);
            Member gone = cluster.members().stream().filter(m -> !m.id.equals(leaderId)).findFirst().orElseThrow();
            List<String> others = cluster.members().stream().filter(m -> m != gone).map(Member::apiAddress).toList();
            for (int i = 0; i < 200; i++) create(cluster, leader, "before-" + i);

            Cli.Run removed = Cli.run(others, "cluster", "remove-peer", gone.id);
            assertEquals(0, removed.code(), removed.out() + removed.err());
            cluster.kill(gone);
            try (Stream<Path> files = Files.walk(gone.dir.resolve("data"))) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
            Path config = gone.dir.resolve("node.yaml");
            Files.writeString(config, Files.readString(config) + "join: true\n");
            for (int i = 0; i < 100; i++) create(cluster, leader, "between-" + i);
            cluster.start(gone);
            Eventually.await(gone.id + "'s API to answer", Duration.ofSeconds(90), () -> cluster.get(gone, "/cluster").isPresent());
            Cli.Run added = Cli.run(others, "cluster", "add-peer", gone.id, "127.0.0.1:" + gone.raft);
            assertEquals(0, added.code(), added.out() + added.err());

            for (int round = 0; round < 3; round++) {
                String last = "after-" + round + "-99";
                for (int i = 0; i < 100; i++) create(cluster, leader, "after-" + round + "-" + i);
                try {
                    Eventually.await(gone.id + " to hold " + last, Duration.ofSeconds(90),
                            () -> cluster.get(gone, "/vms/" + last).map(r -> r.status() == 200).orElse(false));
                } catch (AssertionError e) {
                    throw new AssertionError(e.getMessage() + "; its log ends:\n" + LocalCluster.tail(gone, 40), e);
                }
            }
            Eventually.await("equal digests", Duration.ofSeconds(60),
                    () -> cluster.digestOf(gone).equals(cluster.digestOf(leader)));
        }
    }

    @Test
    void aRemovedMemberThatKeepsRunningIsToldToStopAndExitsInsteadOfServingErrors() throws Exception {
        try (LocalCluster cluster = new LocalCluster(3, Files.createTempDirectory("flotilla-removed-test"), Map.of())) {
            cluster.startAll();
            cluster.awaitHealthy(Duration.ofSeconds(90));
            String leaderId = cluster.awaitLeader(Duration.ofSeconds(60));
            Member removed = cluster.members().stream().filter(m -> !m.id.equals(leaderId)).findFirst().orElseThrow();
            List<String> others = cluster.members().stream().filter(m -> m != removed).map(Member::apiAddress).toList();
            Cli.Run r = Cli.run(others, "cluster", "remove-peer", removed.id);
            assertEquals(0, r.code(), r.out() + r.err());
            // Left running, it stops hearing from the leader, campaigns, and the leader tells it to shut down.
            Eventually.await(removed.id + " to exit", Duration.ofSeconds(120), () -> !removed.process.isAlive());
            assertEquals(75, removed.process.exitValue(), LocalCluster.tail(removed, 20));
            String log = Files.readString(removed.log());
            org.junit.jupiter.api.Assertions.assertTrue(log.contains("stopped by itself") && log.contains("code 75"), LocalCluster.tail(removed, 20));
        }
    }
}
