package dev.flotilla.chaos.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Optional;

/** What one node's {@code GET /cluster} says: the leader it knows, its term, and its digest with the index it was taken at. */
public record ClusterStatus(String node, Optional<String> leader, long term, long appliedIndex, String digest) {

    /** Reads the fields the harness needs, accepting snake_case or camelCase and a leader given as id or object. */
    public static ClusterStatus parse(String node, JsonNode json) {
        JsonNode l = json.path("leader");
        String leader = l.isObject() ? l.path("id").asText("") : l.asText("");
        return new ClusterStatus(node, leader.isBlank() || leader.equals("null") ? Optional.empty() : Optional.of(leader),
                number(json, "term"), number(json, "digest_index", "applied_index", "appliedIndex"),
                json.path("digest").asText(""));
    }

    private static long number(JsonNode json, String... names) {
        for (String n : names) {
            JsonNode v = json.get(n);
            if (v != null && v.canConvertToLong()) {
                return v.asLong();
            }
            if (v != null && v.isObject() && v.has("index")) {
                return v.get("index").asLong();
            }
        }
        return -1;
    }
}
