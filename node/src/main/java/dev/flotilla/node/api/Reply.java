package dev.flotilla.node.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/** One HTTP answer: status, body bytes with their content type, extra headers. */
public record Reply(int status, byte[] body, String contentType, Map<String, String> headers) {

    public static Reply json(int status, JsonNode body) {
        return json(status, body, Map.of());
    }

    public static Reply json(int status, JsonNode body, Map<String, String> headers) {
        byte[] bytes;
        try {
            bytes = VmJson.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(body);
        } catch (Exception e) {
            bytes = "{\"error\":\"internal\"}".getBytes(StandardCharsets.UTF_8);
        }
        byte[] withNewline = new byte[bytes.length + 1];
        System.arraycopy(bytes, 0, withNewline, 0, bytes.length);
        withNewline[bytes.length] = '\n';
        return new Reply(status, withNewline, "application/json", headers);
    }

    public static Reply text(int status, String body, String contentType) {
        return new Reply(status, body.getBytes(StandardCharsets.UTF_8), contentType, Map.of());
    }

    /** The error body every 4xx and 5xx carries: {"error", "field", "message"}. */
    public static Reply error(int status, String error, String field, String message, Map<String, String> headers) {
        ObjectNode o = VmJson.MAPPER.createObjectNode();
        o.put("error", error);
        if (field != null && !field.isEmpty()) o.put("field", field);
        o.put("message", message);
        return json(status, o, headers);
    }

    public static Reply error(ApiError e) {
        return error(e.status(), e.error(), e.field(), e.getMessage(), Map.of());
    }
}
