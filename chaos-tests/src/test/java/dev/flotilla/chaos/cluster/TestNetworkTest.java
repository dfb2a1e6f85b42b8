package dev.flotilla.chaos.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The namespace plumbing on its own, with a trivial HTTP server (python3 -m http.server) in place of a
 * node: reachability from the host, partitions, pause, kill, and a clean teardown. Needs root.
 */
@Tag("netns")
class TestNetworkTest {
    private static final List<String> NODES = List.of("n1", "n2", "n3");
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofMillis(500)).build();

    private boolean hostReaches(String ip) {
        try {
            HttpResponse<Void> r = http.send(HttpRequest.newBuilder(URI.create("http://" + ip + ":8088/"))
                    .timeout(Duration.ofMillis(1000)).build(), HttpResponse.BodyHandlers.discarding());
            return r.statusCode() == 200;
        } catch (Exception e) {
            return false;
        }
    }

    private static boolean nodeReaches(TestNetwork net, String from, String to) {
        return Command.run(net.inNamespace(from, List.of("curl", "-s", "-o", "/dev/null", "-m", "1",
                "http://" + net.ip(to) + ":8088/")), 5000).ok();
    }

    @Test
    void namespacesCarryTrafficPartitionsCutItAndTeardownLeavesNothing() throws Exception {
        List<Process> servers = new ArrayList<>();
        try (TestNetwork net = TestNetwork.create(NODES, 60_000)) {
            for (String id : NODES) {
                servers.add(new ProcessBuilder(net.inNamespace(id, List.of("/usr/bin/python3", "-m", "http.server",
                        "--bind", net.ip(id), "8088"))).redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start());
            }
            for (String id : NODES) {
                Poll.until("the host reaches " + id, 20_000, () -> hostReaches(net.ip(id)));
            }
            assertTrue(nodeReaches(net, "n1", "n2"), "n1 should reach n2 through the bridge");

            net.partition(List.of("n1"), List.of("n2", "n3"));
            assertEquals(4, net.rules().size(), "two DROP rules on n1, one on n2 and n3: " + net.rules());
            assertFalse(nodeReaches(net, "n1", "n2"), "n1 is isolated from n2");
            assertFalse(nodeReaches(net, "n3", "n1"), "n3 is isolated from n1");
            assertTrue(nodeReaches(net, "n2", "n3"), "the majority still talks");
            assertTrue(hostReaches(net.ip("n1")), "clients still reach the isolated node");

            net.heal();
            assertTrue(net.rules().isEmpty());
            assertTrue(nodeReaches(net, "n1", "n2"), "healed");

            // One way: n2 drops what comes from n1, so n1 -> n2 fails while the host still gets through.
            net.drop("n2", List.of("n1"));
            assertFalse(nodeReaches(net, "n1", "n2"));
            assertTrue(hostReaches(net.ip("n2")));
            net.heal();

            net.signal("n2", "STOP");
            assertFalse(hostReaches(net.ip("n2")), "a paused server answers nothing");
            net.signal("n2", "CONT");
            Poll.until("n2 answers again after SIGCONT", 10_000, () -> hostReaches(net.ip("n2")));

            net.signal("n3", "KILL");
            Poll.until("n3's namespace is empty after SIGKILL", 10_000, () -> net.pids("n3").isEmpty());
            assertFalse(hostReaches(net.ip("n3")));
        } finally {
            servers.forEach(Process::destroyForcibly);
        }
        String namespaces = Command.check(List.of("ip", "netns", "list"), 5000).stdout();
        assertFalse(namespaces.contains(TestNetwork.PREFIX), "namespaces left behind: " + namespaces);
        assertFalse(Command.run(List.of("ip", "link", "show", "fltchaos0"), 5000).ok(), "host link left behind");
        for (Process p : servers) {
            assertFalse(p.isAlive(), "a server outlived the network");
        }
    }

    @Test
    void leftoversOfACrashedRunAreRemovedAtStart() {
        // What a run killed mid-way leaves: a namespace with a process in it.
        Command.check(List.of("ip", "netns", "add", TestNetwork.PREFIX + "n1"), 5000);
        Command.check(List.of("ip", "netns", "add", TestNetwork.PREFIX + "hub"), 5000);
        try (TestNetwork net = TestNetwork.create(NODES, 60_000)) {
            assertEquals(NODES, net.nodeIds());
        }
        assertFalse(Command.check(List.of("ip", "netns", "list"), 5000).stdout().contains(TestNetwork.PREFIX));
    }
}
