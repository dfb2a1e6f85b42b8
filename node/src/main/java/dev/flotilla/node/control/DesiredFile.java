package dev.flotilla.node.control;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.flotilla.node.api.ApiError;
import dev.flotilla.node.api.VmJson;
import dev.flotilla.proto.Rejection;
import dev.flotilla.proto.VmSpec;
import dev.flotilla.statemachine.Ids;
import dev.flotilla.statemachine.SpecRules;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A desired-state file: a YAML (or JSON) list of {@code {job_id, tenant, spec}}, at the top level or
 * under {@code vms:}. It is read whole and checked whole: every problem is listed with its line, and a
 * file with any problem yields no entries at all, so nothing of a bad file is ever applied.
 */
public final class DesiredFile {
    private static final Set<String> ENTRY_FIELDS = Set.of("job_id", "tenant", "spec");
    private static final ObjectMapper MAPPER = new ObjectMapper(new YAMLFactory());

    private DesiredFile() {}

    /** One declared VM: where it is in the file, its ids, its spec (normalized) and the spec as written. */
    public record Entry(int line, String jobId, String tenant, VmSpec spec, JsonNode specJson) {}

    /** The file's entries, or every problem found in it. */
    public sealed interface Parsed {
        /** A good file. */
        record Ok(List<Entry> entries) implements Parsed {}

        /** A bad file: each problem starts with "line N". */
        record Bad(List<String> problems) implements Parsed {}
    }

    /** Parses and checks {@code text}; {@code name} names the file in messages. */
    public static Parsed parse(String name, String text) {
        List<String> problems = new ArrayList<>();
        List<Entry> entries = new ArrayList<>();
        try (JsonParser p = MAPPER.getFactory().createParser(text)) {
            JsonToken t = p.nextToken();
            if (t == null) return new Parsed.Bad(List.of(name + ": the file is empty; declare a list of {job_id, tenant, spec}"));
            if (t == JsonToken.START_OBJECT) {
                JsonToken f = p.nextToken();
                if (f != JsonToken.FIELD_NAME || !"vms".equals(p.currentName())) {
                    return new Parsed.Bad(List.of(where(name, p.currentTokenLocation()) + ": expected a list of VMs, or an object with the one key 'vms'"));
                }
                t = p.nextToken();
            }
            if (t != JsonToken.START_ARRAY) {
                return new Parsed.Bad(List.of(where(name, p.currentTokenLocation()) + ": expected a list of {job_id, tenant, spec}"));
            }
            Map<String, Integer> seen = new HashMap<>();
            int index = 0;
            while ((t = p.nextToken()) != JsonToken.END_ARRAY && t != null) {
                int line = p.currentTokenLocation().getLineNr();
                JsonNode item = MAPPER.readTree(p);
                String at = name + " line " + line + " (vms[" + index + "])";
                index++;
                entry(item, line, at, problems, seen).ifPresent(entries::add);
            }
        } catch (JsonProcessingException e) {
            problems.add(where(name, e.getLocation()) + ": not valid YAML: " + e.getOriginalMessage());
        } catch (IOException e) {
            problems.add(name + ": cannot read: " + e.getMessage());
        }
        return problems.isEmpty() ? new Parsed.Ok(List.copyOf(entries)) : new Parsed.Bad(List.copyOf(problems));
    }

    private static String where(String name, JsonLocation loc) {
        return loc == null ? name : name + " line " + loc.getLineNr();
    }

    private static Optional<Entry> entry(JsonNode item, int line, String at, List<String> problems, Map<String, Integer> seen) {
        if (item == null || !item.isObject()) {
            problems.add(at + ": each entry must be an object {job_id, tenant, spec}");
            return Optional.empty();
        }
        for (Iterator<String> it = item.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!ENTRY_FIELDS.contains(f)) problems.add(at + ": unknown field '" + f + "'; allowed: job_id, tenant, spec");
        }
        String jobId = item.path("job_id").isTextual() ? item.path("job_id").asText() : "";
        if (jobId.isEmpty()) {
            problems.add(at + ": job_id is required (a text): a desired-state file names every VM it declares");
            return Optional.empty();
        }
        Optional<Rejection> badId = Ids.validateJobId(jobId);
        if (badId.isPresent()) {
            problems.add(at + ": job_id: " + badId.get().getMessage());
            return Optional.empty();
        }
        Integer first = seen.putIfAbsent(jobId, line);
        if (first != null) {
            problems.add(at + ": job_id '" + jobId + "' is declared twice (first at line " + first + "); declare each VM once");
            return Optional.empty();
        }
        String tenant = item.has("tenant") ? item.path("tenant").asText("") : "";
        if (tenant.isEmpty()) tenant = jobId;
        Optional<Rejection> badTenant = Ids.validateTenant(tenant);
        if (badTenant.isPresent()) {
            problems.add(at + ": tenant: " + badTenant.get().getMessage());
            return Optional.empty();
        }
        if (!item.has("spec")) {
            problems.add(at + ": spec is required: an object with at least \"runtime\"");
            return Optional.empty();
        }
        VmSpec spec;
        try {
            spec = SpecRules.normalize(VmJson.spec(item.get("spec")));
        } catch (ApiError e) {
            problems.add(at + ": " + e.field() + ": " + e.getMessage());
            return Optional.empty();
        }
        Optional<Rejection> bad = SpecRules.validate(spec);
        if (bad.isPresent()) {
            problems.add(at + ": " + bad.get().getField() + ": " + bad.get().getMessage());
            return Optional.empty();
        }
        return Optional.of(new Entry(line, jobId, tenant, spec, item.get("spec")));
    }
}
