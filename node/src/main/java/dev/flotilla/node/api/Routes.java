package dev.flotilla.node.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flotilla.node.metrics.NodeMetrics;
import dev.flotilla.node.raft.GroupView;
import dev.flotilla.node.raft.RaftNode;
import dev.flotilla.node.control.NodeLoad;
import dev.flotilla.node.control.WarmPoolPlan;
import dev.flotilla.proto.ClaimWarm;
import dev.flotilla.proto.Command;
import dev.flotilla.proto.NodeRecord;
import dev.flotilla.proto.SetNodeState;
import dev.flotilla.proto.VmRecord;
import dev.flotilla.proto.CommandResult;
import dev.flotilla.proto.DeleteVm;
import dev.flotilla.proto.DesiredState;
import dev.flotilla.proto.GetDigest;
import dev.flotilla.proto.GetVm;
import dev.flotilla.proto.ListNodes;
import dev.flotilla.proto.ListVms;
import dev.flotilla.proto.Query;
import dev.flotilla.proto.QueryResult;
import dev.flotilla.proto.Rejection;
import dev.flotilla.proto.StartVm;
import dev.flotilla.proto.StopVm;
import dev.flotilla.proto.UpsertVm;
import dev.flotilla.proto.VmSpec;
import dev.flotilla.statemachine.Ids;
import dev.flotilla.statemachine.SpecHash;
import dev.flotilla.statemachine.SpecRules;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.exceptions.StateMachineException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Maps each HTTP route to a command through the log or a read, and each outcome to a status code. */
public final class Routes {
    private static final Logger LOG = LoggerFactory.getLogger(Routes.class);
    private static final Set<String> UPSERT_FIELDS = Set.of("job_id", "tenant", "spec", "expected_version", "desired");
    private static final Map<String, String> RETRY = Map.of("Retry-After", "1");
    private static final SecureRandom RANDOM = new SecureRandom();

    private final RaftNode raft;
    private final NodeMetrics metrics;
    private final String nodeId;
    private volatile SimInspect sim;

    public Routes(RaftNode raft, NodeMetrics metrics, String nodeId) {
        this.raft = raft;
        this.metrics = metrics;
        this.nodeId = nodeId;
    }

    /** Adds the live view of lua VMs to GET /vms/{id}, and the /vms/{id}/sim and /vms/{id}/logs routes. */
    public Routes withSim(SimInspect inspect) {
        this.sim = inspect;
        return this;
    }

    /** Routes one request; the future completes with the reply, failures included. */
    public CompletableFuture<Reply> handle(FullHttpRequest req) {
        long start = System.nanoTime();
        String rawPath = req.uri();
        String query = "";
        int q = rawPath.indexOf('?');
        if (q >= 0) {
            query = rawPath.substring(q + 1);
            rawPath = rawPath.substring(0, q);
        }
        String[] seg = rawPath.split("/", -1);
        String route;
        CompletableFuture<Reply> reply;
        try {
            List<String> parts = segments(seg);
            HttpMethod m = req.method();
            route = routeName(m, parts);
            reply = dispatch(m, parts, query, req);
        } catch (ApiError e) {
            route = "invalid";
            reply = CompletableFuture.completedFuture(Reply.error(e));
        }
        String r = route;
        return reply.exceptionally(this::failure).thenApply(x -> {
            metrics.request(r, x.status(), System.nanoTime() - start);
            return x;
        });
    }

    private static List<String> segments(String[] seg) {
        java.util.ArrayList<String> out = new java.util.ArrayList<>();
        for (int i = 1; i < seg.length; i++) {
            if (seg[i].isEmpty() && i == seg.length - 1) continue; // trailing slash
            out.add(decode(seg[i]));
        }
        return out;
    }

    /** Percent-decodes a path segment and insists on valid UTF-8: ids reach command lines and file names. */
    static String decode(String s) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '%') {
                if (i + 2 >= s.length()) throw ApiError.badRequest("id", "malformed percent-encoding in the path");
                try {
                    bytes.write(Integer.parseInt(s.substring(i + 1, i + 3), 16));
                } catch (NumberFormatException e) {
                    throw ApiError.badRequest("id", "malformed percent-encoding in the path");
                }
                i += 2;
            } else {
                bytes.write(c);
            }
        }
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes.toByteArray())).toString();
        } catch (CharacterCodingException e) {
            throw ApiError.badRequest("id", "the path is not valid UTF-8; ids are 1-63 characters of A-Z, a-z, 0-9, '_', '.', '-'");
        }
    }

    private static String routeName(HttpMethod m, List<String> p) {
        StringBuilder sb = new StringBuilder(m.name()).append(' ');
        if (p.isEmpty()) return sb.append('/').toString();
        for (int i = 0; i < p.size(); i++) {
            sb.append('/');
            boolean isId = (i == 1 && ("vms".equals(p.get(0)) || "peers".equals(p.get(0)) || "nodes".equals(p.get(0))))
                    || (i == 2 && "peers".equals(p.get(1)));
            sb.append(isId ? "{id}" : p.get(i));
        }
        return sb.toString();
    }

    private CompletableFuture<Reply> dispatch(HttpMethod m, List<String> p, String query, FullHttpRequest req) {
        int n = p.size();
        String first = n > 0 ? p.get(0) : "";
        if ("vms".equals(first)) {
            if (n == 1 && m.equals(HttpMethod.POST)) return upsert(req);
            if (n == 1 && m.equals(HttpMethod.GET)) return list(queryParam(query, "tenant"));
            if (n >= 2) {
                String id = validId(p.get(1));
                if (n == 2 && m.equals(HttpMethod.GET)) return get(id);
                if (n == 2 && m.equals(HttpMethod.DELETE)) return delete(id, req);
                if (n == 3 && m.equals(HttpMethod.POST) && "start".equals(p.get(2))) return start(id, req);
                if (n == 3 && m.equals(HttpMethod.POST) && "stop".equals(p.get(2))) return stop(id, req);
                SimInspect si = sim;
                if (si != null && n == 3 && m.equals(HttpMethod.GET) && "sim".equals(p.get(2))) return si.sim(id);
                if (si != null && n == 3 && m.equals(HttpMethod.GET) && "files".equals(p.get(2))) return si.files(id);
                if (si != null && n == 3 && m.equals(HttpMethod.GET) && "logs".equals(p.get(2))) {
                    String after = queryParam(query, "after");
                    long from;
                    try {
                        from = after.isEmpty() ? 0 : Long.parseLong(after);
                    } catch (NumberFormatException e) {
                        throw ApiError.badRequest("after", "after must be a line number (the 'next' of the previous answer)");
                    }
                    return si.logs(id, from, "1".equals(queryParam(query, "local")));
                }
            }
        }
        if (n == 1 && "health".equals(first) && m.equals(HttpMethod.GET)) return health();
        if (n == 1 && "metrics".equals(first) && m.equals(HttpMethod.GET))
            return done(Reply.text(200, metrics.scrape(), "text/plain; version=0.0.4; charset=utf-8"));
        if (n == 1 && "nodes".equals(first) && m.equals(HttpMethod.GET)) return nodes();
        if (n == 3 && "nodes".equals(first) && m.equals(HttpMethod.POST)
                && ("drain".equals(p.get(2)) || "undrain".equals(p.get(2)))) {
            return drain(validNodeId(p.get(1)), "drain".equals(p.get(2)), req);
        }
        if (n == 1 && "stats".equals(first) && m.equals(HttpMethod.GET)) return stats();
        if ("cluster".equals(first)) {
            if (n == 1 && m.equals(HttpMethod.GET)) return cluster();
            return admin(m, p, req);
        }
        return done(Reply.error(404, "not_found", "path",
                m + " " + String.join("/", p) + " is not an API route; see docs/api.md", Map.of()));
    }

    private static String queryParam(String query, String name) {
        for (String kv : query.split("&")) {
            int eq = kv.indexOf('=');
            if (eq > 0 && kv.substring(0, eq).equals(name)) return decode(kv.substring(eq + 1));
        }
        return "";
    }

    private static String validId(String id) {
        Optional<Rejection> bad = Ids.validateJobId(id);
        if (bad.isPresent()) throw ApiError.badRequest("id", bad.get().getMessage());
        return id;
    }

    private static String validNodeId(String id) {
        Optional<Rejection> bad = Ids.validateNodeId(id);
        if (bad.isPresent()) throw ApiError.badRequest("node_id", bad.get().getMessage());
        return id;
    }

    private static CompletableFuture<Reply> done(Reply r) {
        return CompletableFuture.completedFuture(r);
    }

    private static JsonNode body(FullHttpRequest req, boolean required) {
        byte[] bytes = new byte[req.content().readableBytes()];
        req.content().getBytes(req.content().readerIndex(), bytes);
        if (bytes.length == 0) {
            if (required) throw ApiError.badRequest("body", "request body is empty; send a JSON object");
            return VmJson.MAPPER.createObjectNode();
        }
        try {
            String text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
            JsonNode node = VmJson.MAPPER.readTree(text);
            if (node == null || !node.isObject()) throw ApiError.badRequest("body", "request body must be a JSON object");
            return node;
        } catch (CharacterCodingException e) {
            throw ApiError.badRequest("body", "request body is not valid UTF-8");
        } catch (JsonProcessingException e) {
            throw ApiError.badRequest("body", "request body is not valid JSON: " + e.getOriginalMessage()
                    + " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr());
        }
    }

    /** The client's Idempotency-Key, so a retried request is applied once; else a fresh id. */
    private static String requestId(FullHttpRequest req) {
        String key = req.headers().get("Idempotency-Key");
        if (key == null || key.isEmpty()) return UUID.randomUUID().toString();
        if (key.length() > 128 || !key.chars().allMatch(c -> c > 32 && c < 127))
            throw ApiError.badRequest("Idempotency-Key", "Idempotency-Key must be 1-128 printable ASCII characters");
        return key;
    }

    private Command.Builder command(FullHttpRequest req) {
        return raft.command(requestId(req));
    }

    private CompletableFuture<Reply> upsert(FullHttpRequest req) {
        JsonObject o = JsonObject.of(body(req, true), "", UPSERT_FIELDS);
        String jobId = o.string("job_id", "");
        if (jobId.isEmpty()) jobId = "vm-" + HexFormat.of().formatHex(randomBytes(6));
        Ids.validateJobId(jobId).ifPresent(r -> { throw ApiError.badRequest("job_id", r.getMessage()); });
        String tenant = o.string("tenant", "");
        if (tenant.isEmpty()) tenant = jobId;
        Ids.validateTenant(tenant).ifPresent(r -> { throw ApiError.badRequest("tenant", r.getMessage()); });
        if (!o.has("spec")) throw ApiError.badRequest("spec", "spec is required: an object with at least \"runtime\"");
        VmSpec spec = SpecRules.normalize(VmJson.spec(o.raw("spec")));
        SpecRules.validate(spec).ifPresent(r -> { throw ApiError.badRequest(r.getField(), r.getMessage()); });
        UpsertVm.Builder u = UpsertVm.newBuilder().setJobId(jobId).setTenant(tenant).setSpec(spec);
        if (o.has("expected_version")) {
            u.setExpectedVersion(o.integer("expected_version", 0, 0, Long.MAX_VALUE)).setHasExpectedVersion(true);
        }
        if (o.has("desired")) {
            String desired = o.string("desired", "");
            switch (desired) {
                case "running" -> u.setDesired(DesiredState.DESIRED_RUNNING);
                case "stopped" -> u.setDesired(DesiredState.DESIRED_STOPPED);
                default -> throw ApiError.badRequest("desired", "desired must be \"running\" or \"stopped\", not \""
                        + desired + "\"; leave it out to keep the VM's current desired state (running for a new VM)");
            }
        }
        Command.Builder upsert = command(req).setUpsertVm(u);
        // A VM created stopped takes no warm VM: a warm one is already running.
        if (u.getDesired() == DesiredState.DESIRED_STOPPED) return raft.submit(upsert.build()).thenApply(r -> vmResult(r, 202));
        if (o.has("expected_version") && u.getExpectedVersion() != 0) return raft.submit(upsert.build()).thenApply(r -> vmResult(r, 202));
        String job = jobId;
        String owner = tenant;
        return claimWarm(req, job, owner, spec).thenCompose(claimed -> claimed.isPresent()
                ? CompletableFuture.completedFuture(claimed.get())
                : raft.submit(upsert.build()).thenApply(r -> vmResult(r, 202)));
    }

    /**
     * A new job whose spec has the shape of a running warm VM takes that VM: 201 with it already running.
     * The choice is made from this node's applied state (or, when that shows a pool of the shape but none
     * of it running, from a linearizable read) and re-checked by the rules; when the warm VM was taken
     * meanwhile (or the job exists), the request falls back to a cold create (202).
     */
    private CompletableFuture<Optional<Reply>> claimWarm(FullHttpRequest req, String jobId, String tenant, VmSpec spec) {
        // Two cheap local reads (one record, and the warm VMs the store keeps in memory), never a scan of
        // every VM: this runs on each create.
        Query exists = Query.newBuilder().setGetVm(GetVm.newBuilder().setJobId(jobId)).build();
        Query warmVms = Query.newBuilder().setListVms(ListVms.newBuilder().setWarmOnly(true)).build();
        String hash = SpecHash.of(spec);
        return raft.queryLocalStale(exists).thenCombine(raft.queryLocalStale(warmVms), (self, local) -> {
            if (self.getVmsCount() > 0) return CompletableFuture.completedFuture(Optional.<VmRecord>empty());
            Optional<VmRecord> here = WarmPoolPlan.claim(hash, local.getVmsList());
            boolean pool = local.getVmsList().stream().anyMatch(v -> v.getWarm() && v.getSpecHash().equals(hash));
            if (here.isPresent() || !pool) return CompletableFuture.completedFuture(here);
            // A pool of this shape exists but this node's state shows none of it running: it may lag the
            // leader by a status report. One linearizable read settles it; a create with no pool of its
            // shape never pays for it.
            return raft.query(warmVms).thenApply(q -> WarmPoolPlan.claim(hash, q.getVmsList()));
        }).thenCompose(f -> f).thenCompose(warm -> {
            if (warm.isEmpty()) return CompletableFuture.completedFuture(Optional.<Reply>empty());
            Command c = raft.command(requestId(req) + "/claim")
                    .setClaimWarm(ClaimWarm.newBuilder().setJobId(jobId).setTenant(tenant).setSpec(spec)
                            .setWarmVmId(warm.get().getId()))
                    .build();
            return raft.submit(c).thenApply(r -> r.hasRejection() ? Optional.<Reply>empty() : Optional.of(vmResult(r, 201)));
        });
    }

    private CompletableFuture<Reply> drain(String node, boolean drained, FullHttpRequest req) {
        Command c = command(req).setSetNodeState(SetNodeState.newBuilder().setNodeId(node).setSetDrained(true).setDrained(drained)).build();
        return raft.submit(c).thenApply(r -> {
            if (r.hasRejection()) return rejection(r.getRejection());
            return Reply.json(200, VmJson.node(r.getNode()));
        });
    }

    /** Jobs and warm pools in one view: {summary: {total_jobs, total_warm}, jobs: [...], warm_pool: [...]}. */
    private CompletableFuture<Reply> stats() {
        Query q = Query.newBuilder().setListVms(ListVms.getDefaultInstance()).build();
        return raft.query(q).thenApply(r -> {
            List<VmRecord> vms = new java.util.ArrayList<>(r.getVmsList());
            vms.sort(java.util.Comparator.comparing(VmRecord::getId));
            ObjectNode o = VmJson.MAPPER.createObjectNode();
            ObjectNode summary = o.putObject("summary");
            ArrayNode jobs = o.putArray("jobs");
            ArrayNode warm = o.putArray("warm_pool");
            for (VmRecord v : vms) {
                String vmId = v.getVmId().isEmpty() ? v.getId() : v.getVmId();
                if (v.getWarm()) {
                    warm.addObject().put("spec_hash", v.getSpecHash()).put("vm_id", vmId)
                            .put("status", VmJson.state(v.getObserved())).set("spec", VmJson.spec(v.getSpec()));
                } else {
                    jobs.addObject().put("job_id", v.getId()).put("vm_id", vmId).put("tenant", v.getTenant())
                            .put("status", VmJson.state(v.getObserved())).put("node", v.getNode())
                            .set("spec", VmJson.spec(v.getSpec()));
                }
            }
            summary.put("total_jobs", jobs.size());
            summary.put("total_warm", warm.size());
            return Reply.json(200, o);
        });
    }

    private static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }

    private long expectedVersion(FullHttpRequest req, String[] present) {
        String v = req.headers().get("If-Match");
        if (v == null) return -1;
        try {
            return Long.parseLong(v.replace("\"", ""));
        } catch (NumberFormatException e) {
            throw ApiError.badRequest("If-Match", "If-Match must be the VM's version, a whole number");
        }
    }

    private CompletableFuture<Reply> start(String id, FullHttpRequest req) {
        StartVm.Builder s = StartVm.newBuilder().setJobId(id);
        long v = expectedVersion(req, null);
        if (v >= 0) s.setExpectedVersion(v).setHasExpectedVersion(true);
        return raft.submit(command(req).setStartVm(s).build()).thenApply(r -> vmResult(r, 202));
    }

    private CompletableFuture<Reply> stop(String id, FullHttpRequest req) {
        StopVm.Builder s = StopVm.newBuilder().setJobId(id);
        long v = expectedVersion(req, null);
        if (v >= 0) s.setExpectedVersion(v).setHasExpectedVersion(true);
        return raft.submit(command(req).setStopVm(s).build()).thenApply(r -> vmResult(r, 202));
    }

    private CompletableFuture<Reply> delete(String id, FullHttpRequest req) {
        DeleteVm.Builder d = DeleteVm.newBuilder().setJobId(id);
        long v = expectedVersion(req, null);
        if (v >= 0) d.setExpectedVersion(v).setHasExpectedVersion(true);
        return raft.submit(command(req).setDeleteVm(d).build()).thenApply(r -> {
            if (r.hasRejection()) return rejection(r.getRejection());
            ObjectNode o = VmJson.MAPPER.createObjectNode();
            o.put("deleted", id);
            o.put("index", r.getIndex());
            return Reply.json(200, o);
        });
    }

    private static Reply vmResult(CommandResult r, int okStatus) {
        if (r.hasRejection()) return rejection(r.getRejection());
        ObjectNode o = VmJson.record(r.getVm());
        return Reply.json(okStatus, o);
    }

    static Reply rejection(Rejection r) {
        return switch (r.getCode()) {
            case INVALID -> Reply.error(400, "invalid", r.getField(), r.getMessage(), Map.of());
            case NOT_FOUND -> Reply.error(404, "not_found", r.getField(), r.getMessage(), Map.of());
            case CONFLICT -> Reply.error(409, "conflict", r.getField(), r.getMessage(), Map.of());
            case ILLEGAL_TRANSITION -> Reply.error(409, "illegal_transition", r.getField(), r.getMessage(), Map.of());
            case STALE_EPOCH -> Reply.error(409, "stale_epoch", r.getField(), r.getMessage(), Map.of());
            case UNAVAILABLE -> Reply.error(503, "unavailable", r.getField(), r.getMessage(), RETRY);
            default -> Reply.error(500, "internal", r.getField(), r.getMessage(), Map.of());
        };
    }

    private CompletableFuture<Reply> get(String id) {
        Query q = Query.newBuilder().setGetVm(GetVm.newBuilder().setJobId(id)).build();
        return raft.query(q).thenCompose(r -> {
            if (r.getVmsCount() == 0)
                return done(Reply.error(404, "not_found", "id", "no VM with id '" + id + "'; list VMs with GET /vms", Map.of()));
            SimInspect si = sim;
            if (si == null) return done(Reply.json(200, VmJson.record(r.getVms(0))));
            return si.augment(r.getVms(0), VmJson.record(r.getVms(0))).thenApply(o -> Reply.json(200, o));
        });
    }

    private CompletableFuture<Reply> list(String tenant) {
        if (!tenant.isEmpty())
            Ids.validateTenant(tenant).ifPresent(r -> { throw ApiError.badRequest("tenant", r.getMessage()); });
        Query q = Query.newBuilder().setListVms(ListVms.newBuilder().setTenant(tenant)).build();
        return raft.query(q).thenApply(r -> {
            ObjectNode o = VmJson.MAPPER.createObjectNode();
            o.put("count", r.getVmsCount());
            o.set("vms", VmJson.records(r.getVmsList()));
            return Reply.json(200, o);
        });
    }

    private CompletableFuture<Reply> nodes() {
        Query q = Query.newBuilder().setListNodes(ListNodes.getDefaultInstance()).build();
        Query vms = Query.newBuilder().setListVms(ListVms.getDefaultInstance()).build();
        return raft.query(q).thenCombine(raft.queryLocalStale(vms), (r, local) -> {
            ObjectNode o = VmJson.MAPPER.createObjectNode();
            ArrayNode a = o.putArray("nodes");
            for (NodeRecord n : r.getNodesList()) {
                ObjectNode no = VmJson.node(n);
                // Load is read from this node's applied state: it changes with every report anyway.
                NodeLoad load = NodeLoad.onNode(n.getId(), local.getVmsList());
                no.putObject("load").put("vcpu", load.vcpu()).put("mem_mb", load.memMb()).put("vms", load.vmsOfTenant());
                a.add(no);
            }
            return Reply.json(200, o);
        });
    }

    private CompletableFuture<Reply> health() {
        GroupView v = raft.view();
        ObjectNode o = VmJson.MAPPER.createObjectNode();
        o.put("service", "flotilla");
        o.put("node", nodeId);
        o.put("role", v.role().toLowerCase(java.util.Locale.ROOT));
        o.put("leader", v.leader().orElse(""));
        if (!v.alive()) {
            o.put("status", "unhealthy");
            o.put("reason", "the Raft server is not running on this node");
            return done(Reply.json(503, o, RETRY));
        }
        if (v.leader().isEmpty()) {
            o.put("status", "unhealthy");
            o.put("reason", "no leader is known: an election is under way or a majority of nodes is unreachable; check GET /cluster on every node");
            return done(Reply.json(503, o, RETRY));
        }
        o.put("status", "healthy");
        return done(Reply.json(200, o));
    }

    private CompletableFuture<Reply> cluster() {
        GroupView v = raft.view();
        ObjectNode o = VmJson.MAPPER.createObjectNode();
        o.put("node", v.self());
        o.put("role", v.role().toLowerCase(java.util.Locale.ROOT));
        o.put("leader", v.leader().orElse(""));
        o.put("term", v.term());
        o.put("commit_index", v.commitIndex());
        o.put("applied_index", v.appliedIndex());
        ArrayNode members = o.putArray("members");
        for (GroupView.Member m : v.members()) {
            ObjectNode mo = members.addObject();
            mo.put("id", m.id());
            mo.put("raft_address", m.raftAddress());
            mo.put("role", m.id().equals(v.leader().orElse("")) ? "leader" : "follower");
        }
        // The digest is read locally: it describes this replica, at the index it reports with it.
        Query q = Query.newBuilder().setGetDigest(GetDigest.getDefaultInstance()).build();
        return raft.queryLocalStale(q).thenApply(r -> {
            o.put("digest", r.getDigest());
            o.put("digest_index", r.getAppliedIndex());
            return Reply.json(200, o);
        });
    }

    private CompletableFuture<Reply> admin(HttpMethod m, List<String> p, FullHttpRequest req) {
        int n = p.size();
        // Read the body now: Netty releases the request's buffer once this handler returns.
        JsonNode body = body(req, false);
        return CompletableFuture.supplyAsync(() -> {
            try {
                if (n == 2 && "peers".equals(p.get(1)) && m.equals(HttpMethod.POST)) {
                    JsonObject o = JsonObject.of(body, "", Set.of("id", "raft", "api", "transport"));
                    String id = o.string("id", "");
                    String address = o.string("raft", "");
                    if (id.isEmpty()) throw ApiError.badRequest("id", "id of the new peer is required");
                    if (address.isEmpty()) throw ApiError.badRequest("raft", "raft address host:port of the new peer is required");
                    RaftPeer peer = RaftNode.peer(new dev.flotilla.node.NodeConfig.Peer(id, address, "", ""));
                    try {
                        return adminReply(raft.addPeer(peer), "added peer " + id);
                    } catch (IOException e) {
                        return membershipUnfinished("add-peer " + id + " " + address, e);
                    }
                }
                if (n == 3 && "peers".equals(p.get(1)) && m.equals(HttpMethod.DELETE)) {
                    try {
                        return adminReply(raft.removePeer(RaftPeerId.valueOf(p.get(2))), "removed peer " + p.get(2));
                    } catch (IOException e) {
                        return membershipUnfinished("remove-peer " + p.get(2), e);
                    }
                }
                if (n == 2 && "leader".equals(p.get(1)) && m.equals(HttpMethod.POST)) {
                    JsonObject o = JsonObject.of(body, "", Set.of("id", "timeout_ms"));
                    String id = o.string("id", "");
                    if (id.isEmpty()) throw ApiError.badRequest("id", "id of the peer to lead is required");
                    return adminReply(raft.transferLeader(RaftPeerId.valueOf(id), o.integer("timeout_ms", 10000, 100, 600000)),
                            "leadership transferred to " + id);
                }
                if (n == 2 && "snapshot".equals(p.get(1)) && m.equals(HttpMethod.POST)) {
                    RaftClientReply r = raft.snapshot(60000);
                    if (!r.isSuccess()) return adminReply(r, "");
                    ObjectNode o = VmJson.MAPPER.createObjectNode();
                    o.put("status", "ok");
                    o.put("node", nodeId);
                    o.put("snapshot_index", r.getLogIndex());
                    return Reply.json(200, o);
                }
                if (n == 3 && "election".equals(p.get(1)) && m.equals(HttpMethod.POST)) {
                    if ("pause".equals(p.get(2))) return adminReply(raft.pauseElection(), "elections paused on " + nodeId);
                    if ("resume".equals(p.get(2))) return adminReply(raft.resumeElection(), "elections resumed on " + nodeId);
                }
                return Reply.error(404, "not_found", "path", m + " /" + String.join("/", p) + " is not an API route; see docs/api.md", Map.of());
            } catch (IllegalArgumentException e) {
                return Reply.error(409, "conflict", "id", e.getMessage(), Map.of());
            } catch (IOException e) {
                return failure(e);
            }
        });
    }

    /** A configuration change that did not finish in time: it may still, so say how to tell and what to do. */
    private Reply membershipUnfinished(String command, IOException e) {
        return Reply.error(503, "unavailable", "", "the configuration change did not finish in time ("
                + e.getClass().getSimpleName() + ": " + e.getMessage() + "). A new member first catches up on the"
                + " registry, which takes longer on a large or loaded cluster, and a change needs a quorum. It may still"
                + " finish: check 'flotilla cluster members', and run '" + command + "' again if it has not taken effect", RETRY);
    }

    private Reply adminReply(RaftClientReply r, String okMessage) {
        if (r.isSuccess()) {
            ObjectNode o = VmJson.MAPPER.createObjectNode();
            o.put("status", "ok");
            o.put("message", okMessage);
            return Reply.json(200, o);
        }
        Exception e = r.getException();
        return Reply.error(503, "unavailable", "", "the cluster refused: " + (e == null ? "unknown reason" : e.getMessage())
                + "; check GET /cluster and retry", RETRY);
    }

    /** Turns any failure into a reply: bad input is 4xx, lost quorum is 503, a bug is 500 and logged. */
    public Reply failure(Throwable t) {
        Throwable e = t;
        while ((e instanceof CompletionException || e instanceof ExecutionException) && e.getCause() != null) e = e.getCause();
        if (e instanceof ApiError a) return Reply.error(a);
        if (e instanceof StateMachineException) {
            return Reply.error(400, "invalid", "", "the command was refused: " + e.getMessage(), Map.of());
        }
        if (e instanceof IOException || e instanceof TimeoutException
                || e instanceof org.apache.ratis.protocol.exceptions.RaftException) {
            return Reply.error(503, "unavailable", "",
                    "no quorum: the command could not be committed in time (" + e.getClass().getSimpleName() + ": " + e.getMessage()
                            + "). It may still be applied; retry with the same Idempotency-Key to be safe, and check GET /cluster", RETRY);
        }
        LOG.error("internal error serving a request", e);
        return Reply.error(500, "internal", "", "internal error: " + e + "; see the node's log", Map.of());
    }
}
