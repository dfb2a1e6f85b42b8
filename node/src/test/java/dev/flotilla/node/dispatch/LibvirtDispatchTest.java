package dev.flotilla.node.dispatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.flotilla.node.cluster.Eventually;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * A node whose config lists libvirt runs libvirt VMs through the agent, against libvirt's built-in
 * test:///default driver (no hypervisor here; the driver keeps domains in the node's memory).
 */
class LibvirtDispatchTest {
    private static final Duration WAIT = Duration.ofSeconds(90);

    @Test
    void aLibvirtVmIsPlacedOnANodeOfferingLibvirtAndRuns() throws Exception {
        try (DispatchCluster dc = new DispatchCluster(1, "flotilla-libvirt",
                "backends: [process, libvirt]\nlibvirt: {uri: \"test:///default\"}")) {
            dc.startAndAwaitRegistered();
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
