package dev.flotilla.node.dispatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.flotilla.node.cluster.Eventually;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * What a node's config brings to dispatch: a node listing libvirt runs libvirt VMs through the agent,
 * against libvirt's built-in test:///default driver (no hypervisor here; the driver keeps domains in
 * the node's memory); a desired_file is applied once the node has registered.
 */
class NodeConfigDispatchTest {
    private static final Duration WAIT = Duration.ofSeconds(90);

    @Test
    void libvirtVmsRunOnANodeOfferingLibvirtAndTheDesiredFileIsApplied() throws Exception {
        java.nio.file.Path desired = java.nio.file.Files.createTempFile("flotilla-desired", ".yaml");
        java.nio.file.Files.writeString(desired, "- {job_id: declared-1, tenant: ops, spec: {runtime: process, cmd: [sleep, \"3600\"]}}\n");
        try (DispatchCluster dc = new DispatchCluster(1, "flotilla-libvirt",
                "backends: [process, libvirt]\nlibvirt: {uri: \"test:///default\"}\ndesired_file: " + desired)) {
            dc.startAndAwaitRegistered();
            Eventually.await("declared-1 from the desired_file running", WAIT, () -> {
                JsonNode v = dc.vm("declared-1");
                return v != null && v.path("observed").asText().equals("running") && v.path("tenant").asText().equals("ops");
            });
            JsonNode node = dc.nodes().get(0);
            assertTrue(node.path("backends").toString().contains("libvirt"), "the node offers libvirt: " + node);
            assertEquals(202, dc.send("POST", "/vms", "{\"job_id\":\"lv-1\",\"spec\":{\"runtime\":\"libvirt\","
                    + "\"kernel\":\"/boot/vmlinuz\",\"rootfs\":\"/var/lib/flotilla/rootfs.cpio.gz\",\"resources\":{\"mem_mb\":128}}}").status());
            JsonNode running = Eventually.await("lv-1 running", WAIT, () -> {
                JsonNode v = dc.vm("lv-1");
                return v != null && v.path("observed").asText().equals("running") ? v : null;
            });
            assertEquals("n1", running.path("node").asText());
            assertEquals(202, dc.send("POST", "/vms/lv-1/stop", null).status());
            Eventually.await("lv-1 stopped", WAIT, () -> {
                JsonNode v = dc.vm("lv-1");
                return v != null && v.path("observed").asText().equals("stopped");
            });
        }
    }
}
