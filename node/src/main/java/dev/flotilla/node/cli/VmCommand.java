package dev.flotilla.node.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** `flotilla vm ...`: create, list, inspect, start, stop and delete VMs through any node. */
@Command(name = "vm", mixinStandardHelpOptions = true,
        description = "Manage VMs. Every command works against any node; writes go through the leader.",
        subcommands = {VmCommand.Create.class, VmCommand.ListVms.class, VmCommand.Get.class,
                VmCommand.Start.class, VmCommand.Stop.class, VmCommand.Delete.class, VmCommand.Logs.class})
final class VmCommand {
    private static final ObjectMapper JSON = new ObjectMapper();

    static String path(String id) {
        return "/vms/" + URLEncoder.encode(id, StandardCharsets.UTF_8).replace("+", "%20");
    }

    static void printVms(List<JsonNode> vms) {
        Table t = new Table("ID", "TENANT", "RUNTIME", "DESIRED", "OBSERVED", "NODE", "IP", "VERSION");
        for (JsonNode v : vms) {
            t.row(v.path("id").asText(), v.path("tenant").asText(), v.path("spec").path("runtime").asText(),
                    v.path("desired").asText(), v.path("observed").asText(),
                    v.path("node").asText().isEmpty() ? "-" : v.path("node").asText(),
                    v.path("ip").asText(), v.path("version").asLong());
        }
        System.out.print(t);
    }

    /** POST /vms/{id}/start or /stop, printed like any VM answer. */
    static int transition(ServerOptions server, String id, String verb) {
        try {
            return show(server.client().post(path(id) + "/" + verb, null), server.json);
        } catch (ApiClient.Unreachable e) {
            return Output.unreachable(e);
        }
    }

    static int show(ApiClient.Answer a, boolean json) {
        if (!a.ok()) return Output.refused(a, json);
        if (json) Output.json(a.body());
        else printVms(List.of(a.body()));
        return 0;
    }

    @Command(name = "create", mixinStandardHelpOptions = true,
            description = {"Create a VM, or replace the spec of an existing job id (upsert).", "",
                    "Examples:",
                    "  flotilla vm create --job-id web-1 --runtime process --cmd sleep --cmd 600",
                    "  flotilla vm create --job-id echo --runtime lua --program main=echo.lua --dns-name echo.sim",
                    "  flotilla vm create -f web.yaml        # {job_id, tenant, spec: {...}} in YAML or JSON"})
    static final class Create implements Callable<Integer> {
        @Mixin ServerOptions server;
        @Option(names = {"-f", "--file"}, paramLabel = "FILE", description = "A request {job_id, tenant, spec} in JSON or YAML; flags override it.")
        Path file;
        @Option(names = "--job-id", description = "The job id (generated when absent).") String jobId;
        @Option(names = "--tenant", description = "The tenant (defaults to the job id).") String tenant;
        @Option(names = "--runtime", description = "microvm, libvirt, process or lua.") String runtime;
        @Option(names = "--cmd", paramLabel = "ARG", description = "The command, one --cmd per argument.") List<String> cmd = new ArrayList<>();
        @Option(names = "--env", paramLabel = "NAME=VALUE", description = "An environment variable; repeatable.") List<String> env = new ArrayList<>();
        @Option(names = "--vcpu") Integer vcpu;
        @Option(names = "--mem-mb") Integer memMb;
        @Option(names = "--lifecycle", description = "service, daemon or job.") String lifecycle;
        @Option(names = "--dns-name") String dnsName;
        @Option(names = "--kernel") String kernel;
        @Option(names = "--rootfs") String rootfs;
        @Option(names = "--expected-version", description = "Apply only if the VM's version is this (0: only if it does not exist).") Long expectedVersion;
        @Option(names = "--program", paramLabel = "NAME=FILE", description = "A Lua program (runtime lua), sent inline from a local file; repeatable, the first starts at boot.")
        List<String> programs = new ArrayList<>();
        @Option(names = "--stopped", description = "Record the VM desired stopped: nothing runs until 'flotilla vm start'.") boolean stopped;

        @Override
        public Integer call() throws IOException {
            ObjectNode req = JSON.createObjectNode();
            if (file != null) {
                JsonNode read = new ObjectMapper(new YAMLFactory()).readTree(Files.readString(file));
                if (read == null || !read.isObject()) {
                    System.err.println("error: " + file + " must hold an object {job_id, tenant, spec}");
                    return 2;
                }
                req = (ObjectNode) read;
            }
            ObjectNode spec = req.has("spec") && req.get("spec").isObject() ? (ObjectNode) req.get("spec") : req.putObject("spec");
            if (jobId != null) req.put("job_id", jobId);
            if (tenant != null) req.put("tenant", tenant);
            if (expectedVersion != null) req.put("expected_version", expectedVersion);
            if (stopped) req.put("desired", "stopped");
            if (runtime != null) spec.put("runtime", runtime);
            if (!cmd.isEmpty()) {
                ArrayNode a = spec.putArray("cmd");
                cmd.forEach(a::add);
            }
            if (!env.isEmpty()) {
                ObjectNode e = spec.putObject("env");
                for (String kv : env) {
                    int eq = kv.indexOf('=');
                    if (eq <= 0) {
                        System.err.println("error: --env '" + kv + "' must be NAME=VALUE");
                        return 2;
                    }
                    e.put(kv.substring(0, eq), kv.substring(eq + 1));
                }
            }
            if (vcpu != null || memMb != null) {
                ObjectNode r = spec.has("resources") ? (ObjectNode) spec.get("resources") : spec.putObject("resources");
                if (vcpu != null) r.put("vcpu", vcpu);
                if (memMb != null) r.put("mem_mb", memMb);
            }
            if (!programs.isEmpty()) {
                ArrayNode a = spec.putArray("programs");
                for (String nf : programs) {
                    int eq = nf.indexOf('=');
                    if (eq <= 0 || eq == nf.length() - 1) {
                        System.err.println("error: --program '" + nf + "' must be NAME=FILE, e.g. main=server.lua");
                        return 2;
                    }
                    Path source = Path.of(nf.substring(eq + 1));
                    if (!Files.isReadable(source)) {
                        System.err.println("error: --program " + nf.substring(0, eq) + ": cannot read " + source);
                        return 2;
                    }
                    a.addObject().put("name", nf.substring(0, eq)).put("source", Files.readString(source));
                }
            }
            if (lifecycle != null) spec.put("lifecycle", lifecycle);
            if (dnsName != null) spec.put("dns_name", dnsName);
            if (kernel != null) spec.put("kernel", kernel);
            if (rootfs != null) spec.put("rootfs", rootfs);
            try {
                return show(server.client().post("/vms", req), server.json);
            } catch (ApiClient.Unreachable e) {
                return Output.unreachable(e);
            }
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List VMs (linearizable read).")
    static final class ListVms implements Callable<Integer> {
        @Mixin ServerOptions server;
        @Option(names = "--tenant", description = "Only this tenant's VMs.") String tenant;

        @Override
        public Integer call() {
            try {
                String q = tenant == null ? "" : "?tenant=" + URLEncoder.encode(tenant, StandardCharsets.UTF_8);
                ApiClient.Answer a = server.client().get("/vms" + q);
                if (!a.ok()) return Output.refused(a, server.json);
                if (server.json) {
                    Output.json(a.body());
                } else {
                    List<JsonNode> vms = new ArrayList<>();
                    a.body().path("vms").forEach(vms::add);
                    printVms(vms);
                }
                return 0;
            } catch (ApiClient.Unreachable e) {
                return Output.unreachable(e);
            }
        }
    }

    @Command(name = "get", mixinStandardHelpOptions = true, description = "Show one VM.")
    static final class Get implements Callable<Integer> {
        @Mixin ServerOptions server;
        @Parameters(paramLabel = "ID") String id;

        @Override
        public Integer call() {
            try {
                ApiClient.Answer a = server.client().get(path(id));
                if (!a.ok()) return Output.refused(a, server.json);
                if (server.json) {
                    Output.json(a.body());
                    return 0;
                }
                JsonNode v = a.body();
                Table t = new Table("FIELD", "VALUE");
                for (String f : List.of("id", "vm_id", "tenant", "desired", "observed", "reason", "node", "epoch", "ip", "mac", "dns_name", "version"))
                    t.row(f, v.path(f).asText());
                t.row("spec", v.path("spec").toString());
                if (v.has("sim")) {
                    // A lua VM's live view, from the node running it.
                    JsonNode sim = v.path("sim");
                    t.row("sim.state", sim.path("state").asText() + (sim.has("stop_reason") ? ": " + sim.path("stop_reason").asText() : ""));
                    for (JsonNode p : sim.path("processes")) {
                        String err = p.path("last_error").asText();
                        t.row("process " + p.path("pid").asText(), p.path("program").asText() + " " + p.path("state").asText()
                                + (err.isEmpty() ? "" : ": " + err.lines().findFirst().orElse("")));
                    }
                    t.row("sim.counters", sim.path("counters").toString());
                } else if (v.has("sim_error")) {
                    t.row("sim", v.path("sim_error").asText());
                }
                System.out.print(t);
                return 0;
            } catch (ApiClient.Unreachable e) {
                return Output.unreachable(e);
            }
        }
    }

    @Command(name = "start", mixinStandardHelpOptions = true, description = "Ask for a stopped VM to run.")
    static final class Start implements Callable<Integer> {
        @Mixin ServerOptions server;
        @Parameters(paramLabel = "ID") String id;

        @Override
        public Integer call() {
            return transition(server, id, "start");
        }
    }

    @Command(name = "stop", mixinStandardHelpOptions = true, description = "Ask for a running VM to stop.")
    static final class Stop implements Callable<Integer> {
        @Mixin ServerOptions server;
        @Parameters(paramLabel = "ID") String id;

        @Override
        public Integer call() {
            return transition(server, id, "stop");
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true, description = "Delete a VM; its address and name return to the pool.")
    static final class Delete implements Callable<Integer> {
        @Mixin ServerOptions server;
        @Parameters(paramLabel = "ID") String id;

        @Override
        public Integer call() {
            try {
                ApiClient.Answer a = server.client().delete(path(id));
                if (!a.ok()) return Output.refused(a, server.json);
                if (server.json) Output.json(a.body());
                else System.out.println("deleted " + id);
                return 0;
            } catch (ApiClient.Unreachable e) {
                return Output.unreachable(e);
            }
        }
    }

    @Command(name = "logs", mixinStandardHelpOptions = true,
            description = "Show a lua VM's log lines (kept in the memory of the node running it; any node fetches them).")
    static final class Logs implements Callable<Integer> {
        @Mixin ServerOptions server;
        @Parameters(paramLabel = "ID") String id;
        @Option(names = {"-f", "--follow"}, description = "Keep printing new lines as the VM logs them (Ctrl-C to stop).") boolean follow;
        @Option(names = "--for", paramLabel = "SECONDS", description = "With --follow: stop after this many seconds (default: until interrupted).") Long forSeconds;

        @Override
        public Integer call() throws InterruptedException {
            long after = 0;
            long deadline = forSeconds == null ? Long.MAX_VALUE : System.nanoTime() + forSeconds * 1_000_000_000L;
            String node = null;
            while (true) {
                ApiClient.Answer a;
                try {
                    a = server.client().get(path(id) + "/logs?after=" + after);
                } catch (ApiClient.Unreachable e) {
                    return Output.unreachable(e);
                }
                if (a.ok()) {
                    long next = a.body().path("next").asLong();
                    String host = a.body().path("node").asText();
                    if (next < after || (node != null && !node.equals(host))) {
                        // The VM restarted (here or on another node): its numbering starts again.
                        if (!server.json) System.out.println("-- VM " + id + " restarted on node " + host + "; its log starts again --");
                        after = 0;
                        node = host;
                        continue;
                    }
                    node = host;
                    if (server.json) {
                        if (!follow) {
                            Output.json(a.body());
                            return 0;
                        }
                        for (JsonNode l : a.body().path("lines")) System.out.println(JSON.createObjectNode().put("node", host).put("line", l.asText()));
                    } else {
                        for (JsonNode l : a.body().path("lines")) System.out.println(l.asText());
                    }
                    System.out.flush();
                    after = next;
                } else if (!follow || a.status() != 404) {
                    return Output.refused(a, server.json);
                }
                if (!follow || System.nanoTime() > deadline) return 0;
                Thread.sleep(500); // the polling interval of --follow
            }
        }
    }
}
