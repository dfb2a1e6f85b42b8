package dev.flotilla.node.dispatch;

import com.fasterxml.jackson.databind.JsonNode;
import dev.flotilla.node.cluster.Eventually;
import dev.flotilla.node.cluster.LocalCluster.Response;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * Measures dispatch on three local node processes: (a) API create to observed running for the process
 * backend, from the record's own stamps (created_ms by the receiving node, updated_ms of the running
 * report by the hosting node: one host, one clock), and (b) a warm-pool claim, POST to 201 with the VM
 * already running, on the client's clock. Bounded: COUNT VMs of each kind, each wait at most 60 s.
 *
 * <p>Usage: DispatchBench COUNT   (run with the node module's test classpath; scripts may wrap it)
 */
public final class DispatchBench {
    private DispatchBench() {}

    public static void main(String[] args) throws Exception {
        int count = args.length > 0 ? Integer.parseInt(args[0]) : 20;
        if (count < 1 || count > 200) throw new IllegalArgumentException("COUNT must be 1..200");
        try (DispatchCluster dc = new DispatchCluster(3, "flotilla-bench-dispatch", "")) {
            dc.startAndAwaitRegistered();
            List<Long> cold = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                String id = "cold-" + i;
                Response r = dc.send("POST", "/vms", "{\"job_id\":\"" + id + "\",\"spec\":{\"runtime\":\"process\",\"cmd\":[\"sleep\",\"600\"]}}");
                if (r.status() != 202) throw new AssertionError("create " + id + ": " + r.text());
                JsonNode v = Eventually.await(id + " running", Duration.ofSeconds(60), () -> {
                    JsonNode x = dc.vm(id);
                    return x != null && x.path("observed").asText().equals("running") ? x : null;
                });
                cold.add(v.path("updated_ms").asLong() - v.path("created_ms").asLong());
                dc.send("DELETE", "/vms/" + id, null); // keeps the cluster's capacity free for the next
            }
            String shape = "\"runtime\":\"process\",\"cmd\":[\"sleep\",\"601\"]";
            dc.send("POST", "/vms", "{\"job_id\":\"pool\",\"spec\":{" + shape + ",\"warm_pool\":{\"min\":2,\"max\":3}}}");
            List<Long> warm = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                Eventually.await("a running warm VM", Duration.ofSeconds(60), () -> {
                    for (JsonNode w : dc.send("GET", "/stats", null).body().path("warm_pool")) {
                        if (w.path("status").asText().equals("running")) return true;
                    }
                    return false;
                });
                long t0 = System.nanoTime();
                Response r = dc.send("POST", "/vms", "{\"job_id\":\"warm-claim-" + i + "\",\"spec\":{" + shape + "}}");
                long ms = (System.nanoTime() - t0) / 1_000_000;
                if (r.status() != 201 || !r.body().path("observed").asText().equals("running")) {
                    throw new AssertionError("claim " + i + " was not a warm claim: " + r.status() + " " + r.text());
                }
                warm.add(ms);
                dc.send("DELETE", "/vms/warm-claim-" + i, null);
            }
            print("create -> running (process backend, record stamps)", cold);
            print("warm claim POST -> 201 running (client clock)", warm);
        }
    }

    private static void print(String what, List<Long> ms) {
        List<Long> s = new ArrayList<>(ms);
        Collections.sort(s);
        System.out.printf(Locale.ROOT, "%-52s n=%d p50=%d ms p99=%d ms max=%d ms%n", what, s.size(),
                s.get((s.size() - 1) / 2), s.get((int) Math.ceil(s.size() * 0.99) - 1), s.get(s.size() - 1));
    }
}
