package dev.flotilla.node.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** `flotilla cluster ...`: the Raft administration ratis-shell offers, over the nodes' HTTP API. */
@Command(name = "cluster", mixinStandardHelpOptions = true,
        description = "Inspect and administer the Raft group.",
        subcommands = {ClusterCommand.Status.class, ClusterCommand.Members.class, ClusterCommand.AddPeer.class,
                ClusterCommand.RemovePeer.class, ClusterCommand.TransferLeader.class, ClusterCommand.Snapshot.class,
                ClusterCommand.PauseElection.class, ClusterCommand.ResumeElection.class})
final class ClusterCommand {
    private static final ObjectMapper JSON = new ObjectMapper();

    static int admin(ServerOptions server, String method, String path, JsonNode body) {
        try {
            ApiClient.Answer a = server.client().send(method, path, body);
            if (!a.ok()) return Output.refused(a, server.json);
            if (server.json) Output.json(a.body());
            else System.out.println(a.body().path("message").asText("ok") + " (via " + a.server() + ")");
            return 0;
        } catch (ApiClient.Unreachable e) {
            return Output.unreachable(e);
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true,
            description = "Ask every --server for its view: role, leader, term, indexes, digest. Exit 3 if none answers.")
    static final class Status implements Callable<Integer> {
        @Mixin ServerOptions server;

        @Override
        public Integer call() {
            ArrayNode all = JSON.createArrayNode();
            Table t = new Table("SERVER", "NODE", "ROLE", "LEADER", "TERM", "COMMIT", "APPLIED", "DIGEST");
            int answered = 0;
            for (String s : server.client().servers()) {
                try {
                    ApiClient.Answer a = new ApiClient(List.of(s)).get("/cluster");
                    JsonNode b = a.body();
                    if (b == null) continue;
                    answered++;
                    ((ObjectNode) b).put("server", s);
                    all.add(b);
                    String digest = b.path("digest").asText();
                    t.row(s, b.path("node").asText(), b.path("role").asText(), b.path("leader").asText("-"),
                            b.path("term").asLong(), b.path("commit_index").asLong(), b.path("applied_index").asLong(),
                            digest.length() > 12 ? digest.substring(0, 12) : digest);
                } catch (ApiClient.Unreachable e) {
                    t.row(s, "-", "unreachable", "-", "-", "-", "-", "-");
                    ObjectNode o = all.addObject();
                    o.put("server", s);
                    o.put("role", "unreachable");
                }
            }
            if (server.json) Output.json(all);
            else System.out.print(t);
            return answered == 0 ? Flotilla.UNAVAILABLE : 0;
        }
    }

    @Command(name = "members", mixinStandardHelpOptions = true, description = "List the voting members of the group.")
    static final class Members implements Callable<Integer> {
        @Mixin ServerOptions server;

        @Override
        public Integer call() {
            try {
                ApiClient.Answer a = server.client().get("/cluster");
                if (!a.ok()) return Output.refused(a, server.json);
                if (server.json) {
                    Output.json(a.body().path("members"));
                    return 0;
                }
                Table t = new Table("ID", "RAFT ADDRESS", "ROLE");
                a.body().path("members").forEach(m -> t.row(m.path("id").asText(), m.path("raft_address").asText(), m.path("role").asText()));
                System.out.print(t);
                return 0;
            } catch (ApiClient.Unreachable e) {
                return Output.unreachable(e);
            }
        }
    }

    @Command(name = "add-peer", mixinStandardHelpOptions = true,
            description = {"Add a node to the group by a configuration change.",
                    "Start the new node first with --join (an empty group), then run this."})
    static final class AddPeer implements Callable<Integer> {
        @Mixin ServerOptions server;
        @Parameters(index = "0", paramLabel = "ID") String id;
        @Parameters(index = "1", paramLabel = "RAFT_HOST:PORT") String raft;

        @Override
        public Integer call() {
            ObjectNode b = JSON.createObjectNode().put("id", id).put("raft", raft);
            return admin(server, "POST", "/cluster/peers", b);
        }
    }

    @Command(name = "remove-peer", mixinStandardHelpOptions = true, description = "Remove a node from the group by a configuration change.")
    static final class RemovePeer implements Callable<Integer> {
        @Mixin ServerOptions server;
        @Parameters(paramLabel = "ID") String id;

        @Override
        public Integer call() {
            return admin(server, "DELETE", "/cluster/peers/" + id, null);
        }
    }

    @Command(name = "transfer-leader", mixinStandardHelpOptions = true, description = "Hand leadership to the named node.")
    static final class TransferLeader implements Callable<Integer> {
        @Mixin ServerOptions server;
        @Parameters(paramLabel = "ID") String id;
        @Option(names = "--timeout-ms", defaultValue = "10000") long timeoutMs;

        @Override
        public Integer call() {
            return admin(server, "POST", "/cluster/leader", JSON.createObjectNode().put("id", id).put("timeout_ms", timeoutMs));
        }
    }

    @Command(name = "snapshot", mixinStandardHelpOptions = true,
            description = "Take a snapshot on the first --server that answers (give one --server to choose the node).")
    static final class Snapshot implements Callable<Integer> {
        @Mixin ServerOptions server;

        @Override
        public Integer call() {
            try {
                ApiClient.Answer a = server.client().post("/cluster/snapshot", null);
                if (!a.ok()) return Output.refused(a, server.json);
                if (server.json) Output.json(a.body());
                else System.out.println("snapshot taken on " + a.body().path("node").asText() + " at index " + a.body().path("snapshot_index").asLong());
                return 0;
            } catch (ApiClient.Unreachable e) {
                return Output.unreachable(e);
            }
        }
    }

    @Command(name = "pause-election", mixinStandardHelpOptions = true,
            description = "Stop the first --server's node from starting elections (for maintenance).")
    static final class PauseElection implements Callable<Integer> {
        @Mixin ServerOptions server;

        @Override
        public Integer call() {
            return admin(server, "POST", "/cluster/election/pause", null);
        }
    }

    @Command(name = "resume-election", mixinStandardHelpOptions = true, description = "Let the node start elections again.")
    static final class ResumeElection implements Callable<Integer> {
        @Mixin ServerOptions server;

        @Override
        public Integer call() {
            return admin(server, "POST", "/cluster/election/resume", null);
        }
    }
}
