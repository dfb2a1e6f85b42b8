package dev.flotilla.node.bench;

import dev.flotilla.node.raft.RaftNode;
import dev.flotilla.proto.Command;
import dev.flotilla.proto.CommandResult;
import dev.flotilla.proto.DesiredState;
import dev.flotilla.proto.UpsertVm;
import dev.flotilla.proto.VmSpec;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
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
 * <p>HTTP goes over one keep-alive connection per client, spoken by hand ({@link Http}): the JDK's
 * HttpClient spent more CPU per request than the three nodes together, on the same two cores.
 *
 * <p>Usage: CommitBench http|raft|etcd CLIENTS SECONDS MAX_OPS ADDR[,ADDR...] [WARMUP_SECONDS]
 * (HTTP addresses or id=raft addresses). The warm-up drives CLIENTS clients for WARMUP_SECONDS (default 3),
 * bounded by MAX_OPS as well, and is not counted (SECONDS 0: the warm-up alone): a JVM compiles its hot code in its first minute or two
 * under load, and that compiling costs these two cores more than the work itself.
 */
public final class CommitBench {
    private static final String SPEC = "{\"runtime\":\"process\",\"cmd\":[\"sleep\",\"60\"]}";

    public static void main(String[] args) throws Exception {
        String mode = args[0];
        int clients = Integer.parseInt(args[1]);
        int seconds = Integer.parseInt(args[2]);
        int maxOps = Integer.parseInt(args[3]);
        List<String> addrs = Arrays.asList(args[4].split(","));
        int warmup = args.length > 5 ? Integer.parseInt(args[5]) : 3;
        String tag = mode + "-" + clients + "-" + System.nanoTime();
        RaftClient raft = "raft".equals(mode) ? raftClient(addrs) : null;
        Result warm = drive(mode, clients, warmup, maxOps, addrs, raft, tag + "-warm");
        if (warmup >= 10) {
            System.out.printf(Locale.ROOT, "%-5s clients=%-3d warm-up: %d ops in %d s (%.0f ops/s), not counted%n",
                    mode, clients, warm.ops(), warmup, warm.opsPerSec());
        }
        if (seconds == 0) {
            if (raft != null) raft.close();
            System.exit(0); // a warm-up alone
        }
        Result r = drive(mode, clients, seconds, maxOps, addrs, raft, tag);
        System.out.printf(Locale.ROOT, "%-5s clients=%-3d ops=%-7d errors=%-4d ops/s=%-8.0f p50=%.2fms p99=%.2fms p999=%.2fms%n",
                mode, clients, r.ops, r.errors, r.opsPerSec, pct(r.sorted, 0.50), pct(r.sorted, 0.99), pct(r.sorted, 0.999));
        if (raft != null) raft.close();
        System.exit(0);
    }

    private record Result(int ops, long errors, double opsPerSec, long[] sorted) {}

    /** CLIENTS threads, each doing one create after another, until SECONDS pass or MAX_OPS are done. */
    private static Result drive(String mode, int clients, int seconds, int maxOps, List<String> addrs, RaftClient raft,
            String tag) throws Exception {
        long[] lat = new long[maxOps];
        AtomicInteger next = new AtomicInteger();
        AtomicLong errors = new AtomicLong();
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        List<Future<?>> fs = new ArrayList<>();
        long start = System.nanoTime();
        for (int c = 0; c < clients; c++) {
            String addr = addrs.get(c % addrs.size());
            fs.add(pool.submit(() -> {
                try (Http http = "raft".equals(mode) ? null : new Http(addr)) {
                    while (System.nanoTime() < deadline) {
                        int i = next.getAndIncrement();
                        if (i >= maxOps) return null;
                        long t0 = System.nanoTime();
                        boolean ok = one(mode, http, raft, tag + "-" + i);
                        lat[i] = System.nanoTime() - t0;
                        if (!ok) errors.incrementAndGet();
                    }
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
        return new Result(n, errors.get(), n / (elapsed / 1e9), done);
    }

    private static double pct(long[] sorted, double p) {
        if (sorted.length == 0) return Double.NaN;
        int idx = (int) Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1);
        return sorted[Math.max(0, idx)] / 1e6;
    }

    private static boolean one(String mode, Http http, RaftClient raft, String id) {
        try {
            if ("etcd".equals(mode)) {
                java.util.Base64.Encoder b64 = java.util.Base64.getEncoder();
                String key = b64.encodeToString(("/flotilla/vms/" + id).getBytes(StandardCharsets.UTF_8));
                String value = b64.encodeToString(("{\"job_id\":\"" + id + "\",\"desired\":\"stopped\",\"spec\":" + SPEC + "}").getBytes(StandardCharsets.UTF_8));
                return http.post("/v3/kv/put", "{\"key\":\"" + key + "\",\"value\":\"" + value + "\"}") == 200;
            }
            if ("http".equals(mode)) {
                return http.post("/vms", "{\"job_id\":\"" + id + "\",\"desired\":\"stopped\",\"spec\":" + SPEC + "}") == 202;
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

    /**
     * One keep-alive HTTP/1.1 connection: a POST with a JSON body, the status code back, the body read
     * and dropped (by Content-Length or chunks). Reconnects when the server closed the connection.
     */
    static final class Http implements Closeable {
        private final String host;
        private final int port;
        private Socket socket;
        private InputStream in;
        private OutputStream out;

        Http(String addr) {
            int colon = addr.lastIndexOf(':');
            this.host = addr.substring(0, colon);
            this.port = Integer.parseInt(addr.substring(colon + 1));
        }

        int post(String path, String json) throws IOException {
            if (socket == null) connect();
            byte[] body = json.getBytes(StandardCharsets.UTF_8);
            String head = "POST " + path + " HTTP/1.1\r\nHost: " + host + ":" + port
                    + "\r\nContent-Type: application/json\r\nContent-Length: " + body.length + "\r\n\r\n";
            try {
                out.write(head.getBytes(StandardCharsets.US_ASCII));
                out.write(body);
                out.flush();
                return readResponse();
            } catch (IOException e) {
                close();
                throw e;
            }
        }

        private void connect() throws IOException {
            socket = new Socket();
            socket.setTcpNoDelay(true);
            socket.setSoTimeout(30_000);
            socket.connect(new InetSocketAddress(host, port), 2_000);
            in = new BufferedInputStream(socket.getInputStream(), 16 * 1024);
            out = new java.io.BufferedOutputStream(socket.getOutputStream(), 16 * 1024);
        }

        private int readResponse() throws IOException {
            String status = line();
            int code = Integer.parseInt(status.split(" ", 3)[1]);
            long length = -1;
            boolean chunked = false;
            boolean close = false;
            for (String h = line(); !h.isEmpty(); h = line()) {
                String lower = h.toLowerCase(Locale.ROOT);
                if (lower.startsWith("content-length:")) length = Long.parseLong(lower.substring(15).trim());
                else if (lower.startsWith("transfer-encoding:") && lower.contains("chunked")) chunked = true;
                else if (lower.startsWith("connection:") && lower.contains("close")) close = true;
            }
            if (chunked) {
                for (long size = Long.parseLong(line().split(";")[0].trim(), 16); size > 0;
                        size = Long.parseLong(line().split(";")[0].trim(), 16)) {
                    skip(size);
                    line();
                }
                while (!line().isEmpty()) { } // trailers
            } else if (length > 0) {
                skip(length);
            }
            if (close) close();
            return code;
        }

        private void skip(long n) throws IOException {
            while (n > 0) {
                long k = in.skip(n);
                if (k <= 0) {
                    if (in.read() < 0) throw new IOException("connection closed in a response body");
                    k = 1;
                }
                n -= k;
            }
        }

        private String line() throws IOException {
            ByteArrayOutputStream b = new ByteArrayOutputStream(64);
            for (int c = in.read(); c != '\n'; c = in.read()) {
                if (c < 0) throw new IOException("connection closed in a response");
                if (c != '\r') b.write(c);
            }
            return b.toString(StandardCharsets.US_ASCII);
        }

        @Override
        public void close() {
            if (socket != null) {
                try {
                    socket.close();
                } catch (IOException ignored) {
                    // closing a connection we are done with
                }
            }
            socket = null;
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
