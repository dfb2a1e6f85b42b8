package dev.flotilla.chaos.workload;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flotilla.chaos.history.OpKind;
import dev.flotilla.chaos.history.Outcome;
import dev.flotilla.chaos.history.VmState;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * One node's public HTTP API as a chaos client uses it. Every call ends in an {@link Answer} whose
 * outcome follows one rule: a definite answer is OK or FAIL; anything that leaves open whether the
 * command took effect (a timeout or reset after the request went out, a 5xx) is UNKNOWN.
 */
public final class NodeApi {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The spec every chaos VM gets: needs no host resources, and nothing runs until dispatch exists. */
    public static final JsonNode SPEC = JSON.createObjectNode().put("runtime", "process")
            .set("cmd", JSON.createArrayNode().add("sleep").add("3600"));

    private final String nodeId;
    private final String base;
    private final HttpClient http;
    private final Duration timeout;

    /** What came back from one call. */
    public record Answer(Outcome outcome, int status, JsonNode body, VmState read, String error) {
    }

    public NodeApi(String nodeId, String hostPort, Duration timeout) {
        this.nodeId = nodeId;
        this.base = "http://" + hostPort;
        this.timeout = timeout;
        // HTTP/1.1 only: no h2c upgrade dance with the node's server.
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofMillis(Math.min(1000, timeout.toMillis()))).build();
    }

    /** The node this client talks to. */
    public String nodeId() {
        return nodeId;
    }

    /** Issues one register/set op. */
    public Answer call(OpKind kind, String vmId) {
        String path = "/vms/" + URLEncoder.encode(vmId, StandardCharsets.UTF_8);
        return switch (kind) {
            case CREATE -> {
                ObjectNode body = JSON.createObjectNode().put("job_id", vmId).put("tenant", "chaos");
                body.set("spec", SPEC);
                yield send(kind, HttpRequest.newBuilder(uri("/vms"))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(body.toString())));
            }
            case START -> send(kind, HttpRequest.newBuilder(uri(path + "/start")).POST(HttpRequest.BodyPublishers.noBody()));
            case STOP -> send(kind, HttpRequest.newBuilder(uri(path + "/stop")).POST(HttpRequest.BodyPublishers.noBody()));
            case DELETE -> send(kind, HttpRequest.newBuilder(uri(path)).DELETE());
            case READ -> send(kind, HttpRequest.newBuilder(uri(path)).GET());
        };
    }

    /** GET /vms: the ids present, or empty when the node gave no definite answer. */
    public Optional<List<String>> listIds() {
        Answer a = send(OpKind.READ, HttpRequest.newBuilder(uri("/vms")).GET());
        if (a.status() != 200 || a.body() == null) {
            return Optional.empty();
        }
        JsonNode arr = a.body().isArray() ? a.body() : a.body().path("vms");
        if (!arr.isArray()) {
            arr = a.body().path("items");
        }
        if (!arr.isArray()) {
            return Optional.empty();
        }
        List<String> ids = new ArrayList<>();
        for (JsonNode vm : arr) {
            ids.add(vm.path("id").asText(vm.path("job_id").asText()));
        }
        return Optional.of(ids);
    }

    /** GET /cluster, or empty when the node does not answer 200. */
    public Optional<JsonNode> cluster() {
        return getJson("/cluster");
    }

    /** True when GET /health answers 200. */
    public boolean healthy() {
        Answer a = send(OpKind.READ, HttpRequest.newBuilder(uri("/health")).GET());
        return a.status() == 200;
    }

    /** GET path as JSON when it answers 200. */
    public Optional<JsonNode> getJson(String path) {
        Answer a = send(OpKind.READ, HttpRequest.newBuilder(uri(path)).GET());
        return a.status() == 200 && a.body() != null ? Optional.of(a.body()) : Optional.empty();
    }

    private URI uri(String path) {
        return URI.create(base + path);
    }

    private Answer send(OpKind kind, HttpRequest.Builder request) {
        HttpResponse<String> response;
        try {
            response = http.send(request.timeout(timeout).build(), HttpResponse.BodyHandlers.ofString());
        } catch (HttpConnectTimeoutException e) {
            return new Answer(Outcome.FAIL, 0, null, null, "connect timeout: request never sent");
        } catch (ConnectException e) {
            return new Answer(Outcome.FAIL, 0, null, null, "connection refused: request never sent");
        } catch (IOException e) {
            // A timeout or a reset once the request may have gone out: the command may or may not apply.
            return new Answer(Outcome.UNKNOWN, 0, null, null, e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : ": " + e.getMessage()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Answer(Outcome.UNKNOWN, 0, null, null, "interrupted while waiting for the answer");
        }
        int status = response.statusCode();
        JsonNode body = parse(response.body());
        if (status >= 500) {
            return new Answer(Outcome.UNKNOWN, status, body, null, message(body, response.body()));
        }
        if (kind == OpKind.READ) {
            if (status == 404) {
                return new Answer(Outcome.OK, status, body, VmState.ABSENT, null);
            }
            if (status == 200) {
                try {
                    VmState state = VmState.fromDesired(body == null ? null : body.path("desired").asText(null));
                    return new Answer(Outcome.OK, status, body, state, null);
                } catch (IllegalArgumentException e) {
                    // Not a record we understand: say so rather than guess a state for the checker.
                    return new Answer(Outcome.FAIL, status, body, null, e.getMessage());
                }
            }
            return new Answer(Outcome.FAIL, status, body, null, message(body, response.body()));
        }
        if (status >= 200 && status < 300) {
            return new Answer(Outcome.OK, status, body, null, null);
        }
        return new Answer(Outcome.FAIL, status, body, null, message(body, response.body()));
    }

    private static JsonNode parse(String text) {
        if (text == null || text.isBlank()) {
            return null;
        }
        try {
            return JSON.readTree(text);
        } catch (IOException e) {
            return null;
        }
    }

    private static String message(JsonNode body, String raw) {
        if (body != null && body.has("message")) {
            return body.get("message").asText();
        }
        String r = raw == null ? "" : raw.strip();
        return r.length() > 200 ? r.substring(0, 200) : r;
    }
}
