package dev.flotilla.chaos.cluster;

import dev.flotilla.chaos.workload.NodeApi;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A cluster of real node processes, one per network namespace, that faults can kill, pause, cut off,
 * skew and corrupt. Closing it (also from a shutdown hook when the JVM is interrupted) kills every
 * node and removes the network.
 */
public final class ClusterUnderTest implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterUnderTest.class);
    private static final int API_PORT = 8088;
    private static final int RAFT_PORT = 9088;
    private static final int TRANSPORT_PORT = 7088;
    private static final String FAKETIME_LIB = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1";

    /**
     * How to run the cluster.
     *
     * @param flotilla          the bin/flotilla launcher
     * @param dir               where node data, configs and logs go
     * @param nodeIds           the initial members
     * @param unsafeLocalReads  start nodes with the test-only flag that skips ReadIndex (negative control)
     * @param faketime          preload libfaketime so the nodes' wall clocks can be moved
     * @param nodeJavaOptions   JAVA_TOOL_OPTIONS for the node JVMs (heap bound on a small machine)
     */
    public record Options(Path flotilla, Path dir, List<String> nodeIds, boolean unsafeLocalReads, boolean faketime,
                          String nodeJavaOptions, Duration startTimeout) {
    }

    private final Options options;
    private final TestNetwork network;
    private final Map<String, NodeProcess> nodes = new LinkedHashMap<>();
    private final Map<String, NodeApi> apis = new HashMap<>();
    private final Thread shutdownHook;
    private boolean closed;

    private ClusterUnderTest(Options options, TestNetwork network) {
        this.options = options;
        this.network = network;
        this.shutdownHook = new Thread(this::close, "chaos-teardown");
    }

    /** Builds the network, starts every node and waits until all are healthy and agree on a leader. */
    public static ClusterUnderTest start(Options options) {
        if (!Files.isExecutable(options.flotilla())) {
            throw new IllegalStateException("no executable node launcher at " + options.flotilla()
                    + "; build it first (mvn -o -q install -DskipTests at the repository root) or pass "
                    + "-Dflotilla.bin=/path/to/bin/flotilla");
        }
        if (options.faketime() && !Files.exists(Path.of(FAKETIME_LIB))) {
            throw new IllegalStateException("clock faults need " + FAKETIME_LIB
                    + " (Debian package faketime); install it or leave the clock faults out of --faults");
        }
        TestNetwork network = TestNetwork.create(options.nodeIds(), 10 * 60_000L);
        ClusterUnderTest cluster = new ClusterUnderTest(options, network);
        Runtime.getRuntime().addShutdownHook(cluster.shutdownHook);
        try {
            for (String id : options.nodeIds()) {
                cluster.apis.put(id, new NodeApi(id, network.ip(id) + ":" + API_PORT, Duration.ofSeconds(5)));
                cluster.prepare(id, false);
            }
            cluster.nodes.values().forEach(NodeProcess::start);
            cluster.awaitHealthy(options.startTimeout());
            return cluster;
        } catch (RuntimeException e) {
            cluster.close();
            throw e;
        }
    }

    private void prepare(String id, boolean join) {
        Path dir = options.dir().resolve("nodes").resolve(id);
        try {
            Files.createDirectories(dir.resolve("data"));
            Files.writeString(dir.resolve("node.yaml"), config(id, dir.resolve("data"), join), StandardCharsets.UTF_8);
            if (!Files.exists(clockFile(id))) {
                Files.writeString(clockFile(id), "+0\n", StandardCharsets.UTF_8);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare node " + id + " in " + dir + ": " + e.getMessage(), e);
        }
        List<String> argv = new ArrayList<>(List.of(options.flotilla().toString(), "node", "--config",
                dir.resolve("node.yaml").toString()));
        if (options.unsafeLocalReads()) {
            argv.add("--unsafe-local-reads");
        }
        Map<String, String> env = new HashMap<>();
        env.put("JAVA_TOOL_OPTIONS", options.nodeJavaOptions());
        if (options.faketime()) {
            // Only the wall clock moves: CLOCK_MONOTONIC is never stepped by a real kernel either, and
            // Raft's timers and the leader lease run on it. The file is re-read at most once a second.
            env.put("LD_PRELOAD", FAKETIME_LIB);
            env.put("FAKETIME_TIMESTAMP_FILE", clockFile(id).toString());
            env.put("FAKETIME_DONT_FAKE_MONOTONIC", "1");
            env.put("FAKETIME_CACHE_DURATION", "1");
            // glibc auto-enables libfaketime's "monotonic fix", with which every JVM timed wait
            // (Object.wait, parkNanos) returns at once and spins: 83,000 wake-ups instead of 6 in 3 s,
            // measured. Off, timed waits behave and the wall clock is still faked.
            env.put("FAKETIME_FORCE_MONOTONIC_FIX", "0");
        }
        nodes.put(id, new NodeProcess(id, dir, network.inNamespace(id, argv), env));
    }

    private String config(String id, Path data, boolean join) {
        StringBuilder y = new StringBuilder();
        String ip = network.ip(id);
        y.append("node_id: ").append(id).append('\n');
        y.append("data_dir: ").append(data).append('\n');
        y.append("api_address: ").append(ip).append(':').append(API_PORT).append('\n');
        y.append("raft_address: ").append(ip).append(':').append(RAFT_PORT).append('\n');
        y.append("transport_address: ").append(ip).append(':').append(TRANSPORT_PORT).append('\n');
        y.append("peers:\n");
        for (String peer : options.nodeIds()) {
            String pip = network.ip(peer);
            y.append(String.format("  - {id: %s, raft: %s:%d, api: %s:%d, transport: %s:%d}%n", peer, pip, RAFT_PORT,
                    pip, API_PORT, pip, TRANSPORT_PORT));
        }
        y.append("join: ").append(join).append('\n');
        return y.toString();
    }

    /** Waits until every running node answers /health and they agree on one leader. */
    public void awaitHealthy(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            List<String> unhealthy = new ArrayList<>();
            for (String id : nodes.keySet()) {
                NodeProcess p = nodes.get(id);
                if (!p.alive()) {
                    throw new IllegalStateException("node " + id + " exited with code " + p.exitCode()
                            + " while the cluster was starting; its log " + p.log() + " ends:\n" + p.tail(30));
                }
                if (!apis.get(id).healthy()) {
                    unhealthy.add(id);
                }
            }
            if (unhealthy.isEmpty() && leader().isPresent()) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("cluster not healthy within " + timeout.toSeconds() + " s: "
                        + (unhealthy.isEmpty() ? "no agreed leader" : "no healthy /health from " + unhealthy)
                        + "; node logs are in " + options.dir().resolve("nodes"));
            }
            pause(200);
        }
    }

    /** The leader most nodes name, if a majority of the configured nodes agree on one. */
    public Optional<String> leader() {
        Map<String, Integer> votes = new HashMap<>();
        for (String id : nodes.keySet()) {
            status(id).flatMap(ClusterStatus::leader).ifPresent(l -> votes.merge(l, 1, Integer::sum));
        }
        return votes.entrySet().stream().filter(e -> e.getValue() > nodes.size() / 2)
                .map(Map.Entry::getKey).findFirst();
    }

    /** One node's GET /cluster, if it answers. */
    public Optional<ClusterStatus> status(String id) {
        return apis.get(id).cluster().map(j -> ClusterStatus.parse(id, j));
    }

    /** The node ids in the order they were configured. */
    public List<String> nodeIds() {
        return List.copyOf(nodes.keySet());
    }

    /** A client for the node's API (shared; HttpClient is thread-safe). */
    public NodeApi api(String id) {
        return apis.get(id);
    }

    /** A new client for the node's API with its own connection pool and timeout. */
    public NodeApi newApi(String id, Duration timeout) {
        return new NodeApi(id, apiAddress(id), timeout);
    }

    /** host:port of the node's API. */
    public String apiAddress(String id) {
        return network.ip(id) + ":" + API_PORT;
    }

    /** host:port of the node's Raft server. */
    public String raftAddress(String id) {
        return network.ip(id) + ":" + RAFT_PORT;
    }

    /** The network, for partitions. */
    public TestNetwork network() {
        return network;
    }

    /** The node's data dir, where corruption is done while it is down. */
    public Path dataDir(String id) {
        return nodes.get(id).dir().resolve("data");
    }

    /** True while the node's process runs (paused counts as running). */
    public boolean running(String id) {
        return nodes.get(id).alive();
    }

    /** SIGKILL to every process in the node's namespace; returns once they are gone. */
    public void kill(String id) {
        network.signal(id, "KILL");
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (nodes.get(id).alive() || !network.pids(id).isEmpty()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("node " + id + " still has processes 20 s after SIGKILL: "
                        + network.pids(id));
            }
            pause(50);
        }
    }

    /** SIGSTOP: the node freezes with its sockets open. */
    public void pauseNode(String id) {
        network.signal(id, "STOP");
    }

    /** SIGCONT. */
    public void resume(String id) {
        network.signal(id, "CONT");
    }

    /** Starts a stopped node again on its own data. */
    public void restart(String id) {
        nodes.get(id).start();
    }

    /** Starts the node with empty storage, waiting to be added by a configuration change. */
    public void restartEmpty(String id) {
        Path data = dataDir(id);
        deleteTree(data);
        prepare(id, true);
        nodes.get(id).start();
    }

    /** Once a joined node is a member again, later restarts use its normal config on its own data. */
    public void markJoined(String id) {
        Path dir = options.dir().resolve("nodes").resolve(id);
        try {
            Files.writeString(dir.resolve("node.yaml"), config(id, dir.resolve("data"), false), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot rewrite the config of node " + id + ": " + e.getMessage(), e);
        }
    }

    /** The node's exit code if it has exited, else null. */
    public Integer exitCode(String id) {
        return nodes.get(id).exitCode();
    }

    /** The end of the node's log. */
    public String logTail(String id, int lines) {
        return nodes.get(id).tail(lines);
    }

    /** Moves the node's wall clock to real time plus {@code seconds} (needs the faketime option). */
    public void setClockOffset(String id, double seconds) {
        if (!options.faketime()) {
            throw new IllegalStateException("clock faults need the cluster started with faketime");
        }
        try {
            Path tmp = clockFile(id).resolveSibling("faketime.tmp");
            Files.writeString(tmp, String.format(java.util.Locale.ROOT, "%+.3f%n", seconds), StandardCharsets.UTF_8);
            Files.move(tmp, clockFile(id), java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot move the clock of node " + id + ": " + e.getMessage(), e);
        }
    }

    private Path clockFile(String id) {
        return options.dir().resolve("nodes").resolve(id).resolve("faketime");
    }

    /** Runs {@code bin/flotilla args...} from the host side (the CLI talks to nodes' APIs). */
    public dev.flotilla.chaos.cluster.Command.Result cli(List<String> args, long timeoutMillis) {
        List<String> argv = new ArrayList<>(List.of(options.flotilla().toString()));
        argv.addAll(args);
        return Command.run(argv, timeoutMillis);
    }

    private static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot wipe " + root + ": " + e.getMessage(), e);
        }
    }

    static void pause(long millis) {
        try {
            Thread.sleep(millis); // poll interval of a deadline loop, not synchronisation
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        LOG.info("tearing the cluster down");
        try {
            for (String id : nodes.keySet()) {
                network.signal(id, "CONT"); // a stopped process still dies of SIGKILL, but be plain about it
                network.signal(id, "KILL");
            }
        } finally {
            network.close();
            try {
                Runtime.getRuntime().removeShutdownHook(shutdownHook);
            } catch (IllegalStateException alreadyShuttingDown) {
                // close() is running from the hook itself
            }
        }
    }
}
