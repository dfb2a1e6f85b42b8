package dev.flotilla.node.api;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A JSON object read strictly: unknown keys and wrong types are refused with the field's full path,
 * because a silently ignored field is a misconfiguration nobody notices.
 */
final class JsonObject {
    private final JsonNode node;
    private final String path;

    private JsonObject(JsonNode node, String path) {
        this.node = node;
        this.path = path;
    }

    static JsonObject of(JsonNode node, String path, Set<String> allowed) {
        if (node == null || !node.isObject())
            throw ApiError.badRequest(path, path + " must be a JSON object");
        Iterator<String> names = node.fieldNames();
        while (names.hasNext()) {
            String name = names.next();
            if (!allowed.contains(name))
                throw ApiError.badRequest(join(path, name),
                        "unknown field '" + name + "' in " + path + "; allowed: " + String.join(", ", new TreeSet<>(allowed)));
        }
        return new JsonObject(node, path);
    }

    static String join(String path, String name) {
        return path.isEmpty() ? name : path + "." + name;
    }

    boolean has(String name) {
        JsonNode v = node.get(name);
        return v != null && !v.isNull();
    }

    JsonNode raw(String name) {
        return node.get(name);
    }

    String field(String name) {
        return join(path, name);
    }

    String string(String name, String fallback) {
        if (!has(name)) return fallback;
        JsonNode v = node.get(name);
        if (!v.isTextual()) throw ApiError.badRequest(field(name), field(name) + " must be a string");
        return v.asText();
    }

    long integer(String name, long fallback, long min, long max) {
        if (!has(name)) return fallback;
        JsonNode v = node.get(name);
        if (!v.isIntegralNumber() || !v.canConvertToLong())
            throw ApiError.badRequest(field(name), field(name) + " must be a whole number from " + min + " to " + max);
        long n = v.asLong();
        if (n < min || n > max)
            throw ApiError.badRequest(field(name), field(name) + " is " + n + "; allowed: " + min + " to " + max);
        return n;
    }

    boolean bool(String name, boolean fallback) {
        if (!has(name)) return fallback;
        JsonNode v = node.get(name);
        if (!v.isBoolean()) throw ApiError.badRequest(field(name), field(name) + " must be true or false");
        return v.asBoolean();
    }

    List<String> strings(String name) {
        List<String> out = new ArrayList<>();
        if (!has(name)) return out;
        JsonNode v = node.get(name);
        if (!v.isArray()) throw ApiError.badRequest(field(name), field(name) + " must be an array of strings");
        for (int i = 0; i < v.size(); i++) {
            if (!v.get(i).isTextual())
                throw ApiError.badRequest(field(name) + "[" + i + "]", field(name) + "[" + i + "] must be a string");
            out.add(v.get(i).asText());
        }
        return out;
    }

    List<JsonNode> array(String name) {
        List<JsonNode> out = new ArrayList<>();
        if (!has(name)) return out;
        JsonNode v = node.get(name);
        if (!v.isArray()) throw ApiError.badRequest(field(name), field(name) + " must be an array");
        v.forEach(out::add);
        return out;
    }

    /** A JSON object whose values are all strings, such as env or labels. */
    List<Map.Entry<String, String>> stringMap(String name) {
        List<Map.Entry<String, String>> out = new ArrayList<>();
        if (!has(name)) return out;
        JsonNode v = node.get(name);
        if (!v.isObject()) throw ApiError.badRequest(field(name), field(name) + " must be an object of string values");
        Iterator<Map.Entry<String, JsonNode>> it = v.fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isTextual())
                throw ApiError.badRequest(field(name) + "." + e.getKey(), field(name) + "." + e.getKey() + " must be a string");
            out.add(Map.entry(e.getKey(), e.getValue().asText()));
        }
        return out;
    }
}
