package dev.flotilla.node.dispatch;

import dev.flotilla.node.cluster.Cli;

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
class DispatchTest {
    private static final int VMS = 12;
    private static final Duration WAIT = Duration.ofSeconds(90);
    private static DispatchCluster dc;

    @BeforeAll
    static void start() throws Exception {
        // Room for everything on two nodes: the leader-failure test at the end leaves two.
        dc = new DispatchCluster(3, "flotilla-dispatch", "node_down_after_ms: 3000\ncapacity: {vcpu: 32, mem_mb: 65536}");
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
        // Reports only on change: one (running) per VM here, not one per agent pass.
        String metrics = dc.send("GET", "/metrics", null).text();
        double reports = metrics.lines().filter(l -> l.startsWith("flotilla_commits_total{command=\"report_status\"}"))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
        assertTrue(reports >= VMS && reports <= 2 * VMS, "report_status commits: " + reports + " for " + VMS + " VMs");
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

        // A service that crashes is restarted with backoff, and each end is reported with its exit code.
        assertEquals(202, dc.send("POST", "/vms", "{\"job_id\":\"crashy\",\"spec\":{\"runtime\":\"process\","
                + "\"cmd\":[\"sh\",\"-c\",\"exit 3\"]}}").status());
        JsonNode crashed = Eventually.await("crashy reported ended with a restart planned", WAIT, () -> {
            JsonNode v = dc.vm("crashy");
            return v != null && v.path("observed").asText().equals("exited") && v.path("reason").asText().contains("restarting in") ? v : null;
        });
        assertEquals(3, crashed.path("exit_code").asInt(), crashed.toString());
        Member host = dc.cluster.member(crashed.path("node").asText());
        assertEquals(200, dc.send("DELETE", "/vms/crashy", null).status());
        Eventually.await("crashy's directory removed from " + host.id, WAIT,
                () -> !java.nio.file.Files.exists(dc.processDir(host).resolve("crashy")));
    }

    private static List<String> servers() {
        return dc.cluster.members().stream().filter(Member::alive).map(Member::apiAddress).toList();
    }

    @Test
    @Order(4)
    void drainMovesServicesOffANodeAndUndrainLetsItTakeVmsAgain() {
        Map<String, String> before = awaitAllRunning("all running before the drain");
        String leader = dc.cluster.awaitLeader(WAIT);
        // Not the leader: its services must stay put for the leader-failure test that follows.
        String target = before.values().stream().filter(n -> !n.equals(leader)).sorted().findFirst().orElseThrow();
        Cli.Run drain = Cli.run(servers(), "node", "drain", target);
        assertEquals(0, drain.code(), drain.toString());
        Map<String, String> after = Eventually.await("no service left on drained " + target, WAIT, () -> {
            Map<String, String> now = awaitAllRunning("all running");
            return now.containsValue(target) ? null : now;
        });
        assertEquals(VMS, after.size());
        Cli.Run list = Cli.run(servers(), "node", "list");
        assertEquals(0, list.code(), list.toString());
        String row = list.out().lines().filter(l -> l.startsWith(target + " ")).findFirst().orElseThrow(() -> new AssertionError(list.toString()));
        assertTrue(row.contains("yes") && row.contains(" 0 "), "drained, no VMs: " + row);
        Eventually.await("no process left under drained " + target, WAIT,
                () -> HostProcesses.under(dc.processDir(dc.cluster.member(target))).isEmpty());
        Cli.Run undrain = Cli.run(servers(), "node", "undrain", target);
        assertEquals(0, undrain.code(), undrain.toString());
        assertTrue(dc.nodes().stream().anyMatch(n -> n.path("id").asText().equals(target) && !n.path("drained").asBoolean()));
        assertEquals(1, Cli.run(servers(), "node", "drain", "no-such-node").code(), "an unknown node is refused");
    }

    @Test
    @Order(5)
    void applyDeclaresVmsFromAFileWithPlanPruneAndWait() throws Exception {
        java.nio.file.Path file = dc.cluster.root().resolve("vms.yaml");
        java.nio.file.Files.writeString(file, """
                vms:
                  - job_id: app-1
                    tenant: blog
                    spec: {runtime: process, cmd: [sleep, "3600"]}
                  - job_id: app-2
                    tenant: blog
                    spec: {runtime: process, cmd: [sleep, "3600"]}
                """);
        Cli.Run applied = Cli.run(servers(), "apply", "-f", file.toString(), "--wait", "--timeout", "90");
        assertEquals(0, applied.code(), applied.toString());
        assertTrue(applied.out().contains("plan: 2 to create, 0 to update, 0 to delete, 0 unchanged"), applied.toString());
        assertTrue(applied.out().contains("2/2 in their desired state"), applied.toString());
        assertEquals("running", dc.vm("app-1").path("observed").asText());

        java.nio.file.Files.writeString(file, """
                vms:
                  - job_id: app-1
                    tenant: blog
                    spec: {runtime: process, cmd: [sleep, "3600"]}
                """);
        long version = dc.vm("app-2").path("version").asLong();
        Cli.Run dry = Cli.run(servers(), "apply", "-f", file.toString(), "--prune", "--dry-run");
        assertEquals(0, dry.code(), dry.toString());
        assertTrue(dry.out().contains("plan: 0 to create, 0 to update, 1 to delete, 1 unchanged"), dry.toString());
        assertTrue(dry.out().lines().anyMatch(l -> l.startsWith("delete") && l.contains("app-2")), dry.toString());
        assertEquals(version, dc.vm("app-2").path("version").asLong(), "a dry run changes nothing");

        java.nio.file.Files.writeString(file, """
                vms:
                  - job_id: app-1
                    tenant: blog
                    spec: {runtime: process, cmd: [sleep, "60"]}
                  - job_id: app-3
                    tenant: blog
                    spec: {runtime: process, cmd: [sleep, "1"], resources: {vcpu: 500}}
                """);
        Cli.Run bad = Cli.run(servers(), "apply", "-f", file.toString(), "--prune");
        assertEquals(2, bad.code(), bad.toString());
        assertTrue(bad.err().contains("line 5") && bad.err().contains("spec.resources.vcpu") && bad.err().contains("nothing was applied"), bad.toString());
        assertEquals(null, dc.vm("app-3"), "nothing of a bad file is applied");
        assertEquals("[\"sleep\",\"3600\"]", dc.vm("app-1").path("spec").path("cmd").toString(), "not even its good entries");
        assertTrue(dc.vm("app-2") != null, "and nothing pruned");

        java.nio.file.Files.writeString(file, """
                vms:
                  - job_id: app-1
                    tenant: blog
                    spec: {runtime: process, cmd: [sleep, "3600"]}
                """);
        Cli.Run pruned = Cli.run(servers(), "apply", "-f", file.toString(), "--prune", "--wait", "--timeout", "90");
        assertEquals(0, pruned.code(), pruned.toString());
        assertEquals(null, dc.vm("app-2"), "pruned");
        assertTrue(dc.vm("svc-01") != null, "other tenants are never pruned");
    }

    @Test
    @Order(6)
    void statsListsJobsInTheShapeUsersKnow() {
        Response r = dc.send("GET", "/stats", null);
        assertEquals(200, r.status(), r.text());
        JsonNode b = r.body();
        assertEquals(b.path("jobs").size(), b.path("summary").path("total_jobs").asInt());
        assertEquals(b.path("warm_pool").size(), b.path("summary").path("total_warm").asInt());
        JsonNode svc = null;
        for (JsonNode j : b.path("jobs")) if (j.path("job_id").asText().equals("svc-01")) svc = j;
        assertTrue(svc != null, r.text());
        for (String f : List.of("job_id", "vm_id", "tenant", "status", "node", "spec")) assertTrue(svc.has(f), f + " in " + svc);
        assertEquals("running", svc.path("status").asText());
        assertEquals("process", svc.path("spec").path("runtime").asText());
    }

    @Test
    @Order(7)
    void aWarmVmIsClaimedRunningWith201AndThePoolRefills() {
        String shape = "\"runtime\":\"process\",\"cmd\":[\"sleep\",\"3601\"]";
        Response decl = dc.send("POST", "/vms", "{\"job_id\":\"pool-decl\",\"spec\":{" + shape + ",\"warm_pool\":{\"min\":1,\"max\":2}}}");
        assertEquals(202, decl.status(), decl.text());
        JsonNode warm = Eventually.await("a running warm VM in GET /stats", WAIT, () -> runningWarm(null));

        Response claim = dc.send("POST", "/vms", "{\"job_id\":\"fast-1\",\"tenant\":\"games\",\"spec\":{" + shape + "}}");
        assertEquals(201, claim.status(), claim.text());
        assertEquals("running", claim.body().path("observed").asText(), "claimed already running: " + claim.text());
        assertEquals(warm.path("vm_id").asText(), claim.body().path("vm_id").asText(), claim.text());
        Member host = dc.cluster.member(claim.body().path("node").asText());
        assertTrue(HostProcesses.under(dc.processDir(host)).containsKey(warm.path("vm_id").asText()),
                "the claimed machine's process runs on " + host.id + " at once");

        JsonNode refill = Eventually.await("the pool refilled with another running warm VM", WAIT,
                () -> runningWarm(warm.path("vm_id").asText()));
        assertNotEquals(warm.path("vm_id").asText(), refill.path("vm_id").asText());
        JsonNode fast = dc.vm("fast-1");
        assertEquals("running", fast.path("observed").asText(), "the claimed VM keeps running: " + fast);
        assertEquals(warm.path("vm_id").asText(), fast.path("vm_id").asText());

        Response cold = dc.send("POST", "/vms", "{\"job_id\":\"cold-1\",\"spec\":{\"runtime\":\"process\",\"cmd\":[\"sleep\",\"3602\"]}}");
        assertEquals(202, cold.status(), "no warm VM of that shape: a cold create: " + cold.text());
    }

    private static JsonNode runningWarm(String except) {
        Response r = dc.send("GET", "/stats", null);
        for (JsonNode w : r.body().path("warm_pool")) {
            if (w.path("status").asText().equals("running") && !w.path("vm_id").asText().equals(except)) return w;
        }
        return null;
    }

    @Test
    @Order(8)
    void whenTheLeaderIsKilledTheNewLeaderDeclaresItDownAndMovesItsServices() throws Exception {
        Map<String, String> before = awaitAllRunning("all running before the leader dies");
        String leader = dc.cluster.awaitLeader(WAIT);
        List<String> onLeader = before.entrySet().stream().filter(e -> e.getValue().equals(leader)).map(Map.Entry::getKey).toList();
        assertTrue(!onLeader.isEmpty(), "the leader " + leader + " hosts some services: " + before);
        dc.cluster.kill(dc.cluster.member(leader));
        String next = dc.cluster.awaitLeader(WAIT);
        assertNotEquals(leader, next);
        Eventually.await("the old leader " + leader + " declared down by " + next, WAIT, () -> dc.nodes().stream()
                .anyMatch(n -> n.path("id").asText().equals(leader) && n.path("state").asText().equals("down")));
        Map<String, String> after = Eventually.await("the old leader's services running elsewhere", WAIT, () -> {
            Map<String, String> now = awaitAllRunning("all running");
            return now.containsValue(leader) ? null : now;
        });
        for (String id : onLeader) {
            Member host = dc.cluster.member(after.get(id));
            Eventually.await(id + " runs as a process on " + host.id, WAIT, () -> HostProcesses.under(dc.processDir(host)).containsKey(id));
        }
    }
}
