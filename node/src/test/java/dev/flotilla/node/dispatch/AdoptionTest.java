package dev.flotilla.node.dispatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.flotilla.node.cluster.Eventually;
import dev.flotilla.node.cluster.LocalCluster.Member;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * One real node (always its own leader, so never declared down): killed with SIGKILL and restarted, its
 * agent adopts the VMs it finds running (the very same processes), restarts a service that died
 * meanwhile, and reports a job that ended while it was away without running it again.
 */
class AdoptionTest {
    private static final Duration WAIT = Duration.ofSeconds(90);

    @Test
    void aRestartedAgentAdoptsWhatRunsAndDoesNotRerunAFinishedJob() throws Exception {
        try (DispatchCluster dc = new DispatchCluster(1, "flotilla-adopt", "")) {
            dc.startAndAwaitRegistered();
            Member node = dc.cluster.members().get(0);
            for (String id : new String[] {"keep-1", "keep-2", "dies"}) {
                assertEquals(202, dc.send("POST", "/vms", "{\"job_id\":\"" + id + "\",\"spec\":{\"runtime\":\"process\","
                        + "\"cmd\":[\"sleep\",\"3600\"]}}").status());
            }
            assertEquals(202, dc.send("POST", "/vms", "{\"job_id\":\"short-job\",\"spec\":{\"runtime\":\"process\","
                    + "\"cmd\":[\"sh\",\"-c\",\"sleep 3; exit 4\"],\"lifecycle\":\"job\"}}").status());
            Map<String, Long> before = Eventually.await("four VMs running as processes", WAIT, () -> {
                Map<String, Long> p = HostProcesses.under(dc.processDir(node));
                boolean running = dc.vms().stream().allMatch(v -> v.path("observed").asText().equals("running"));
                return p.size() == 4 && running ? p : null;
            });

            dc.cluster.kill(node);
            // While the node is away: one service dies, and the job comes to its end.
            ProcessHandle.of(before.get("dies")).ifPresent(ProcessHandle::destroyForcibly);
            Eventually.await("the job's process ended", WAIT, () -> !HostProcesses.under(dc.processDir(node)).containsKey("short-job"));
            // Something on this host the agent did not make: it must survive the restarted agent's clean-up.
            java.nio.file.Path foreign = dc.processDir(node).resolve("operator-vm");
            java.nio.file.Files.createDirectories(foreign.resolve("work"));
            dc.cluster.start(node);
            dc.cluster.awaitHealthy(WAIT);

            JsonNode job = Eventually.await("the job reported ended", WAIT, () -> {
                JsonNode v = dc.vm("short-job");
                return v != null && v.path("observed").asText().equals("exited") ? v : null;
            });
            assertTrue(job.path("reason").asText().contains("not watching"), "its exit code is unknown, and says so: " + job);
            Map<String, Long> after = Eventually.await("the services running again", WAIT, () -> {
                Map<String, Long> p = HostProcesses.under(dc.processDir(node));
                boolean running = dc.vms().stream().filter(v -> !v.path("id").asText().equals("short-job"))
                        .allMatch(v -> v.path("observed").asText().equals("running"));
                return p.containsKey("dies") && running ? p : null;
            });
            assertEquals(before.get("keep-1"), after.get("keep-1"), "keep-1 adopted: the same process, not a new one");
            assertEquals(before.get("keep-2"), after.get("keep-2"), "keep-2 adopted: the same process, not a new one");
            assertTrue(!after.containsKey("short-job"), "a finished job is not run again: " + after);
            assertTrue(java.nio.file.Files.isDirectory(foreign), "a VM the agent did not make is left alone");

            // A drain is an operator's decision: the node's own registration at restart keeps it.
            assertEquals(200, dc.send("POST", "/nodes/n1/drain", null).status());
            long drainedAt = dc.nodes().get(0).path("updated_ms").asLong();
            dc.cluster.kill(node);
            dc.cluster.start(node);
            dc.cluster.awaitHealthy(WAIT);
            JsonNode again = Eventually.await("n1 registered again", WAIT, () -> {
                JsonNode n = dc.nodes().get(0);
                return n.path("updated_ms").asLong() > drainedAt ? n : null;
            });
            assertTrue(again.path("drained").asBoolean(), "still drained after the restart: " + again);
        }
    }
}
