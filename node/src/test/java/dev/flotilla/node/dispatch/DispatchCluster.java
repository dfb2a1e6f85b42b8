package dev.flotilla.node.dispatch;

import com.fasterxml.jackson.databind.JsonNode;
import dev.flotilla.node.cluster.Eventually;
import dev.flotilla.node.cluster.LocalCluster;
import dev.flotilla.node.cluster.LocalCluster.Member;
import dev.flotilla.node.cluster.LocalCluster.Response;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** A {@link LocalCluster} set up for dispatch tests: node settings added to each node.yaml, and VM reads. */
final class DispatchCluster implements AutoCloseable {
    static final Map<String, String> JSON = Map.of("Content-Type", "application/json");

    final LocalCluster cluster;

    /** @param topLevelYaml extra top-level keys for every node.yaml, e.g. "node_down_after_ms: 3000" */
    DispatchCluster(int n, String prefix, String topLevelYaml) throws IOException {
        Path dir = Files.createTempDirectory(prefix);
        cluster = new LocalCluster(n, dir, Map.of("election_min_ms", "1500", "election_max_ms", "3000"));
        for (Member m : cluster.members()) {
            Files.writeString(m.dir.resolve("node.yaml"), topLevelYaml + "\n", StandardOpenOption.APPEND);
        }
    }

    void startAndAwaitRegistered() throws IOException {
        cluster.startAll();
        cluster.awaitHealthy(Duration.ofSeconds(90));
        cluster.awaitLeader(Duration.ofSeconds(60));
        Eventually.await("all " + cluster.members().size() + " nodes registered and up", Duration.ofSeconds(60), () -> {
            List<JsonNode> nodes = nodes();
            return nodes.size() == cluster.members().size() && nodes.stream().allMatch(x -> x.path("state").asText().equals("up"));
        });
    }

    Path processDir(Member m) {
        return m.dir.resolve("data").resolve("process");
    }

    Member any() {
        return cluster.members().stream().filter(Member::alive).findFirst().orElseThrow();
    }

    Response send(String method, String path, String body) {
        StringBuilder seen = new StringBuilder();
        for (Member m : cluster.members()) {
            if (!m.alive()) continue;
            Optional<Response> r = cluster.send(m, method, path, body, body == null ? Map.of() : JSON);
            if (r.isPresent() && r.get().status() != 503) return r.get();
            seen.append("; ").append(m.id).append(": ").append(r.map(x -> x.status() + " " + x.text().strip()).orElse("no answer"));
        }
        throw new AssertionError("no live node answered " + method + " " + path + seen);
    }

    List<JsonNode> vms() {
        Response r = send("GET", "/vms", null);
        if (r.status() != 200) throw new AssertionError("GET /vms: " + r.status() + " " + r.text());
        List<JsonNode> out = new ArrayList<>();
        r.body().path("vms").forEach(out::add);
        return out;
    }

    List<JsonNode> nodes() {
        Response r = send("GET", "/nodes", null);
        if (r.status() != 200) throw new AssertionError("GET /nodes: " + r.status() + " " + r.text());
        List<JsonNode> out = new ArrayList<>();
        r.body().path("nodes").forEach(out::add);
        return out;
    }

    JsonNode vm(String id) {
        Response r = send("GET", "/vms/" + id, null);
        return r.status() == 200 ? r.body() : null;
    }

    String logs() {
        StringBuilder sb = new StringBuilder();
        for (Member m : cluster.members()) sb.append("\n--- ").append(m.id).append(":\n").append(LocalCluster.tail(m, 30));
        return sb.toString();
    }

    @Override
    public void close() {
        cluster.close();
        // Process VMs outlive a killed node (as they would a crashed agent): end them with the test.
        HostProcesses.killAllUnder(cluster.root());
    }
}
