package dev.flotilla.node.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flotilla.proto.Constraints;
import dev.flotilla.proto.EnvVar;
import dev.flotilla.proto.FirewallRule;
import dev.flotilla.proto.FsSpec;
import dev.flotilla.proto.Label;
import dev.flotilla.proto.LuaProgram;
import dev.flotilla.proto.NodeRecord;
import dev.flotilla.proto.PortForward;
import dev.flotilla.proto.Resources;
import dev.flotilla.proto.VmRecord;
import dev.flotilla.proto.VmSpec;
import dev.flotilla.proto.WarmPoolSpec;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** The API's JSON shape of specs, VM records and node records, read strictly and written in snake_case. */
public final class VmJson {
    public static final ObjectMapper MAPPER = new ObjectMapper();

    static final Set<String> SPEC_FIELDS = Set.of("runtime", "rootfs", "kernel", "cmd", "env", "resources",
            "lifecycle", "warm_pool", "dns_name", "aliases", "ports", "constraints", "hypervisor",
            "allow_oversubscribe", "programs", "hostname", "firewall", "fs");

    private VmJson() {}

    /** Reads a spec object; unknown fields and wrong types are refused with the field's path. */
    public static VmSpec spec(JsonNode node) {
        JsonObject s = JsonObject.of(node, "spec", SPEC_FIELDS);
        VmSpec.Builder b = VmSpec.newBuilder()
                .setRuntime(s.string("runtime", ""))
                .setRootfs(s.string("rootfs", ""))
                .setKernel(s.string("kernel", ""))
                .addAllCmd(s.strings("cmd"))
                .setLifecycle(s.string("lifecycle", ""))
                .setDnsName(s.string("dns_name", ""))
                .addAllAliases(s.strings("aliases"))
                .setHypervisor(s.string("hypervisor", ""))
                .setAllowOversubscribe(s.bool("allow_oversubscribe", false))
                .setHostname(s.string("hostname", ""));
        s.stringMap("env").stream().sorted(Map.Entry.comparingByKey())
                .forEach(e -> b.addEnv(EnvVar.newBuilder().setName(e.getKey()).setValue(e.getValue())));
        if (s.has("resources")) {
            JsonObject r = JsonObject.of(s.raw("resources"), "spec.resources", Set.of("vcpu", "mem_mb"));
            b.setResources(Resources.newBuilder()
                    .setVcpu((int) r.integer("vcpu", 0, 0, 1 << 20))
                    .setMemMb((int) r.integer("mem_mb", 0, 0, Integer.MAX_VALUE)));
        }
        if (s.has("warm_pool")) {
            JsonObject w = JsonObject.of(s.raw("warm_pool"), "spec.warm_pool", Set.of("min", "max"));
            b.setWarmPool(WarmPoolSpec.newBuilder()
                    .setMin((int) w.integer("min", 0, 0, 1 << 20))
                    .setMax((int) w.integer("max", 0, 0, 1 << 20)));
        }
        List<JsonNode> ports = s.array("ports");
        for (int i = 0; i < ports.size(); i++) {
            JsonObject p = JsonObject.of(ports.get(i), "spec.ports[" + i + "]", Set.of("host", "guest", "proto"));
            b.addPorts(PortForward.newBuilder()
                    .setHost((int) p.integer("host", 0, 0, 65535))
                    .setGuest((int) p.integer("guest", 0, 0, 65535))
                    .setProto(p.string("proto", "tcp")));
        }
        if (s.has("constraints")) {
            JsonObject c = JsonObject.of(s.raw("constraints"), "spec.constraints", Set.of("node", "labels"));
            Constraints.Builder cb = Constraints.newBuilder().setNode(c.string("node", ""));
            c.stringMap("labels").stream().sorted(Map.Entry.comparingByKey())
                    .forEach(e -> cb.addLabels(Label.newBuilder().setKey(e.getKey()).setValue(e.getValue())));
            b.setConstraints(cb);
        }
        List<JsonNode> programs = s.array("programs");
        for (int i = 0; i < programs.size(); i++) {
            JsonObject p = JsonObject.of(programs.get(i), "spec.programs[" + i + "]", Set.of("name", "source", "path"));
            b.addPrograms(LuaProgram.newBuilder()
                    .setName(p.string("name", ""))
                    .setSource(p.string("source", ""))
                    .setPath(p.string("path", "")));
        }
        List<JsonNode> firewall = s.array("firewall");
        for (int i = 0; i < firewall.size(); i++) {
            JsonObject f = JsonObject.of(firewall.get(i), "spec.firewall[" + i + "]", Set.of("action", "from", "port", "proto"));
            b.addFirewall(FirewallRule.newBuilder()
                    .setAction(f.string("action", ""))
                    .setFrom(f.string("from", "*"))
                    .setPort((int) f.integer("port", 0, 0, 65535))
                    .setProto(f.string("proto", "*")));
        }
        if (s.has("fs")) {
            JsonObject f = JsonObject.of(s.raw("fs"), "spec.fs", Set.of("quota_bytes"));
            b.setFs(FsSpec.newBuilder().setQuotaBytes(f.integer("quota_bytes", 0, 0, Long.MAX_VALUE)));
        }
        return b.build();
    }

    public static ObjectNode spec(VmSpec spec) {
        ObjectNode o = MAPPER.createObjectNode();
        o.put("runtime", spec.getRuntime());
        putIf(o, "rootfs", spec.getRootfs());
        putIf(o, "kernel", spec.getKernel());
        if (spec.getCmdCount() > 0) {
            ArrayNode a = o.putArray("cmd");
            spec.getCmdList().forEach(a::add);
        }
        if (spec.getEnvCount() > 0) {
            ObjectNode env = o.putObject("env");
            spec.getEnvList().forEach(e -> env.put(e.getName(), e.getValue()));
        }
        if (spec.hasResources()) {
            o.putObject("resources").put("vcpu", spec.getResources().getVcpu()).put("mem_mb", spec.getResources().getMemMb());
        }
        putIf(o, "lifecycle", spec.getLifecycle());
        if (spec.hasWarmPool()) {
            o.putObject("warm_pool").put("min", spec.getWarmPool().getMin()).put("max", spec.getWarmPool().getMax());
        }
        putIf(o, "dns_name", spec.getDnsName());
        if (spec.getAliasesCount() > 0) {
            ArrayNode a = o.putArray("aliases");
            spec.getAliasesList().forEach(a::add);
        }
        if (spec.getPortsCount() > 0) {
            ArrayNode a = o.putArray("ports");
            spec.getPortsList().forEach(p -> a.addObject().put("host", p.getHost()).put("guest", p.getGuest()).put("proto", p.getProto()));
        }
        if (spec.hasConstraints()) {
            ObjectNode c = o.putObject("constraints");
            putIf(c, "node", spec.getConstraints().getNode());
            if (spec.getConstraints().getLabelsCount() > 0) {
                ObjectNode l = c.putObject("labels");
                spec.getConstraints().getLabelsList().forEach(x -> l.put(x.getKey(), x.getValue()));
            }
        }
        putIf(o, "hypervisor", spec.getHypervisor());
        if (spec.getAllowOversubscribe()) o.put("allow_oversubscribe", true);
        if (spec.getProgramsCount() > 0) {
            ArrayNode a = o.putArray("programs");
            for (LuaProgram p : spec.getProgramsList()) {
                ObjectNode po = a.addObject().put("name", p.getName());
                putIf(po, "source", p.getSource());
                putIf(po, "path", p.getPath());
            }
        }
        putIf(o, "hostname", spec.getHostname());
        if (spec.getFirewallCount() > 0) {
            ArrayNode a = o.putArray("firewall");
            spec.getFirewallList().forEach(f -> a.addObject().put("action", f.getAction()).put("from", f.getFrom())
                    .put("port", f.getPort()).put("proto", f.getProto()));
        }
        if (spec.hasFs()) o.putObject("fs").put("quota_bytes", spec.getFs().getQuotaBytes());
        return o;
    }

    private static void putIf(ObjectNode o, String name, String value) {
        if (!value.isEmpty()) o.put(name, value);
    }

    /** Enum names without their prefix, lower case: DESIRED_RUNNING -> running, RUNNING -> running. */
    public static String state(Enum<?> e) {
        String n = e.name();
        if (n.startsWith("DESIRED_")) n = n.substring("DESIRED_".length());
        if (n.startsWith("NODE_")) n = n.substring("NODE_".length());
        if (n.endsWith("_UNSPECIFIED")) return "unknown";
        return n.toLowerCase(Locale.ROOT);
    }

    public static ObjectNode record(VmRecord r) {
        ObjectNode o = MAPPER.createObjectNode();
        o.put("id", r.getId());
        o.put("job_id", r.getId());
        o.put("vm_id", r.getVmId().isEmpty() ? r.getId() : r.getVmId());
        o.put("tenant", r.getTenant());
        o.put("desired", state(r.getDesired()));
        o.put("observed", state(r.getObserved()));
        o.put("reason", r.getObservedReason());
        if (r.getObserved() == dev.flotilla.proto.ObservedState.EXITED) o.put("exit_code", r.getExitCode());
        o.put("node", r.getNode());
        o.put("epoch", r.getEpoch());
        o.put("ip", r.getIp());
        o.put("mac", r.getMac());
        o.put("dns_name", r.getDnsName());
        o.put("version", r.getVersion());
        o.put("created_ms", r.getCreatedMs());
        o.put("updated_ms", r.getUpdatedMs());
        o.put("warm", r.getWarm());
        o.put("spec_hash", r.getSpecHash());
        o.set("spec", spec(r.getSpec()));
        return o;
    }

    public static ArrayNode records(List<VmRecord> rs) {
        ArrayNode a = MAPPER.createArrayNode();
        rs.stream().sorted(Comparator.comparing(VmRecord::getId)).forEach(r -> a.add(record(r)));
        return a;
    }

    public static ObjectNode node(NodeRecord n) {
        ObjectNode o = MAPPER.createObjectNode();
        o.put("id", n.getId());
        o.put("api_address", n.getApiAddress());
        o.put("raft_address", n.getRaftAddress());
        o.put("state", state(n.getState()));
        o.put("drained", n.getDrained());
        o.putObject("capacity").put("vcpu", n.getCapacity().getVcpu()).put("mem_mb", n.getCapacity().getMemMb());
        ArrayNode b = o.putArray("backends");
        n.getBackendsList().forEach(b::add);
        ObjectNode l = o.putObject("labels");
        n.getLabelsList().forEach(x -> l.put(x.getKey(), x.getValue()));
        return o;
    }
}
