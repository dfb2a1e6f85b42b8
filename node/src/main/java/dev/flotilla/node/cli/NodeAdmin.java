package dev.flotilla.node.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** `flotilla node list|drain|undrain`: the registered nodes, their capacity, load and state. */
final class NodeAdmin {
    private NodeAdmin() {}

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List the registered nodes: capacity, load, state.")
    static final class ListNodes implements Callable<Integer> {
        @Mixin ServerOptions server;

        @Override
        public Integer call() {
            try {
                ApiClient.Answer a = server.client().get("/nodes");
                if (!a.ok()) return Output.refused(a, server.json);
                if (server.json) {
                    Output.json(a.body());
                    return 0;
                }
                Table t = new Table("ID", "STATE", "DRAINED", "VMS", "VCPU", "MEM_MB", "BACKENDS", "API");
                for (JsonNode n : a.body().path("nodes")) {
                    JsonNode cap = n.path("capacity");
                    JsonNode load = n.path("load");
                    t.row(n.path("id").asText(), n.path("state").asText(), n.path("drained").asBoolean() ? "yes" : "no",
                            load.path("vms").asLong(),
                            load.path("vcpu").asLong() + "/" + cap.path("vcpu").asLong(),
                            load.path("mem_mb").asLong() + "/" + cap.path("mem_mb").asLong(),
                            String.join(",", iterate(n.path("backends"))), n.path("api_address").asText());
                }
                System.out.print(t);
                return 0;
            } catch (ApiClient.Unreachable e) {
                return Output.unreachable(e);
            }
        }

        private static java.util.List<String> iterate(JsonNode array) {
            java.util.List<String> out = new java.util.ArrayList<>();
            array.forEach(x -> out.add(x.asText()));
            return out;
        }
    }

    @Command(name = "drain", mixinStandardHelpOptions = true,
            description = {"Stop placing VMs on NODE and move its service and daemon VMs elsewhere.",
                    "Jobs already running there finish where they are. Undo with 'flotilla node undrain NODE'."})
    static final class Drain implements Callable<Integer> {
        @Mixin ServerOptions server;
        @Parameters(paramLabel = "NODE") String node;

        @Override
        public Integer call() {
            return set(server, node, true);
        }
    }

    @Command(name = "undrain", mixinStandardHelpOptions = true, description = "Let the leader place VMs on NODE again.")
    static final class Undrain implements Callable<Integer> {
        @Mixin ServerOptions server;
        @Parameters(paramLabel = "NODE") String node;

        @Override
        public Integer call() {
            return set(server, node, false);
        }
    }

    private static int set(ServerOptions server, String node, boolean drained) {
        try {
            String path = "/nodes/" + URLEncoder.encode(node, StandardCharsets.UTF_8) + (drained ? "/drain" : "/undrain");
            ApiClient.Answer a = server.client().post(path, null);
            if (!a.ok()) return Output.refused(a, server.json);
            if (server.json) Output.json(a.body());
            else System.out.println(node + (drained ? " drained: no new VMs; its services and daemons move to other nodes"
                    : " undrained: the leader places VMs on it again"));
            return 0;
        } catch (ApiClient.Unreachable e) {
            return Output.unreachable(e);
        }
    }
}
