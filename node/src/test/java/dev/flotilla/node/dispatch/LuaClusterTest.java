package dev.flotilla.node.dispatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flotilla.node.cluster.Cli;
import dev.flotilla.node.cluster.Eventually;
import dev.flotilla.node.cluster.LocalCluster;
import dev.flotilla.node.cluster.LocalCluster.Member;
import dev.flotilla.node.cluster.LocalCluster.Response;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Lua VMs on three real node processes: created through the HTTP API, placed, started by their node's
 * agent in its tick loop, inspected from any node; packets between VMs on different nodes; files that
 * survive a node's restart and follow a VM to another node after its node is killed with SIGKILL.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LuaClusterTest {
    private static final Duration WAIT = Duration.ofSeconds(90);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static DispatchCluster dc;

    @BeforeAll
    static void start() throws Exception {
        dc = new DispatchCluster(3, "flotilla-lua", "node_down_after_ms: 3000\ncapacity: {vcpu: 64, mem_mb: 131072}");
        dc.startAndAwaitRegistered();
    }

    @AfterAll
    static void stop() {
        if (dc != null) dc.close();
    }

    // ------------------------------------------------------------------ helpers

    private static String create(String id, String source, String dnsName, String node, String lifecycle) {
        ObjectNode req = JSON.createObjectNode().put("job_id", id).put("tenant", "sim");
        ObjectNode spec = req.putObject("spec").put("runtime", "lua");
        spec.putArray("programs").addObject().put("name", id + ".lua").put("source", source);
        if (dnsName != null) spec.put("dns_name", dnsName);
        if (lifecycle != null) spec.put("lifecycle", lifecycle);
        if (node != null) spec.putObject("constraints").put("node", node);
        Response r = dc.send("POST", "/vms", req.toString());
        assertTrue(r.status() == 202 || r.status() == 201, "create " + id + ": " + r.status() + " " + r.text());
        return id;
    }

    /** The VM's record once it is observed running (with its live view when the host answered). */
    private static JsonNode awaitRunning(String id) {
        return Eventually.await(id + " observed running" , WAIT, () -> {
            JsonNode v = dc.vm(id);
            return v != null && v.path("observed").asText().equals("running") && v.has("sim") ? v : null;
        });
    }

    /** GET /vms/{id} through a node other than its host, so the live view is fetched from the host. */
    private static JsonNode viewFromElsewhere(String id, String host) {
        Member other = dc.cluster.members().stream().filter(m -> m.alive() && !m.id.equals(host)).findFirst().orElseThrow();
        Response r = dc.cluster.get(other, "/vms/" + id).orElseThrow(() -> new AssertionError(other.id + " did not answer"));
        assertEquals(200, r.status(), r.text());
        return r.body();
    }

    private static List<String> logLines(String id) {
        Response r = dc.send("GET", "/vms/" + id + "/logs", null);
        if (r.status() != 200) return List.of();
        return JSON.convertValue(r.body().path("lines"), JSON.getTypeFactory().constructCollectionType(List.class, String.class));
    }

    /** Paths and sizes the log holds for a VM (GET /vms/{id}/files, a linearizable read). */
    private static Map<String, Long> replicatedFiles(String id) {
        Response r = dc.send("GET", "/vms/" + id + "/files", null);
        if (r.status() != 200) throw new AssertionError("GET /vms/" + id + "/files: " + r.status() + " " + r.text());
        Map<String, Long> out = new TreeMap<>();
        r.body().path("files").forEach(f -> out.put(f.path("path").asText(), f.path("bytes").asLong()));
        return out;
    }

    private static double metric(Member m, String name) {
        Optional<Response> r = dc.cluster.get(m, "/metrics");
        if (r.isEmpty() || r.get().status() != 200) return -1;
        return r.get().text().lines().filter(l -> l.startsWith(name + " ")).mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
                .findFirst().orElse(-1);
    }

    private static String follower() {
        String leader = dc.cluster.awaitLeader(WAIT);
        return dc.cluster.members().stream().filter(m -> m.alive() && !m.id.equals(leader)).map(m -> m.id).findFirst().orElseThrow();
    }

    private static List<String> servers() {
        return dc.cluster.members().stream().map(Member::apiAddress).toList();
    }

    // ------------------------------------------------------------------ tests

    @Test
    @Order(1)
    void aLuaVmIsPlacedStartedByItsNodeTicksAndStopsAndIsDeleted() {
        create("ticker", """
                return {
                  on_start = function(ctx) ctx.n = 0 log("hello from " .. os.hostname() .. " at " .. os.ip()) end,
                  on_tick = function(ctx) ctx.n = ctx.n + 1 if ctx.n % 60 == 0 then log("tick " .. ctx.n) end end,
                }
                """, null, null, null);
        String leader = dc.cluster.awaitLeader(WAIT);
        JsonNode v = awaitRunning("ticker");
        String host = v.path("node").asText();
        assertNotEquals(leader, host, "the first lua VM goes to a follower, not the leader");
        Member hostNode = dc.cluster.member(host);
        JsonNode sim = v.path("sim");
        assertEquals("running", sim.path("state").asText(), v.toString());
        assertEquals(1, sim.path("processes").size(), v.toString());
        assertEquals("ticker.lua", sim.path("processes").get(0).path("program").asText());
        assertEquals(v.path("ip").asText(), sim.path("ip").asText(), "the VM runs with the address IPAM gave it");

        // Another node fetches the live view from the host; the tick counter moves on.
        long ticks = viewFromElsewhere("ticker", host).path("sim").path("counters").path("ticks").asLong();
        Eventually.await("ticker's tick count passes " + (ticks + 60), WAIT,
                () -> viewFromElsewhere("ticker", host).path("sim").path("counters").path("ticks").asLong() > ticks + 60);
        assertTrue(metric(hostNode, "flotilla_sim_vms") >= 1, "the host's /metrics counts the VM");
        double tick = metric(hostNode, "flotilla_sim_tick");
        long t0 = System.nanoTime();
        Eventually.await(host + "'s tick loop advances", WAIT, () -> metric(hostNode, "flotilla_sim_tick") > tick + 120);
        // A figure for the report, not an assertion (tests do not assert on wall time).
        System.out.printf("%s ticked %.0f times in %.2f s (target 60 per second)%n", host,
                metric(hostNode, "flotilla_sim_tick") - tick, (System.nanoTime() - t0) / 1e9);
        assertTrue(metric(hostNode, "flotilla_sim_overruns_total") >= 0, "overruns are on /metrics");

        // Logs through the CLI, from whichever node answers first.
        Eventually.await("a 'tick 60' line in ticker's log", WAIT, () -> logLines("ticker").contains("tick 60"));
        Cli.Run logs = Cli.run(servers(), "vm", "logs", "ticker");
        assertEquals(0, logs.code(), logs.toString());
        assertTrue(logs.out().contains("hello from ticker at " + v.path("ip").asText()), logs.toString());
        Cli.Run follow = Cli.run(servers(), "vm", "logs", "ticker", "--follow", "--for", "2");
        assertEquals(0, follow.code(), follow.toString());
        assertTrue(follow.out().contains("tick 60"), follow.toString());

        Response stop = dc.send("POST", "/vms/ticker/stop", null);
        assertEquals(202, stop.status(), stop.text());
        Eventually.await("ticker observed stopped and out of " + host + "'s runtime", WAIT, () -> {
            JsonNode x = dc.vm("ticker");
            return x.path("observed").asText().equals("stopped") && !x.has("sim") && metric(hostNode, "flotilla_sim_vms") == 0;
        });
        assertEquals(202, dc.send("POST", "/vms/ticker/start", null).status());
        awaitRunning("ticker");
        assertEquals(200, dc.send("DELETE", "/vms/ticker", null).status());
        Eventually.await("ticker gone from every node's runtime", WAIT, () -> dc.vm("ticker") == null
                && dc.cluster.members().stream().allMatch(m -> metric(m, "flotilla_sim_vms") == 0));
    }

    @Test
    @Order(2)
    void aLuaErrorShowsAsFailedWithItsReason() throws Exception {
        java.nio.file.Path program = java.nio.file.Files.createTempFile(dc.cluster.root(), "broken", ".lua");
        java.nio.file.Files.writeString(program, "return { on_start = function(ctx) local t = nil return t.field end }\n");
        Cli.Run created = Cli.run(servers(), "vm", "create", "--job-id", "broken", "--runtime", "lua",
                "--program", "broken.lua=" + program, "--lifecycle", "job");
        assertEquals(0, created.code(), created.toString());
        JsonNode v = Eventually.await("broken observed failed", WAIT, () -> {
            JsonNode x = dc.vm("broken");
            return x != null && x.path("observed").asText().equals("failed") ? x : null;
        });
        String reason = v.path("reason").asText();
        assertTrue(reason.contains("Lua error in pid 1 (broken.lua)") && reason.contains("attempt to index"),
                "the reason names the process and carries the Lua error: " + v);
        JsonNode proc = v.path("sim").path("processes").get(0);
        Cli.Run get = Cli.run(servers(), "vm", "get", "broken");
        assertTrue(get.out().contains("process 1") && get.out().contains("broken.lua failed"), get.toString());
        assertEquals("failed", proc.path("state").asText(), v.toString());
        assertTrue(proc.path("last_error").asText().contains("stack traceback"), "the traceback is kept: " + v);
    }

    @Test
    @Order(3)
    void twoVmsOnDifferentNodesExchangeAThousandRequestReplyPairsWithNoneLost() {
        List<String> ids = dc.cluster.members().stream().map(m -> m.id).toList();
        create("server", """
                return {
                  on_start = function() net.listen(80) return wait_packet() end,
                  on_packet = function(ctx, p) net.send(p.from, p.from_port, "re:" .. p.data) end,
                }
                """, "server.sim", ids.get(1), null);
        create("client", """
                return {
                  on_start = function(ctx) ctx.next = 1 ctx.got = {} ctx.replies = 0 ctx.ready = false net.listen(9000) end,
                  on_tick = function(ctx)
                    if not ctx.ready then
                      -- Until the server answers once (it may not be placed yet), say hello twice a second.
                      if os.time() % 30 == 0 and net.resolve("server.sim") then net.send("server.sim", 80, "hello") end
                      return
                    end
                    while ctx.next - 1 - ctx.replies < 100 do
                      if ctx.next > 1000 then return wait_packet() end
                      net.send("server.sim", 80, tostring(ctx.next))
                      ctx.next = ctx.next + 1
                    end
                  end,
                  on_packet = function(ctx, p)
                    if p.data == "re:hello" then
                      if not ctx.ready then ctx.ready = true ctx.t0 = os.time() log("handshake done") end
                      return
                    end
                    local id = tonumber(p.data:sub(4))
                    if p.data:sub(1, 3) == "re:" and id and not ctx.got[id] then
                      ctx.got[id] = true
                      ctx.replies = ctx.replies + 1
                      if ctx.replies == 1000 then
                        log("done: 1000 replies")
                        log("ticks for 1000 pairs: " .. (os.time() - ctx.t0))
                      end
                    else
                      log("unexpected " .. p.data)
                    end
                  end,
                }
                """, null, ids.get(2), null);
        JsonNode server = awaitRunning("server");
        JsonNode client = awaitRunning("client");
        assertNotEquals(server.path("node").asText(), client.path("node").asText(), "the two VMs run on different nodes");
        Eventually.await("the client's 1,000 replies", WAIT, () -> logLines("client").contains("done: 1000 replies"));
        List<String> lines = logLines("client");
        // A figure for the report, not an assertion: simulation ticks (60 per second) the 1,000 pairs took.
        lines.stream().filter(l -> l.startsWith("ticks for")).forEach(l -> System.out.println("cross-node " + l
                + " (window of 100 requests in flight)"));
        assertTrue(lines.stream().noneMatch(l -> l.startsWith("unexpected")), "every reply matched a request: " + lines);
        JsonNode c = dc.vm("client").path("sim").path("counters");
        JsonNode s = dc.vm("server").path("sim").path("counters");
        assertTrue(c.path("packets_in").asLong() >= 1001 && s.path("packets_in").asLong() >= 1001,
                "client " + c + ", server " + s);
        Member clientNode = dc.cluster.member(client.path("node").asText());
        assertTrue(metric(clientNode, "flotilla_transport_sent_total") >= 1000, "the packets crossed the inter-node transport");
        assertTrue(metric(clientNode, "flotilla_transport_received_total") >= 1000, "and came back over it");
    }

    private static final String BOOTS = """
            return {
              on_start = function(ctx)
                local n = 0
                if fs.exists("/boots") then n = tonumber(fs.read("/boots")) end
                n = n + 1
                assert(fs.write("/boots", tostring(n)))
                if not fs.exists("/data") then assert(fs.mkdir("/data")) end
                assert(fs.write("/data/note.txt", "written at boot " .. n))
                log("boot " .. n .. ", note: " .. fs.read("/data/note.txt"))
                return wait_packet()
              end,
            }
            """;

    private static Map<String, Double> committedDeltas() {
        Map<String, Double> out = new TreeMap<>();
        for (Member m : dc.cluster.members()) if (m.alive()) out.put(m.id, metric(m, "flotilla_sim_fs_deltas_committed_total"));
        return out;
    }

    @Test
    @Order(4)
    void aVmsFilesSurviveItsNodesRestart() throws Exception {
        String pinned = follower();
        Map<String, Double> before = committedDeltas();
        create("keeper", BOOTS, null, pinned, null);
        awaitRunning("keeper");
        Eventually.await("keeper's first boot", WAIT, () -> logLines("keeper").contains("boot 1, note: written at boot 1"));
        Member host = dc.cluster.member(pinned);
        Eventually.await("keeper's files committed through the log by " + pinned, WAIT,
                () -> replicatedFiles("keeper").keySet().containsAll(List.of("/boots", "/data/note.txt")));
        assertTrue(metric(host, "flotilla_sim_fs_deltas_committed_total") > before.get(pinned), "the host counts its deltas");
        assertTrue(metric(host, "flotilla_sim_fs_bytes_total") > 0 && metric(host, "flotilla_sim_fs_batches_total") >= 1);

        dc.cluster.kill(host);
        dc.cluster.start(host);
        Eventually.await("keeper boots again on " + pinned + " with its files", WAIT, () -> {
            JsonNode v = dc.vm("keeper");
            return v != null && v.path("node").asText().equals(pinned) && logLines("keeper").contains("boot 2, note: written at boot 2");
        });
        JsonNode v = dc.vm("keeper");
        assertTrue(v.path("sim").path("counters").path("fs_bytes").asLong() > 0, v.toString());
    }

    @Test
    @Order(5)
    void aVmsFilesFollowItToAnotherNodeAfterItsNodeIsKilled() throws Exception {
        dc.cluster.awaitHealthy(WAIT);
        create("mover", BOOTS, null, null, null);
        String first = awaitRunning("mover").path("node").asText();
        Eventually.await("mover's first boot", WAIT, () -> logLines("mover").contains("boot 1, note: written at boot 1"));
        Member victim = dc.cluster.member(first);
        Eventually.await("mover's files committed through the log by " + first, WAIT,
                () -> replicatedFiles("mover").keySet().containsAll(List.of("/boots", "/data/note.txt")));

        dc.cluster.kill(victim);
        JsonNode moved = Eventually.await("mover running on another node", WAIT, () -> {
            JsonNode v = dc.vm("mover");
            return v != null && !v.path("node").asText().equals(first) && v.path("observed").asText().equals("running") ? v : null;
        });
        Eventually.await("mover boots on " + moved.path("node").asText() + " with the files it wrote on " + first, WAIT,
                () -> logLines("mover").contains("boot 2, note: written at boot 2"));
        dc.cluster.start(victim);
    }

    @Test
    @Order(6)
    void aChattyVmIsCoalescedAndALargeWriteIsPacedOverSeveralFlushes() {
        String host = follower();
        Member m = dc.cluster.member(host);
        double coalesced = metric(m, "flotilla_sim_fs_coalesced_total");
        double throttled = metric(m, "flotilla_sim_fs_throttled_total");
        double committed = metric(m, "flotilla_sim_fs_deltas_committed_total");
        create("chatty", """
                return {
                  on_start = function(ctx)
                    ctx.n = 0
                    -- 240 KB at once: more than one VM's batch (64 KiB) per flush, so it is paced out.
                    for i = 1, 4 do fs.write("/big" .. i, string.rep("x", 60000)) end
                  end,
                  on_tick = function(ctx)
                    ctx.n = ctx.n + 1
                    fs.write("/counter", tostring(ctx.n))
                    if ctx.n == 300 then log("300 writes") return wait_packet() end
                  end,
                }
                """, null, host, null);
        awaitRunning("chatty");
        Eventually.await("chatty's 300 writes", WAIT, () -> logLines("chatty").contains("300 writes"));
        Eventually.await("chatty's writes committed after coalescing and pacing", WAIT,
                () -> metric(m, "flotilla_sim_fs_coalesced_total") - coalesced >= 250
                        && metric(m, "flotilla_sim_fs_throttled_total") > throttled
                        && metric(m, "flotilla_sim_fs_deltas_committed_total") - committed >= 4);
        double deltas = metric(m, "flotilla_sim_fs_deltas_committed_total") - committed;
        assertTrue(deltas < 30, "300 writes of one file cost the log " + deltas + " deltas, not one each");
    }

    @Test
    @Order(7)
    void namesAndAliasesResolveFromTheRegistryAndTheSpecsFirewallDropsAndCountsPackets() {
        List<String> ids = dc.cluster.members().stream().filter(Member::alive).map(m -> m.id).toList();
        Member guardNode = dc.cluster.member(ids.get(0));
        double firewallDrops = metric(guardNode, "flotilla_router_dropped_firewall_total");
        ObjectNode req = JSON.createObjectNode().put("job_id", "guarded").put("tenant", "sim");
        ObjectNode spec = req.putObject("spec").put("runtime", "lua").put("dns_name", "guarded.sim");
        spec.putArray("aliases").add("g.sim");
        spec.putObject("constraints").put("node", guardNode.id);
        spec.putArray("firewall").addObject().put("action", "deny").put("from", "*").put("port", 80);
        spec.putArray("programs").addObject().put("name", "guard.lua").put("source", """
                return { on_start = function() net.listen(80) return wait_packet() end,
                         on_packet = function(ctx, p) log("got " .. p.data) end }
                """);
        Response r = dc.send("POST", "/vms", req.toString());
        assertEquals(202, r.status(), r.text());
        String guardedIp = awaitRunning("guarded").path("ip").asText();
        create("knocker", """
                return {
                  on_tick = function(ctx)
                    local ip = net.resolve("guarded.sim")
                    if not ip then return sleep(30) end
                    log("guarded.sim is " .. ip .. ", g.sim is " .. tostring(net.resolve("g.sim")))
                    for i = 1, 10 do net.send("g.sim", 80, "knock " .. i) end
                    log("sent 10")
                    return wait_packet()
                  end,
                }
                """, null, ids.get(1), null);
        awaitRunning("knocker");
        Eventually.await("knocker sent its 10 packets", WAIT, () -> logLines("knocker").contains("sent 10"));
        assertTrue(logLines("knocker").contains("guarded.sim is " + guardedIp + ", g.sim is " + guardedIp), logLines("knocker").toString());
        Eventually.await("10 firewall drops counted on " + guardNode.id, WAIT,
                () -> metric(guardNode, "flotilla_router_dropped_firewall_total") - firewallDrops >= 10);
        assertEquals(0, dc.vm("guarded").path("sim").path("counters").path("packets_in").asLong(), "nothing got through");
        assertTrue(logLines("guarded").stream().noneMatch(l -> l.startsWith("got")));
    }
}
