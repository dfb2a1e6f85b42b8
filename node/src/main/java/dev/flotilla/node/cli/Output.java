package dev.flotilla.node.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** How client commands print answers and errors, and the exit code each gets. */
final class Output {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private Output() {}

    static void json(JsonNode node) {
        try {
            System.out.println(MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(node));
        } catch (Exception e) {
            System.out.println(node);
        }
    }

    /** Prints a refusal the way the API phrased it and returns the exit code for it. */
    static int refused(ApiClient.Answer a, boolean asJson) {
        if (asJson && a.body() != null) {
            json(a.body());
        } else {
            JsonNode b = a.body();
            String msg = b == null ? a.text() : b.path("message").asText(a.text());
            String field = b == null ? "" : b.path("field").asText("");
            System.err.println("error: " + msg + (field.isEmpty() ? "" : " (field: " + field + ")") + " [HTTP " + a.status() + " from " + a.server() + "]");
        }
        return a.status() == 503 ? Flotilla.UNAVAILABLE : Flotilla.REFUSED;
    }

    static int unreachable(ApiClient.Unreachable e) {
        System.err.println("error: " + e.getMessage());
        return Flotilla.UNAVAILABLE;
    }
}
