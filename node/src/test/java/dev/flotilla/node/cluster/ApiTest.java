package dev.flotilla.node.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flotilla.node.cluster.LocalCluster.Member;
import dev.flotilla.node.cluster.LocalCluster.Response;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/** Every status code of the HTTP API over real HTTP against three real node processes; bad input never hurts a node. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ApiTest {
    private static final Map<String, String> JSON = Map.of("Content-Type", "application/json");
    private static LocalCluster cluster;
    private static Member a;
    private static Member b;

    @BeforeAll
    static void start() throws IOException {
        Path dir = Files.createTempDirectory("flotilla-api-test");
        cluster = new LocalCluster(3, dir, Map.of());
        cluster.startAll();
        cluster.awaitHealthy(Duration.ofSeconds(90));
        cluster.awaitLeader(Duration.ofSeconds(60));
        a = cluster.members().get(0);
        b = cluster.members().get(1);
    }

    @AfterAll
    static void stop() {
        if (cluster != null) cluster.close();
    }

    private static Response call(Member m, String method, String path, String body) throws Exception {
        return cluster.sendOrThrow(m, method, path, body, body == null ? Map.of() : JSON);
    }

    private static void assertError(Response r, int status, String field) {
        assertEquals(status, r.status(), "status; body: " + r.text());
        assertTrue(r.body() != null && r.body().has("error") && r.body().has("message"),
                "a " + status + " must carry {error, message}; got: " + r.text());
        if (field != null) assertEquals(field, r.body().path("field").asText(), "field named in: " + r.text());
        assertFalse(r.body().path("message").asText().isBlank(), "message must say what is wrong");
    }

    @Test
    @Order(1)
    void createIsAcceptedAndReadableFromEveryNode() throws Exception {
        Response r = call(a, "POST", "/vms", "{\"job_id\":\"web-1\",\"tenant\":\"acme\",\"spec\":{\"runtime\":\"process\",\"cmd\":[\"sleep\",\"600\"],\"dns_name\":\"web-1.acme\"}}");
        assertEquals(202, r.status(), r.text());
        assertEquals("web-1", r.body().path("id").asText());
        assertEquals("acme", r.body().path("tenant").asText());
        assertEquals("running", r.body().path("desired").asText());
        assertTrue(r.body().path("ip").asText().startsWith("10.0."), "an address from the default subnet: " + r.text());
        assertTrue(r.body().path("version").asLong() > 0);
        for (Member m : cluster.members()) {
            Response g = call(m, "GET", "/vms/web-1", null);
            assertEquals(200, g.status(), m.id + ": " + g.text());
            assertEquals(r.body().path("ip").asText(), g.body().path("ip").asText());
        }
        Response list = call(b, "GET", "/vms?tenant=acme", null);
        assertEquals(200, list.status());
        assertEquals(1, list.body().path("count").asInt());
    }

    @Test
    @Order(2)
    void upsertReplacesTheSpecAndGeneratesAJobIdWhenAbsent() throws Exception {
        Response r = call(b, "POST", "/vms", "{\"job_id\":\"web-1\",\"tenant\":\"acme\",\"spec\":{\"runtime\":\"process\",\"cmd\":[\"sleep\",\"9\"]}}");
        assertEquals(202, r.status(), r.text());
        assertEquals("[\"sleep\",\"9\"]", r.body().path("spec").path("cmd").toString());
        assertFalse(r.body().path("spec").has("dns_name"), "replaced, not merged: " + r.text());
        Response gen = call(a, "POST", "/vms", "{\"spec\":{\"runtime\":\"process\",\"cmd\":[\"true\"]}}");
        assertEquals(202, gen.status(), gen.text());
        String id = gen.body().path("id").asText();
        assertFalse(id.isEmpty());
        assertEquals(id, gen.body().path("tenant").asText(), "tenant defaults to the job id");
    }

    @Test
    @Order(3)
    void lifecycleTransitionsAndTheirConflicts() throws Exception {
        assertEquals(202, call(a, "POST", "/vms", "{\"job_id\":\"db-1\",\"spec\":{\"runtime\":\"process\",\"cmd\":[\"sleep\",\"1\"]}}").status());
        assertError(call(b, "POST", "/vms/db-1/start", null), 409, null);
        Response stop = call(b, "POST", "/vms/db-1/stop", null);
        assertEquals(202, stop.status(), stop.text());
        assertEquals("stopped", stop.body().path("desired").asText());
        assertError(call(a, "POST", "/vms/db-1/stop", null), 409, null);
        Response keep = call(b, "POST", "/vms", "{\"job_id\":\"db-1\",\"spec\":{\"runtime\":\"process\",\"cmd\":[\"sleep\",\"2\"]}}");
        assertEquals("stopped", keep.body().path("desired").asText(), "an upsert without desired keeps it: " + keep.text());
        assertEquals(202, call(a, "POST", "/vms/db-1/start", null).status());
        Response cold = call(a, "POST", "/vms", "{\"job_id\":\"cold-1\",\"desired\":\"stopped\",\"spec\":{\"runtime\":\"process\",\"cmd\":[\"true\"]}}");
        assertEquals(202, cold.status(), cold.text());
        assertEquals("stopped", cold.body().path("desired").asText(), "created stopped: " + cold.text());
        assertEquals(200, call(b, "DELETE", "/vms/cold-1", null).status());
        long version = call(a, "GET", "/vms/db-1", null).body().path("version").asLong();
        assertError(call(a, "POST", "/vms", "{\"job_id\":\"db-1\",\"expected_version\":" + (version + 1000)
                + ",\"spec\":{\"runtime\":\"process\",\"cmd\":[\"x\"]}}"), 409, null);
        // version moves with every change, the agents' status reports included: a client re-reads and retries.
        boolean swapped = false;
        for (int attempt = 0; attempt < 20 && !swapped; attempt++) {
            long current = call(a, "GET", "/vms/db-1", null).body().path("version").asLong();
            Response cas = call(a, "POST", "/vms", "{\"job_id\":\"db-1\",\"expected_version\":" + current
                    + ",\"spec\":{\"runtime\":\"process\",\"cmd\":[\"x\"]}}");
            if (cas.status() != 202) assertError(cas, 409, null);
            swapped = cas.status() == 202;
        }
        assertTrue(swapped, "a compare-and-set with the version just read must succeed within 20 tries");
        assertEquals(200, call(b, "DELETE", "/vms/db-1", null).status());
        assertError(call(a, "GET", "/vms/db-1", null), 404, null);
        assertError(call(a, "DELETE", "/vms/db-1", null), 404, null);
        assertError(call(a, "POST", "/vms/db-1/start", null), 404, null);
    }

    @Test
    @Order(4)
    void idempotencyKeyAppliesARetriedCreateOnce() throws Exception {
        Map<String, String> h = Map.of("Content-Type", "application/json", "Idempotency-Key", "retry-1");
        String body = "{\"job_id\":\"once\",\"spec\":{\"runtime\":\"process\",\"cmd\":[\"true\"]}}";
        Response first = cluster.sendOrThrow(a, "POST", "/vms", body, h);
        Response again = cluster.sendOrThrow(b, "POST", "/vms", body, h);
        assertEquals(202, first.status());
        assertEquals(first.body().path("version").asLong(), again.body().path("version").asLong(),
                "the retry must return the first result, not apply again");
    }

    @Test
    @Order(5)
    void badInputGetsA4xxNamingTheField() throws Exception {
        assertError(call(a, "POST", "/vms", "{not json"), 400, "body");
        assertError(call(a, "POST", "/vms", "[1,2]"), 400, "body");
        assertError(call(a, "POST", "/vms", ""), 400, "body");
        assertError(call(a, "POST", "/vms", "{\"spec\":{\"runtime\":\"process\",\"cmd\":[\"x\"],\"colour\":\"red\"}}"), 400, "spec.colour");
        assertError(call(a, "POST", "/vms", "{\"jobid\":\"x\",\"spec\":{\"runtime\":\"process\"}}"), 400, "jobid");
        assertError(call(a, "POST", "/vms", "{\"spec\":{\"runtime\":\"process\",\"cmd\":[\"x\"],\"resources\":{\"vcpu\":\"two\"}}}"), 400, "spec.resources.vcpu");
        assertError(call(a, "POST", "/vms", "{\"spec\":{\"runtime\":\"process\",\"cmd\":\"sleep 1\"}}"), 400, "spec.cmd");
        assertError(call(a, "POST", "/vms", "{\"spec\":{\"runtime\":\"vmware\"}}"), 400, "spec.runtime");
        assertError(call(a, "POST", "/vms", "{\"job_id\":\"a/b\",\"spec\":{\"runtime\":\"process\",\"cmd\":[\"x\"]}}"), 400, "job_id");
        assertError(call(a, "POST", "/vms", "{\"job_id\":\"" + "x".repeat(300) + "\",\"spec\":{\"runtime\":\"process\",\"cmd\":[\"x\"]}}"), 400, "job_id");
        assertError(call(a, "POST", "/vms", "{\"job_id\":\"ok\"}"), 400, "spec");
        assertError(call(a, "POST", "/vms", "{\"desired\":\"paused\",\"spec\":{\"runtime\":\"process\",\"cmd\":[\"x\"]}}"), 400, "desired");
        assertError(call(a, "GET", "/vms/a%2Fb", null), 400, "id");
        assertError(call(a, "GET", "/vms/..", null), 400, "id");
        assertError(call(a, "GET", "/vms/" + "y".repeat(300), null), 400, "id");
        assertError(call(a, "GET", "/vms/%FF%FE", null), 400, "id");
        assertError(call(a, "GET", "/nope", null), 404, null);
    }

    @Test
    @Order(6)
    void nonUtf8BodyAndHugeBodyAreRefused() throws Exception {
        Response latin1 = rawPost(a, "/vms", new byte[] {'{', '"', 'j', '"', ':', '"', (byte) 0xE9, '"', '}'});
        assertError(latin1, 400, "body");
        byte[] huge = ("{\"spec\":{\"runtime\":\"process\",\"cmd\":[\"" + "z".repeat(2 << 20) + "\"]}}").getBytes(StandardCharsets.UTF_8);
        Response big = rawPost(a, "/vms", huge);
        assertEquals(413, big.status(), big.text());
        assertTrue(big.text().contains("\"error\""), big.text());
        // and the node keeps serving
        assertEquals(200, call(a, "GET", "/health", null).status());
        assertEquals(200, call(a, "GET", "/vms", null).status());
    }

    /** A raw HTTP/1.1 POST over a socket, so the test controls every byte (java.net.http would re-encode). */
    private static Response rawPost(Member m, String path, byte[] body) throws IOException {
        try (Socket s = new Socket("127.0.0.1", m.api)) {
            s.setSoTimeout(20000);
            OutputStream out = s.getOutputStream();
            String head = "POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " + body.length + "\r\n\r\n";
            out.write(head.getBytes(StandardCharsets.US_ASCII));
            try {
                out.write(body);
                out.flush();
            } catch (IOException closedEarly) {
                // the server may answer 413 and close before reading the whole body; the answer is still there
            }
            InputStream in = s.getInputStream();
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            int status = Integer.parseInt(text.substring(9, 12));
            int split = text.indexOf("\r\n\r\n");
            String payload = split < 0 ? "" : text.substring(split + 4);
            com.fasterxml.jackson.databind.JsonNode json = payload.trim().startsWith("{")
                    ? new com.fasterxml.jackson.databind.ObjectMapper().readTree(payload) : null;
            return new Response(status, json, payload, Map.of());
        }
    }

    @Test
    @Order(7)
    void healthClusterAndMetricsDescribeTheNode() throws Exception {
        Response h = call(b, "GET", "/health", null);
        assertEquals(200, h.status());
        assertEquals("healthy", h.body().path("status").asText());
        assertEquals("flotilla", h.body().path("service").asText());
        assertEquals(b.id, h.body().path("node").asText());
        assertFalse(h.body().path("leader").asText().isEmpty());
        Response c = call(a, "GET", "/cluster", null);
        assertEquals(200, c.status());
        assertEquals(3, c.body().path("members").size());
        assertTrue(c.body().path("digest").asText().length() >= 32, c.text());
        assertTrue(c.body().path("term").asLong() >= 1);
        Response metrics = call(a, "GET", "/metrics", null);
        assertEquals(200, metrics.status());
        for (String name : List.of("flotilla_commits_total", "flotilla_apply_seconds", "flotilla_leader_changes_total",
                "flotilla_http_requests_total", "flotilla_http_request_seconds_bucket", "flotilla_log_entries_sent_total",
                "flotilla_log_commands_sent_total")) {
            assertTrue(metrics.text().contains(name), "metrics lack " + name);
        }
    }

    @Test
    @Order(8)
    void withoutQuorumWritesGet503AndHealthSaysWhy() throws Exception {
        String leader = cluster.awaitLeader(Duration.ofSeconds(30));
        Member survivor = cluster.members().stream().filter(m -> !m.id.equals(leader)).findFirst().orElseThrow();
        for (Member m : cluster.members()) if (m != survivor) cluster.kill(m);
        Response w = call(survivor, "POST", "/vms", "{\"job_id\":\"lonely\",\"spec\":{\"runtime\":\"process\",\"cmd\":[\"x\"]}}");
        assertError(w, 503, null);
        assertTrue(w.headers().containsKey("retry-after"), "503 must carry Retry-After: " + w.headers());
        Response h = Eventually.await("health to report no leader", Duration.ofSeconds(60), () -> {
            Response r = cluster.get(survivor, "/health").orElse(null);
            return r != null && r.status() == 503 ? r : null;
        });
        assertEquals("unhealthy", h.body().path("status").asText());
        assertFalse(h.body().path("reason").asText().isBlank());
    }
}
