package dev.flotilla.node.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flotilla.node.cluster.LocalCluster.Member;
import dev.flotilla.node.cluster.LocalCluster.Response;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Three real node processes: acknowledged writes survive the leader's kill -9; a restarted node converges. */
class ClusterTest {
    private static final Map<String, String> JSON = Map.of("Content-Type", "application/json");

    private static String create(String id) {
        return "{\"job_id\":\"" + id + "\",\"tenant\":\"t" + (id.hashCode() & 7) + "\",\"spec\":{\"runtime\":\"process\",\"cmd\":[\"sleep\",\"60\"]}}";
    }

    @Test
    void acknowledgedCreatesSurviveKillingTheLeaderAndTheNodeConverges() throws Exception {
        Path dir = Files.createTempDirectory("flotilla-cluster-test");
        try (LocalCluster cluster = new LocalCluster(3, dir, Map.of())) {
            cluster.startAll();
            cluster.awaitHealthy(Duration.ofSeconds(90));
            String leaderId = cluster.awaitLeader(Duration.ofSeconds(60));
            Member leader = cluster.member(leaderId);

            Set<String> acknowledged = ConcurrentHashMap.newKeySet();
            AtomicInteger sent = new AtomicInteger();
            ExecutorService clients = Executors.newFixedThreadPool(8);
            List<Future<?>> work = new ArrayList<>();
            int total = 500;
            for (int c = 0; c < 8; c++) {
                int client = c;
                work.add(clients.submit(() -> {
                    for (int i = client; i < total; i += 8) {
                        String id = "job-" + i;
                        Member target = cluster.members().get(i % 3);
                        if (!target.alive()) target = cluster.members().get((i + 1) % 3);
                        sent.incrementAndGet();
                        // An Idempotency-Key per job: a retry on another node applies at most once.
                        Map<String, String> h = Map.of("Content-Type", "application/json", "Idempotency-Key", id);
                        for (int attempt = 0; attempt < 3; attempt++) {
                            Member t = cluster.members().get((i + attempt) % 3);
                            if (!t.alive()) continue;
                            Response r = cluster.send(t, "POST", "/vms", create(id), h).orElse(null);
                            if (r != null && r.status() == 202) {
                                acknowledged.add(id);
                                break;
                            }
                        }
                    }
                    return null;
                }));
            }
            // kill -9 the leader mid-stream
            Eventually.await("100 acknowledged creates before the kill", Duration.ofSeconds(120), () -> acknowledged.size() >= 100);
            cluster.kill(leader);
            for (Future<?> f : work) f.get(5, TimeUnit.MINUTES);
            clients.shutdown();
            assertTrue(acknowledged.size() >= 400, "most creates must be acknowledged despite one kill; got " + acknowledged.size());

            List<Member> survivors = cluster.members().stream().filter(Member::alive).toList();
            assertEquals(2, survivors.size());
            for (Member s : survivors) {
                Response list = Eventually.await("a list from " + s.id, Duration.ofSeconds(60),
                        () -> cluster.get(s, "/vms").filter(r -> r.status() == 200).orElse(null));
                Set<String> present = new HashSet<>();
                list.body().path("vms").forEach(v -> present.add(v.path("id").asText()));
                Set<String> lost = new HashSet<>(acknowledged);
                lost.removeAll(present);
                assertTrue(lost.isEmpty(), s.id + " lost acknowledged creates: " + lost);
            }

            cluster.start(leader);
            cluster.awaitHealthy(Duration.ofSeconds(90));
            Eventually.await("equal digests on all three nodes at the same index", Duration.ofSeconds(120), () -> {
                Set<String> digests = new HashSet<>();
                for (Member m : cluster.members()) digests.add(cluster.digestOf(m));
                return digests.size() == 1 && !digests.contains("");
            });
        }
    }

    @Test
    void aNodeKeptDownWhileTheLogIsPurgedCatchesUpBySnapshot() throws Exception {
        Path dir = Files.createTempDirectory("flotilla-snapshot-test");
        // Small segments and frequent snapshots so the leader purges its log past the stopped node.
        Map<String, String> raft = Map.of("snapshot_every", "200", "segment_size_bytes", "32768", "purge_gap", "16");
        try (LocalCluster cluster = new LocalCluster(3, dir, raft)) {
            cluster.startAll();
            cluster.awaitHealthy(Duration.ofSeconds(90));
            String leaderId = cluster.awaitLeader(Duration.ofSeconds(60));
            Member down = cluster.members().stream().filter(m -> !m.id.equals(leaderId)).findFirst().orElseThrow();
            cluster.kill(down);
            long downAt = lastLogIndexOnDisk(down);

            Member leader = cluster.member(leaderId);
            for (int i = 0; i < 1200; i++) {
                Member via = cluster.members().stream().filter(Member::alive).toList().get(i % 2);
                Response r = cluster.sendOrThrow(via, "POST", "/vms", create("bulk-" + i), JSON);
                assertEquals(202, r.status(), r.text());
            }
            long firstOnLeader = Eventually.await("the leader to purge its log past " + down.id + "'s last index " + downAt,
                    Duration.ofSeconds(120), () -> {
                        long first = firstLogIndexOnDisk(cluster.member(cluster.awaitLeader(Duration.ofSeconds(30))));
                        return first > downAt + 1 ? first : null;
                    });
            cluster.start(down);
            cluster.awaitHealthy(Duration.ofSeconds(90));
            Eventually.await(down.id + " to catch up (its log ended at " + downAt + ", the leader's begins at " + firstOnLeader + ")",
                    Duration.ofSeconds(120), () -> {
                        String d = cluster.digestOf(down);
                        return !d.isEmpty() && d.equals(cluster.digestOf(leader));
                    });
            Response one = cluster.sendOrThrow(down, "GET", "/vms/bulk-1199", null, Map.of());
            assertEquals(200, one.status(), one.text());
        }
    }

    /** Ratis names segments log_START-END (closed) and log_inprogress_START (open). */
    private static long[] logRange(Member m) throws IOException {
        long first = Long.MAX_VALUE;
        long last = -1;
        try (Stream<Path> files = Files.walk(m.dir.resolve("data").resolve("raft"))) {
            for (Path p : files.toList()) {
                String n = p.getFileName().toString();
                if (n.startsWith("log_inprogress_")) {
                    long s = Long.parseLong(n.substring("log_inprogress_".length()));
                    first = Math.min(first, s);
                    last = Math.max(last, s);
                } else if (n.startsWith("log_") && n.contains("-")) {
                    String[] se = n.substring(4).split("-");
                    first = Math.min(first, Long.parseLong(se[0]));
                    last = Math.max(last, Long.parseLong(se[1]));
                }
            }
        }
        return new long[] {first, last};
    }

    private static long firstLogIndexOnDisk(Member m) {
        try {
            return logRange(m)[0];
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
    }

    private static long lastLogIndexOnDisk(Member m) throws IOException {
        return logRange(m)[1];
    }
}
