package dev.flotilla.node.bench;

import dev.flotilla.node.raft.RaftNode;
import dev.flotilla.proto.Command;
import dev.flotilla.proto.CommandResult;
import dev.flotilla.proto.DesiredState;
import dev.flotilla.proto.UpsertVm;
import dev.flotilla.proto.VmSpec;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcFactory;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;

/**
 * Drives creates at a running cluster and prints ops/s and latency percentiles, through the HTTP API
 * or straight through a Raft client. Bounded by a duration and an op count. Run by scripts/bench-commit.sh.
 *
 * <p>The VMs are created desired stopped, so what is measured is the registry's commit path alone, the
 * same work etcd does for a put: a create that runs a VM also makes the leader assign it and the agent
 * report on it (more log entries), and starts a process per VM, which bench-dispatch.sh measures.
 *
 * <p>The peer, etcd, is driven the same way: a put of the same JSON value through its v3 HTTP gateway.
 *
 * <p>Usage: CommitBench http|raft|etcd CLIENTS SECONDS MAX_OPS ADDR[,ADDR...]  (HTTP addresses or id=raft addresses)
 */
public final class CommitBench {
    private static final String SPEC = "{\"runtime\":\"process\",\"cmd\":[\"sleep\",\"60\"]}";

    public static void main(String[] args) throws Exception {
        String mode = args[0];
        int clients = Integer.parseInt(args[1]);
        int seconds = Integer.parseInt(args[2]);
        int maxOps = Integer.parseInt(args[3]);
        List<String> addrs = Arrays.asList(args[4].split(","));
        String tag = mode + "-" + clients + "-" + System.nanoTime();
        long[] lat = new long[maxOps];
        AtomicInteger next = new AtomicInteger();
        AtomicLong errors = new AtomicLong();
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        List<Future<?>> fs = new ArrayList<>();
        RaftClient raft = "raft".equals(mode) ? raftClient(addrs) : null;
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(2)).build();
        // warm-up: JIT and connections, not counted; bounded in count and time
        long warmUntil = System.nanoTime() + 3_000_000_000L;
        for (int i = 0; i < 200 && System.nanoTime() < warmUntil; i++) {
            one(mode, http, raft, addrs, tag + "-warm-" + i, i);
        }
        long start = System.nanoTime();
        for (int c = 0; c < clients; c++) {
            fs.add(pool.submit(() -> {
                while (System.nanoTime() < deadline) {
                    int i = next.getAndIncrement();
                    if (i >= maxOps) return null;
                    long t0 = System.nanoTime();
                    boolean ok = one(mode, http, raft, addrs, tag + "-" + i, i);
                    lat[i] = System.nanoTime() - t0;
                    if (!ok) errors.incrementAndGet();
                }
                return null;
            }));
        }
        for (Future<?> f : fs) f.get();
        long elapsed = System.nanoTime() - start;
        pool.shutdown();
        int n = Math.min(next.get(), maxOps);
        long[] done = Arrays.copyOf(lat, n);
        Arrays.sort(done);
        double opsPerSec = n / (elapsed / 1e9);
        System.out.printf(Locale.ROOT, "%-5s clients=%-3d ops=%-7d errors=%-4d ops/s=%-8.0f p50=%.2fms p99=%.2fms p999=%.2fms%n",
                mode, clients, n, errors.get(), opsPerSec, pct(done, 0.50), pct(done, 0.99), pct(done, 0.999));
        if (raft != null) raft.close();
        System.exit(0);
    }

    private static double pct(long[] sorted, double p) {
        if (sorted.length == 0) return Double.NaN;
        int idx = (int) Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1);
        return sorted[Math.max(0, idx)] / 1e6;
    }

    private static boolean one(String mode, HttpClient http, RaftClient raft, List<String> addrs, String id, int i) {
        try {
            if ("etcd".equals(mode)) {
                String addr = addrs.get(i % addrs.size());
                java.util.Base64.Encoder b64 = java.util.Base64.getEncoder();
                String key = b64.encodeToString(("/flotilla/vms/" + id).getBytes(java.nio.charset.StandardCharsets.UTF_8));
                String value = b64.encodeToString(("{\"job_id\":\"" + id + "\",\"desired\":\"stopped\",\"spec\":" + SPEC + "}").getBytes(java.nio.charset.StandardCharsets.UTF_8));
                HttpRequest req = HttpRequest.newBuilder(URI.create("http://" + addr + "/v3/kv/put"))
                        .timeout(Duration.ofSeconds(30))
                        .POST(HttpRequest.BodyPublishers.ofString("{\"key\":\"" + key + "\",\"value\":\"" + value + "\"}"))
                        .build();
                return http.send(req, HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
            }
            if ("http".equals(mode)) {
                String addr = addrs.get(i % addrs.size());
                HttpRequest req = HttpRequest.newBuilder(URI.create("http://" + addr + "/vms"))
                        .timeout(Duration.ofSeconds(30))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString("{\"job_id\":\"" + id + "\",\"desired\":\"stopped\",\"spec\":" + SPEC + "}"))
                        .build();
                return http.send(req, HttpResponse.BodyHandlers.discarding()).statusCode() == 202;
            }
            Command c = Command.newBuilder().setRequestId(id).setStampedMs(System.currentTimeMillis()).setOriginNode("bench")
                    .setUpsertVm(UpsertVm.newBuilder().setJobId(id).setTenant("bench")
                            .setSpec(VmSpec.newBuilder().setRuntime("process").addCmd("sleep").addCmd("60").setLifecycle("service"))
                            .setDesired(DesiredState.DESIRED_STOPPED))
                    .build();
            RaftClientReply r = raft.io().send(Message.valueOf(ByteString.copyFrom(c.toByteArray())));
            return r.isSuccess() && !CommandResult.parseFrom(r.getMessage().getContent().toByteArray()).hasRejection();
        } catch (Exception e) {
            return false;
        }
    }

    private static RaftClient raftClient(List<String> addrs) {
        List<RaftPeer> peers = new ArrayList<>();
        for (String a : addrs) {
            String[] kv = a.split("=");
            peers.add(RaftPeer.newBuilder().setId(kv[0]).setAddress(kv[1]).build());
        }
        RaftProperties props = new RaftProperties();
        return RaftClient.newBuilder().setProperties(props).setRaftGroup(RaftGroup.valueOf(RaftNode.GROUP_ID, peers))
                .setClientRpc(new GrpcFactory(new Parameters()).newRaftClientRpc(ClientId.randomId(), props)).build();
    }
}
