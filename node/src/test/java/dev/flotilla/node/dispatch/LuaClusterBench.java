package dev.flotilla.node.dispatch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flotilla.node.cluster.Eventually;
import dev.flotilla.node.cluster.LocalCluster.Response;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Lua VMs through a three-node cluster: COUNT idle lua VMs created through the API one after another,
 * create to observed running from the records' own stamps, where the leader placed them, and how long
 * until all run. Bounded: COUNT at most 2,000, each wait at most 120 s.
 *
 * <p>Usage: LuaClusterBench COUNT   (run with the node module's test classpath; scripts/bench-lua-cluster.sh)
 */
public final class LuaClusterBench {
    private static final ObjectMapper JSON = new ObjectMapper();

    private LuaClusterBench() {}

    public static void main(String[] args) throws Exception {
        int count = args.length > 0 ? Integer.parseInt(args[0]) : 100;
        if (count < 1 || count > 2000) throw new IllegalArgumentException("COUNT must be 1..2000");
        try (DispatchCluster dc = new DispatchCluster(3, "flotilla-bench-lua", "")) {
            dc.startAndAwaitRegistered();
            String leader = dc.cluster.awaitLeader(Duration.ofSeconds(60));
            long t0 = System.nanoTime();
            for (int i = 0; i < count; i++) {
                ObjectNode req = JSON.createObjectNode().put("job_id", "idle-" + i).put("tenant", "bench");
                ObjectNode spec = req.putObject("spec").put("runtime", "lua").put("allow_oversubscribe", true)
                        .put("dns_name", "idle-" + i + ".bench");
                spec.putArray("programs").addObject().put("name", "idle")
                        .put("source", "return { on_start = function() net.listen(7) return wait_packet() end, "
                                + "on_packet = function(ctx, p) net.send(p.from, p.from_port, p.data) end }");
                Response r = dc.send("POST", "/vms", req.toString());
                if (r.status() != 202) throw new AssertionError("create idle-" + i + ": " + r.status() + " " + r.text());
            }
            long createdMs = (System.nanoTime() - t0) / 1_000_000;
            List<JsonNode> vms = Eventually.await("all " + count + " lua VMs running", Duration.ofSeconds(120), () -> {
                List<JsonNode> all = dc.vms().stream().filter(v -> v.path("id").asText().startsWith("idle-")).toList();
                return all.size() == count && all.stream().allMatch(v -> v.path("observed").asText().equals("running")) ? all : null;
            });
            long allMs = (System.nanoTime() - t0) / 1_000_000;
            List<Long> latency = new ArrayList<>();
            Map<String, Integer> perNode = new TreeMap<>();
            for (JsonNode v : vms) {
                latency.add(v.path("updated_ms").asLong() - v.path("created_ms").asLong());
                perNode.merge(v.path("node").asText() + (v.path("node").asText().equals(leader) ? " (leader)" : ""), 1, Integer::sum);
            }
            Collections.sort(latency);
            System.out.printf(Locale.ROOT, "%d lua VMs: %d creates committed in %d ms; all observed running after %d ms%n",
                    count, count, createdMs, allMs);
            System.out.printf(Locale.ROOT, "create -> running (record stamps): p50 %d ms, p99 %d ms, max %d ms%n",
                    latency.get(latency.size() / 2), latency.get(Math.min(latency.size() - 1, (int) Math.ceil(latency.size() * 0.99) - 1)),
                    latency.get(latency.size() - 1));
            System.out.println("placed: " + perNode);
            for (var m : dc.cluster.members()) {
                String metrics = dc.cluster.get(m, "/metrics").map(Response::text).orElse("");
                System.out.println(m.id + ": " + line(metrics, "flotilla_sim_vms ") + ", " + line(metrics, "flotilla_sim_overruns_total ")
                        + ", " + line(metrics, "flotilla_sim_late_ticks_total "));
            }
        }
    }

    private static String line(String metrics, String prefix) {
        return metrics.lines().filter(l -> l.startsWith(prefix)).findFirst().orElse(prefix + "?").trim();
    }

}
