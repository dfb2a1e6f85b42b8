package dev.flotilla.node.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.UUID;

/** The CLI's way to a cluster: tries each --server in turn until one answers. */
final class ApiClient {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    /** What one server answered. */
    record Answer(String server, int status, JsonNode body, String text) {
        boolean ok() {
            return status >= 200 && status < 300;
        }
    }

    /** No server could be reached, or every one answered 503. */
    static final class Unreachable extends Exception {
        Unreachable(String message) {
            super(message);
        }
    }

    private final List<String> servers;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    List<String> servers() {
        return servers;
    }

    ApiClient(List<String> servers) {
        this.servers = servers;
    }

    Answer get(String path) throws Unreachable {
        return send("GET", path, null);
    }

    Answer post(String path, JsonNode body) throws Unreachable {
        return send("POST", path, body);
    }

    Answer delete(String path) throws Unreachable {
        return send("DELETE", path, null);
    }

    /** Sends to the first server that answers; a write carries one Idempotency-Key across servers, so it applies once. */
    Answer send(String method, String path, JsonNode body) throws Unreachable {
        String key = UUID.randomUUID().toString();
        StringBuilder why = new StringBuilder();
        Answer last503 = null;
        for (String server : servers) {
            try {
                return sendTo(server, method, path, body, key);
            } catch (IOException e) {
                why.append("\n  ").append(server).append(": ").append(e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new Unreachable("interrupted");
            } catch (Busy b) {
                last503 = b.answer;
                why.append("\n  ").append(server).append(": 503 ").append(b.answer.body() == null ? "" : b.answer.body().path("message").asText());
            }
        }
        if (last503 != null && servers.size() == 1) return last503;
        throw new Unreachable("no Flotilla node answered:" + why
                + "\nStart the cluster with scripts/bootstrap-cluster.sh, or name a running node with --server HOST:PORT.");
    }

    private static final class Busy extends Exception {
        final Answer answer;

        Busy(Answer answer) {
            super(null, null, false, false);
            this.answer = answer;
        }
    }

    private Answer sendTo(String server, String method, String path, JsonNode body, String key)
            throws IOException, InterruptedException, Busy {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://" + server + path))
                .timeout(Duration.ofSeconds(30))
                .header("Idempotency-Key", key);
        if (body != null) {
            b.header("Content-Type", "application/json");
            b.method(method, HttpRequest.BodyPublishers.ofString(MAPPER.writeValueAsString(body)));
        } else {
            b.method(method, HttpRequest.BodyPublishers.noBody());
        }
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        JsonNode json = null;
        try {
            if (r.body() != null && !r.body().isBlank() && r.body().trim().startsWith("{")) json = MAPPER.readTree(r.body());
        } catch (IOException ignored) {
            // not JSON (the metrics route): the text is kept
        }
        Answer a = new Answer(server, r.statusCode(), json, r.body());
        if (r.statusCode() == 503 && servers.size() > 1) throw new Busy(a);
        return a;
    }
}
