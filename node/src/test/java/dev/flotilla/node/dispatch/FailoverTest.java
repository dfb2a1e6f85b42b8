package dev.flotilla.node.dispatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.flotilla.node.cluster.Eventually;
import dev.flotilla.node.cluster.LocalCluster.Member;
import dev.flotilla.node.cluster.LocalCluster.Response;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Three real node processes run twelve service VMs as real host processes; one node is killed with
 * SIGKILL, its VMs come back on the others after the failure timeout, and the killed node, restarted,
 * does not keep or start the VMs that moved (fencing by epoch). A job reports its exit code.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FailoverTest {
    private static final int VMS = 12;
    private static final Duration WAIT = Duration.ofSeconds(90);
    private static DispatchCluster dc;

    @BeforeAll
    static void start() throws Exception {
        dc = new DispatchCluster(3, "flotilla-failover", "node_down_after_ms: 3000");
        dc.startAndAwaitRegistered();
    }

    @AfterAll
    static void stop() {
        if (dc != null) dc.close();
    }

    private static String id(int i) {
        return String.format("svc-%02d", i);
    }

    /** VM id -> node, once every one of the twelve is observed running. */
    private static Map<String, String> awaitAllRunning(String what) {
        return Eventually.await(what, WAIT, () -> {
            List<JsonNode> vms = dc.vms().stream().filter(v -> v.path("id").asText().startsWith("svc-")).toList();
            if (vms.size() != VMS || !vms.stream().allMatch(v -> v.path("observed").asText().equals("running"))) return null;
            return vms.stream().collect(Collectors.toMap(v -> v.path("id").asText(), v -> v.path("node").asText(), (a, b) -> a, TreeMap::new));
        });
    }

    @Test
    @Order(1)
    void twelveServicesRunAsRealProcessesSpreadOverTheNodes() {
        for (int i = 1; i <= VMS; i++) {
            Response r = dc.send("POST", "/vms", "{\"job_id\":\"" + id(i) + "\",\"tenant\":\"shop\",\"spec\":{\"runtime\":\"process\","
                    + "\"cmd\":[\"sleep\",\"3600\"],\"lifecycle\":\"service\"}}");
            assertEquals(202, r.status(), r.text());
        }
        Map<String, String> placed = awaitAllRunning("12 service VMs observed running" + "");
        for (Member m : dc.cluster.members()) {
            Map<String, Long> procs = HostProcesses.under(dc.processDir(m));
            List<String> expected = placed.entrySet().stream().filter(e -> e.getValue().equals(m.id)).map(Map.Entry::getKey).sorted().toList();
            assertEquals(expected, List.copyOf(procs.keySet()),
                    "the VMs the registry places on " + m.id + " must be exactly the processes running under its state dir" + dc.logs());
            assertTrue(expected.size() >= 2, "one tenant's VMs are spread: " + placed);
        }
    }

    @Test
    @Order(2)
    void aKilledNodesServicesComeBackOnTheOthersAndItDoesNotRunThemAfterItsRestart() throws Exception {
        Map<String, String> before = awaitAllRunning("12 VMs running before the kill");
        String leader = dc.cluster.awaitLeader(WAIT);
        Member victim = dc.cluster.members().stream().filter(m -> !m.id.equals(leader)).findFirst().orElseThrow();
        List<String> moved = before.entrySet().stream().filter(e -> e.getValue().equals(victim.id)).map(Map.Entry::getKey).toList();
        Map<String, Long> epochs = new TreeMap<>();
        for (String id : moved) epochs.put(id, dc.vm(id).path("epoch").asLong());
        assertTrue(!moved.isEmpty(), "the victim " + victim.id + " hosts some VMs: " + before);

        dc.cluster.kill(victim);
        Eventually.await(victim.id + " declared down", WAIT, () -> dc.nodes().stream()
                .anyMatch(n -> n.path("id").asText().equals(victim.id) && n.path("state").asText().equals("down")));
        Map<String, String> after = Eventually.await("the victim's VMs running elsewhere", WAIT, () -> {
            Map<String, String> now = awaitAllRunning("all running");
            return now.values().stream().noneMatch(victim.id::equals) ? now : null;
        });
        for (String id : moved) {
            assertTrue(dc.vm(id).path("epoch").asLong() > epochs.get(id), id + " was moved by a newer Assign");
            Member host = dc.cluster.member(after.get(id));
            Eventually.await(id + " runs as a process on " + host.id, WAIT, () -> HostProcesses.under(dc.processDir(host)).containsKey(id));
        }

        dc.cluster.start(victim);
        Eventually.await(victim.id + " up again", WAIT, () -> dc.nodes().stream()
                .anyMatch(n -> n.path("id").asText().equals(victim.id) && n.path("state").asText().equals("up")));
        // Its old processes survived the SIGKILL (as VMs outlive a crashed agent); the restarted agent
        // finds them, sees that newer Assigns moved them, and removes them instead of adopting them.
        Eventually.await("no process of the moved VMs under " + victim.id + "'s state dir", WAIT,
                () -> HostProcesses.under(dc.processDir(victim)).isEmpty());
        Map<String, String> end = awaitAllRunning("all running after the restart");
        for (String id : moved) assertNotEquals(victim.id, end.get(id), id + " stays where it was moved");
        assertEquals(Map.of(), HostProcesses.under(dc.processDir(victim)), "nothing was started again on " + victim.id);
    }

    @Test
    @Order(3)
    void aJobReportsItsExitCode() {
        Response r = dc.send("POST", "/vms", "{\"job_id\":\"job-7\",\"spec\":{\"runtime\":\"process\","
                + "\"cmd\":[\"sh\",\"-c\",\"echo done; exit 7\"],\"lifecycle\":\"job\"}}");
        assertEquals(202, r.status(), r.text());
        JsonNode done = Eventually.await("job-7 exited", WAIT, () -> {
            JsonNode v = dc.vm("job-7");
            return v != null && v.path("observed").asText().equals("exited") ? v : null;
        });
        assertEquals(7, done.path("exit_code").asInt(), done.toString());
    }
}
