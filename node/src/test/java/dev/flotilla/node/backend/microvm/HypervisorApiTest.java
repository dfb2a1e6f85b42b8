package dev.flotilla.node.backend.microvm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import org.junit.jupiter.api.Test;

/**
 * Parsing of cloud-hypervisor's and firecracker's API replies. Both hypervisors need KVM, which this
 * machine lacks, so their sockets cannot be served for real here: these replies are written after
 * their API documentation (cloud-hypervisor's vm.info, firecracker's InstanceInfo).
 */
class HypervisorApiTest {

    private static String http(String status, String body) {
        return "HTTP/1.1 " + status + "\r\nContent-Type: application/json\r\nContent-Length: " + body.length()
                + "\r\n\r\n" + body;
    }

    @Test
    void cloudHypervisorVmInfoState() throws IOException {
        String body = "{\"config\":{\"cpus\":{\"boot_vcpus\":1}},\"state\":\"Running\",\"memory_actual_size\":134217728}";
        GuestState g = HypervisorApi.cloudHypervisorState(HypervisorApi.parse(http("200 OK", body)));
        assertEquals(GuestState.Phase.RUNNING, g.phase());
        assertEquals(GuestState.Phase.BOOTING,
                HypervisorApi.cloudHypervisorState(HypervisorApi.parse(http("200 OK", "{\"state\":\"Created\"}"))).phase());
        assertEquals(GuestState.Phase.SHUT_DOWN,
                HypervisorApi.cloudHypervisorState(HypervisorApi.parse(http("200 OK", "{\"state\":\"Shutdown\"}"))).phase());
    }

    @Test
    void firecrackerInstanceInfoState() throws IOException {
        String body = "{\"id\":\"anonymous-instance\",\"state\":\"Not started\",\"vmm_version\":\"1.7.0\",\"app_name\":\"Firecracker\"}";
        assertEquals(GuestState.Phase.BOOTING, HypervisorApi.firecrackerState(HypervisorApi.parse(http("200 OK", body))).phase());
        String first = "{\"state\":\"Runni";
        String second = "ng\"}";
        String chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                + Integer.toHexString(first.length()) + "\r\n" + first + "\r\n"
                + Integer.toHexString(second.length()) + "\r\n" + second + "\r\n0\r\n\r\n";
        assertEquals(GuestState.Phase.RUNNING, HypervisorApi.firecrackerState(HypervisorApi.parse(chunked)).phase());
    }

    @Test
    void errorsNameTheHypervisorAndItsAnswer() {
        IOException notRunning = assertThrows(IOException.class, () -> HypervisorApi.cloudHypervisorState(
                HypervisorApi.parse(http("500 Internal Server Error", "{\"error\":\"VM is not created\"}"))));
        assertTrue(notRunning.getMessage().contains("cloud-hypervisor vm.info answered HTTP 500")
                && notRunning.getMessage().contains("VM is not created"), notRunning.getMessage());
        IOException garbage = assertThrows(IOException.class, () -> HypervisorApi.parse("SSH-2.0-OpenSSH\r\n"));
        assertTrue(garbage.getMessage().contains("not an HTTP reply"), garbage.getMessage());
    }

    @Test
    void qmpStatusesMapToPhases() {
        assertEquals(GuestState.Phase.RUNNING, GuestState.fromQmp("running").phase());
        assertEquals(GuestState.Phase.BOOTING, GuestState.fromQmp("inmigrate").phase());
        assertEquals(GuestState.Phase.PAUSED, GuestState.fromQmp("suspended").phase());
        assertEquals(GuestState.Phase.FAILED, GuestState.fromQmp("internal-error").phase());
    }
}
