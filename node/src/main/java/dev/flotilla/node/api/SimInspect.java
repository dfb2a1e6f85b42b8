package dev.flotilla.node.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flotilla.node.raft.RaftNode;
import dev.flotilla.node.sim.SimRuntime;
import dev.flotilla.node.sim.SimVmStatus;
import dev.flotilla.proto.FileChange;
import dev.flotilla.proto.GetFiles;
import dev.flotilla.proto.GetVm;
import dev.flotilla.proto.ListNodes;
import dev.flotilla.proto.NodeRecord;
import dev.flotilla.proto.Query;
import dev.flotilla.proto.VmRecord;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * The live view of lua VMs: their processes, counters and log lines live only in the memory of the
 * node that runs them. The node hosting a VM answers from its runtime; any other node that receives
 * the request fetches the answer from the host's API ({@code GET /vms/{id}/sim}, {@code /logs}).
 */
public final class SimInspect {
    private static final Duration FETCH_TIMEOUT = Duration.ofSeconds(3);

    /** This node's runtime, as the inspect routes need it. */
    public interface Local {
        CompletableFuture<Optional<SimVmStatus>> status(String machine);

        CompletableFuture<Optional<SimRuntime.LogPage>> logs(String machine, long after);
    }

    private final RaftNode raft;
    private final String selfId;
    private final Local local;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(FETCH_TIMEOUT).build();

    /** @param local this node's runtime, or null when this node runs no lua VMs */
    public SimInspect(RaftNode raft, String selfId, Local local) {
        this.raft = raft;
        this.selfId = selfId;
        this.local = local;
    }

    private static String machine(VmRecord r) {
        return r.getVmId().isEmpty() ? r.getId() : r.getVmId();
    }

    static boolean applies(VmRecord r) {
        return "lua".equals(r.getSpec().getRuntime()) && !r.getNode().isEmpty();
    }

    /** Adds "sim" (the live view, from whichever node hosts the VM) or "sim_error" to a VM's JSON. */
    CompletableFuture<ObjectNode> augment(VmRecord r, ObjectNode o) {
        if (!applies(r)) return CompletableFuture.completedFuture(o);
        CompletableFuture<JsonNode> view = r.getNode().equals(selfId)
                ? localStatus(r).thenApply(s -> s.<JsonNode>map(SimInspect::json).orElse(null))
                : fetch(r.getNode(), "/vms/" + enc(r.getId()) + "/sim");
        return view.handle((v, err) -> {
            if (err != null) {
                o.put("sim_error", "node " + r.getNode() + " did not give the live view: " + rootMessage(err));
            } else if (v == null) {
                o.put("sim_error", "node " + r.getNode() + " does not run VM " + machine(r) + " now (starting, stopped, or moving)");
            } else {
                o.set("sim", v);
            }
            return o;
        });
    }

    private CompletableFuture<Optional<SimVmStatus>> localStatus(VmRecord r) {
        if (local == null) return CompletableFuture.completedFuture(Optional.empty());
        return local.status(machine(r));
    }

    /** GET /vms/{id}/sim: this node's own view only (what other nodes fetch). */
    CompletableFuture<Reply> sim(String id) {
        return record(id).thenCompose(r -> {
            if (r.isEmpty()) return done(Reply.error(404, "not_found", "id", "no VM with id '" + id + "'; list VMs with GET /vms", Map.of()));
            return localStatus(r.get()).thenApply(s -> s.map(x -> Reply.json(200, json(x)))
                    .orElseGet(() -> notHere(r.get())));
        });
    }

    /** GET /vms/{id}/logs?after=N: from this node's runtime, or fetched from the host unless {@code localOnly}. */
    CompletableFuture<Reply> logs(String id, long after, boolean localOnly) {
        return record(id).thenCompose(r -> {
            if (r.isEmpty()) return done(Reply.error(404, "not_found", "id", "no VM with id '" + id + "'; list VMs with GET /vms", Map.of()));
            VmRecord vm = r.get();
            if (!"lua".equals(vm.getSpec().getRuntime())) {
                return done(Reply.error(400, "invalid", "id", "VM '" + id + "' runs '" + vm.getSpec().getRuntime()
                        + "'; only lua VMs keep log lines in Flotilla (read other VMs' logs on their host)", Map.of()));
            }
            if (vm.getNode().equals(selfId) && local != null) {
                return local.logs(machine(vm), after).thenApply(p -> p.map(page -> {
                    ObjectNode o = VmJson.MAPPER.createObjectNode();
                    o.put("id", vm.getId()).put("node", selfId).put("next", page.next());
                    ArrayNode lines = o.putArray("lines");
                    page.lines().forEach(lines::add);
                    return Reply.json(200, o);
                }).orElseGet(() -> notHere(vm)));
            }
            if (localOnly || vm.getNode().isEmpty()) return done(notHere(vm));
            return fetch(vm.getNode(), "/vms/" + enc(id) + "/logs?local=1&after=" + after)
                    .thenApply(body -> Reply.json(200, body))
                    .exceptionally(err -> Reply.error(502, "host_unreachable", "node", "node " + vm.getNode()
                            + " hosts VM " + id + " but did not answer for its logs: " + rootMessage(err)
                            + "; retry, or check GET /nodes", Map.of()));
        });
    }

    /**
     * GET /vms/{id}/files: the files the log holds for a lua VM (what it starts with on any node), by
     * path with their sizes. A linearizable read: what a failover would seed it with now.
     */
    CompletableFuture<Reply> files(String id) {
        return raft.query(Query.newBuilder().setGetFiles(GetFiles.newBuilder().setJobId(id)).build()).thenApply(q -> {
            if (q.hasRejection() && !q.getRejection().getMessage().isEmpty()) return Routes.rejection(q.getRejection());
            ObjectNode o = VmJson.MAPPER.createObjectNode();
            o.put("id", id);
            ArrayNode files = o.putArray("files");
            long total = 0;
            for (FileChange f : q.getFilesList()) {
                files.addObject().put("path", f.getPath()).put("bytes", f.getData().size());
                total += f.getData().size();
            }
            o.put("total_bytes", total);
            return Reply.json(200, o);
        });
    }

    private Reply notHere(VmRecord r) {
        String where = r.getNode().isEmpty() ? "it is not placed on any node yet" : "its record names node " + r.getNode();
        return Reply.error(404, "not_running_here", "id", "node " + selfId + " does not run VM " + r.getId() + " now; "
                + where + " (ask GET /vms/" + r.getId() + " on any node)", Map.of());
    }

    private CompletableFuture<Optional<VmRecord>> record(String id) {
        return raft.queryLocalStale(Query.newBuilder().setGetVm(GetVm.newBuilder().setJobId(id)).build())
                .thenApply(q -> q.getVmsCount() == 0 ? Optional.empty() : Optional.of(q.getVms(0)));
    }

    /** GETs a path from another node's API; fails unless it answers 200 with JSON. */
    private CompletableFuture<JsonNode> fetch(String node, String path) {
        return raft.queryLocalStale(Query.newBuilder().setListNodes(ListNodes.getDefaultInstance()).build()).thenCompose(q -> {
            Optional<String> api = q.getNodesList().stream().filter(n -> n.getId().equals(node))
                    .map(NodeRecord::getApiAddress).filter(a -> !a.isEmpty()).findFirst();
            if (api.isEmpty()) return CompletableFuture.failedFuture(new IllegalStateException("node " + node + " has no registered API address"));
            HttpRequest req = HttpRequest.newBuilder(URI.create("http://" + api.get() + path)).timeout(FETCH_TIMEOUT).GET().build();
            return http.sendAsync(req, HttpResponse.BodyHandlers.ofString()).thenApply(resp -> {
                JsonNode body;
                try {
                    body = VmJson.MAPPER.readTree(resp.body());
                } catch (Exception e) {
                    throw new IllegalStateException("answered " + resp.statusCode() + " without JSON");
                }
                if (resp.statusCode() == 404) return null;
                if (resp.statusCode() != 200) throw new IllegalStateException("answered " + resp.statusCode() + ": " + body.path("message").asText());
                return body;
            });
        });
    }

    /** A VM's live view as JSON: state, processes and counters. */
    public static ObjectNode json(SimVmStatus s) {
        ObjectNode o = VmJson.MAPPER.createObjectNode();
        o.put("state", s.state());
        if (!s.stopReason().isEmpty()) o.put("stop_reason", s.stopReason());
        o.put("ip", s.ip()).put("hostname", s.hostname());
        ArrayNode procs = o.putArray("processes");
        for (SimVmStatus.ProcessStatus p : s.processes()) {
            ObjectNode po = procs.addObject().put("pid", p.pid()).put("program", p.program()).put("state", p.state());
            if (p.state().equals("exited")) po.put("exit_code", p.exitCode());
            if (!p.lastError().isEmpty()) po.put("last_error", p.lastError());
        }
        ObjectNode c = o.putObject("counters");
        c.put("ticks", s.ticksRun()).put("handler_calls", s.handlerCalls()).put("packets_in", s.packetsIn())
                .put("packets_out", s.packetsOut());
        ObjectNode drops = c.putObject("packets_dropped");
        s.drops().forEach((k, v) -> drops.put(k.toLowerCase(java.util.Locale.ROOT), v));
        c.put("fs_bytes", s.fsBytes()).put("fs_quota_bytes", s.fsQuotaBytes());
        c.put("heap_bytes", s.heapBytes()).put("heap_quota_bytes", s.heapQuotaBytes());
        return o;
    }

    private static String enc(String id) {
        return URLEncoder.encode(id, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static <T> CompletableFuture<T> done(T v) {
        return CompletableFuture.completedFuture(v);
    }

    private static String rootMessage(Throwable t) {
        while (t.getCause() != null && (t instanceof java.util.concurrent.CompletionException
                || t instanceof java.util.concurrent.ExecutionException)) t = t.getCause();
        return t.getMessage() == null ? t.toString() : t.getMessage();
    }
}
