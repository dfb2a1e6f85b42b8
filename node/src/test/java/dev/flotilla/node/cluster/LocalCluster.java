package dev.flotilla.node.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A cluster of real node processes on loopback, for tests: each node a separate JVM started with the
 * test's classpath, its own data dir and free ports; killed with SIGKILL and restarted on its data.
 */
public final class LocalCluster implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One node: its id, ports, directory and (while running) its process. */
    public static final class Member {
        public final String id;
        public final int api;
        public final int raft;
        public final int transport;
        public final Path dir;
        Process process;

        Member(String id, int api, int raft, int transport, Path dir) {
            this.id = id;
            this.api = api;
            this.raft = raft;
            this.transport = transport;
            this.dir = dir;
        }

        public String apiAddress() {
            return "127.0.0.1:" + api;
        }

        public boolean alive() {
            return process != null && process.isAlive();
        }

        public Path log() {
            return dir.resolve("node.log");
        }
    }

    private final List<Member> members = new ArrayList<>();
    private final Path root;
    private final Map<String, String> extraRaft;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    /** Creates (does not start) a cluster of n nodes; extraRaft adds keys under raft: in each node.yaml. */
    public LocalCluster(int n, Path root, Map<String, String> extraRaft) throws IOException {
        this.root = root;
        this.extraRaft = extraRaft;
        for (int i = 1; i <= n; i++) {
            members.add(new Member("n" + i, freePort(), freePort(), freePort(), root.resolve("n" + i)));
        }
        for (Member m : members) writeConfig(m);
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        }
    }

    /** Adds a node that starts with an empty group (join: true), to be added by a configuration change. */
    public Member addJoiningMember() throws IOException {
        Member m = new Member("n" + (members.size() + 1), freePort(), freePort(), freePort(), root.resolve("n" + (members.size() + 1)));
        members.add(m);
        writeConfig(m);
        Files.writeString(m.dir.resolve("node.yaml"), Files.readString(m.dir.resolve("node.yaml")) + "join: true\n");
        return m;
    }

    private void writeConfig(Member m) throws IOException {
        Files.createDirectories(m.dir);
        StringBuilder y = new StringBuilder();
        y.append("node_id: ").append(m.id).append('\n');
        y.append("data_dir: ").append(m.dir.resolve("data")).append('\n');
        y.append("api_address: 127.0.0.1:").append(m.api).append('\n');
        y.append("raft_address: 127.0.0.1:").append(m.raft).append('\n');
        y.append("transport_address: 127.0.0.1:").append(m.transport).append('\n');
        y.append("peers:\n");
        for (Member p : members) {
            y.append("  - {id: ").append(p.id).append(", raft: 127.0.0.1:").append(p.raft)
                    .append(", api: 127.0.0.1:").append(p.api).append(", transport: 127.0.0.1:").append(p.transport).append("}\n");
        }
        if (!extraRaft.isEmpty()) {
            y.append("raft:\n");
            extraRaft.forEach((k, v) -> y.append("  ").append(k).append(": ").append(v).append('\n'));
        }
        Files.writeString(m.dir.resolve("node.yaml"), y.toString());
    }

    public List<Member> members() {
        return members;
    }

    public Member member(String id) {
        return members.stream().filter(m -> m.id.equals(id)).findFirst().orElseThrow();
    }

    public void startAll() throws IOException {
        for (Member m : members) start(m);
    }

    public void start(Member m) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = List.of(java, "-Xmx384m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("java.class.path"),
                "dev.flotilla.node.cli.Flotilla", "node", "--config", m.dir.resolve("node.yaml").toString());
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(m.log().toFile()));
        m.process = pb.start();
    }

    /** SIGKILL: no shutdown hook runs, nothing is flushed that was not already. */
    public void kill(Member m) throws InterruptedException {
        if (m.process == null) return;
        m.process.destroyForcibly();
        if (!m.process.waitFor(30, TimeUnit.SECONDS)) throw new AssertionError(m.id + " did not die after SIGKILL");
    }

    public void awaitHealthy(Duration timeout) {
        for (Member m : members) {
            if (!m.alive()) continue;
            Eventually.await(m.id + " /health = healthy (log: " + m.log() + ")", timeout,
                    () -> get(m, "/health").map(r -> r.status == 200).orElse(false));
        }
    }

    /** The leader's id, as the first answering live node sees it. */
    public String awaitLeader(Duration timeout) {
        return Eventually.await("a leader", timeout, () -> {
            for (Member m : members) {
                if (!m.alive()) continue;
                Optional<Response> r = get(m, "/health");
                if (r.isPresent() && r.get().status == 200) {
                    String leader = r.get().body.path("leader").asText("");
                    if (!leader.isEmpty() && member(leader).alive()) return leader;
                }
            }
            return null;
        });
    }

    /** An HTTP answer: status and parsed JSON body (null when not JSON). */
    public record Response(int status, JsonNode body, String text, Map<String, List<String>> headers) {}

    public Optional<Response> get(Member m, String path) {
        return send(m, "GET", path, null, Map.of());
    }

    public Optional<Response> send(Member m, String method, String path, String body, Map<String, String> headers) {
        try {
            return Optional.of(sendOrThrow(m, method, path, body, headers));
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    public Response sendOrThrow(Member m, String method, String path, String body, Map<String, String> headers)
            throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://" + m.apiAddress() + path)).timeout(Duration.ofSeconds(20));
        headers.forEach(b::header);
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        JsonNode json = null;
        try {
            String t = r.body().trim();
            if (t.startsWith("{") || t.startsWith("[")) json = JSON.readTree(t);
        } catch (IOException ignored) {
            // not JSON
        }
        return new Response(r.statusCode(), json, r.body(), r.headers().map());
    }

    public String digestOf(Member m) {
        return get(m, "/cluster").filter(r -> r.status == 200).map(r -> r.body.path("digest").asText() + "@" + r.body.path("digest_index").asLong()).orElse("");
    }

    public Path root() {
        return root;
    }

    @Override
    public void close() {
        for (Member m : members) {
            if (m.process != null && m.process.isAlive()) m.process.destroyForcibly();
        }
        for (Member m : members) {
            try {
                if (m.process != null) m.process.waitFor(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** The tail of a node's log, for failure messages. */
    public static String tail(Member m, int lines) {
        try {
            List<String> all = Files.readAllLines(m.log());
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    static File file(Path p) {
        return p.toFile();
    }
}
