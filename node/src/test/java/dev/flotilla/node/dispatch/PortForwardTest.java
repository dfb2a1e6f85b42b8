package dev.flotilla.node.dispatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.flotilla.node.cluster.Eventually;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * On a real node process: a process VM's guest port is reachable on its host port (loopback only) while
 * it runs and not after it is stopped; a stop that takes a while is observed as {@code stopping} first.
 */
class PortForwardTest {
    private static final Duration WAIT = Duration.ofSeconds(90);
    private static DispatchCluster dc;

    @BeforeAll
    static void start() throws Exception {
        // A 4 s grace between SIGTERM and SIGKILL makes a stop of a VM that ignores SIGTERM last that long.
        dc = new DispatchCluster(1, "flotilla-ports", "forward_bind_address: 127.0.0.1\nprocess: {stop_grace_ms: 4000}");
        dc.startAndAwaitRegistered();
    }

    @AfterAll
    static void stop() {
        if (dc != null) dc.close();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** What the VM behind the port answers, or the connection's failure. */
    private static String ask(int port) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(5000);
            s.shutdownOutput();
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        }
    }

    private static JsonNode awaitObserved(String id, String state) {
        return Eventually.await(id + " observed " + state, WAIT, () -> {
            JsonNode v = dc.vm(id);
            return v != null && v.path("observed").asText().equals(state) ? v : null;
        });
    }

    @Test
    void aGuestPortIsReachableOnItsHostPortWhileTheVmRunsAndNotAfterItStops() throws Exception {
        int guest = freePort();
        int host = freePort();
        // The "guest": a server on 127.0.0.1:guest that answers every connection with one line.
        String body = "{\"job_id\":\"rcon-1\",\"tenant\":\"games\",\"spec\":{\"runtime\":\"process\","
                + "\"cmd\":[\"socat\",\"TCP-LISTEN:" + guest + ",bind=127.0.0.1,fork,reuseaddr\",\"SYSTEM:echo rcon-ok\"],"
                + "\"ports\":[{\"host\":" + host + ",\"guest\":" + guest + ",\"proto\":\"tcp\"}]}}";
        assertEquals(202, dc.send("POST", "/vms", body).status());
        awaitObserved("rcon-1", "running");

        String answer = Eventually.await("an answer through host port " + host, WAIT, () -> {
            try {
                String a = ask(host);
                return a.isEmpty() ? null : a;
            } catch (IOException e) {
                return null;
            }
        });
        assertEquals("rcon-ok", answer);
        assertEquals("rcon-ok", ask(guest), "the guest port itself answers the same");

        assertEquals(202, dc.send("POST", "/vms/rcon-1/stop", null).status());
        awaitObserved("rcon-1", "stopped");
        Eventually.await("host port " + host + " closed after the stop", WAIT, () -> {
            try {
                ask(host);
                return false;
            } catch (ConnectException refused) {
                return true;
            } catch (IOException other) {
                return false;
            }
        });
        assertThrows(ConnectException.class, () -> ask(host), "nothing listens on the host port once the VM is stopped");

        // Started again, the forward comes back.
        assertEquals(202, dc.send("POST", "/vms/rcon-1/start", null).status());
        awaitObserved("rcon-1", "running");
        assertEquals("rcon-ok", Eventually.await("the host port answering again", WAIT, () -> {
            try {
                String a = ask(host);
                return a.isEmpty() ? null : a;
            } catch (IOException e) {
                return null;
            }
        }));
        assertTrue(dc.send("DELETE", "/vms/rcon-1", null).status() < 300);
        Eventually.await("host port " + host + " closed after the delete", WAIT, () -> {
            try {
                ask(host);
                return false;
            } catch (IOException e) {
                return e instanceof ConnectException;
            }
        });
    }

    @Test
    void aStopInProgressIsObservedAsStopping() {
        // sh ignores SIGTERM, so the stop lasts the 4 s grace until SIGKILL.
        assertEquals(202, dc.send("POST", "/vms", "{\"job_id\":\"slow-stop\",\"spec\":{\"runtime\":\"process\","
                + "\"cmd\":[\"sh\",\"-c\",\"trap '' TERM; while true; do sleep 1; done\"]}}").status());
        awaitObserved("slow-stop", "running");
        assertEquals(202, dc.send("POST", "/vms/slow-stop/stop", null).status());
        JsonNode stopping = awaitObserved("slow-stop", "stopping");
        assertTrue(stopping.path("reason").asText().contains("stopping"), stopping.toString());
        JsonNode stopped = awaitObserved("slow-stop", "stopped");
        assertEquals("stopped", stopped.path("desired").asText(), stopped.toString());
    }
}
