package dev.flotilla.node.backend.lua;

import dev.flotilla.node.HostPort;
import dev.flotilla.node.NodeConfig;
import dev.flotilla.node.metrics.NodeMetrics;
import dev.flotilla.node.net.PacketTransport;
import dev.flotilla.node.net.Router;
import dev.flotilla.node.raft.RaftNode;
import dev.flotilla.node.sim.SimConfig;
import dev.flotilla.node.sim.SimRuntime;
import dev.flotilla.node.sim.SimStats;
import dev.flotilla.node.sim.SimVmStatus;
import dev.flotilla.proto.GetFiles;
import dev.flotilla.proto.GetVm;
import dev.flotilla.proto.ListNodes;
import dev.flotilla.proto.ListVms;
import dev.flotilla.proto.Query;
import dev.flotilla.proto.QueryResult;
import dev.flotilla.proto.VmRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Everything a node needs to run simulated VMs, wired to the registry: the runtime and its router,
 * the inter-node packet transport, the {@link LuaBackend} the agent drives, the {@link FsReplicator}
 * that makes files durable, and the feed that keeps the router's table and the transport's peers in
 * step with the replicated VMs and nodes. Started with the node and closed with it.
 */
public final class LuaHost implements AutoCloseable, dev.flotilla.node.api.SimInspect.Local {
    private static final Logger LOG = LoggerFactory.getLogger(LuaHost.class);
    private static final long READ_TIMEOUT_MS = 10_000;
    private static final int TRANSPORT_QUEUE = 100_000;

    private final String selfId;
    private final RaftNode raft;
    private final Router router;
    private final SimRuntime runtime;
    private final PacketTransport transport;
    private final LuaBackend backend;
    private final FsReplicator replicator;
    private final ScheduledExecutorService feed = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "lua-network-feed");
        t.setDaemon(true);
        return t;
    });
    private final AtomicBoolean refreshPending = new AtomicBoolean();
    private final Map<String, String> configPeers = new TreeMap<>();
    private volatile boolean started;
    private volatile boolean fed;

    public LuaHost(NodeConfig config, RaftNode raft) {
        this.selfId = config.nodeId;
        this.raft = raft;
        SimConfig sim = SimConfig.defaults();
        if (config.lua.workers > 0) sim = sim.withShards(config.lua.workers);
        sim = sim.withInstructionBudget(config.lua.instructionBudget).withCompileToJvm(config.lua.compile)
                .withHeapLimits(config.lua.heapQuotaBytes, config.lua.maxCallAllocBytes);
        router = new Router(selfId);
        runtime = new SimRuntime(sim, router);
        HostPort bind = HostPort.parse(config.transportAddress);
        transport = new PacketTransport(selfId, new InetSocketAddress(bind.host(), bind.port()), runtime::deliver, TRANSPORT_QUEUE);
        backend = new LuaBackend(runtime, new Records());
        replicator = new FsReplicator(new FsReplicator.Log() {
            @Override
            public CompletableFuture<dev.flotilla.proto.CommandResult> submit(dev.flotilla.proto.Command command) {
                return raft.submit(command);
            }

            @Override
            public dev.flotilla.proto.Command.Builder command() {
                return raft.command();
            }
        }, backend::target);
        runtime.setPacketSink(transport);
        runtime.setFsSink(replicator::accept);
        for (NodeConfig.Peer p : config.peers) {
            if (p.transport != null && !p.transport.isEmpty() && !p.id.equals(selfId)) configPeers.put(p.id, p.transport);
        }
    }

    /** Binds the packet transport, starts the tick loop and the table feed. */
    public void start() throws InterruptedException {
        transport.start();
        setPeers(configPeers);
        runtime.start();
        started = true;
        feed.scheduleWithFixedDelay(this::refresh, 0, 1, TimeUnit.SECONDS);
    }

    public LuaBackend backend() {
        return backend;
    }

    /** Something that moves VMs, names or nodes was applied: rebuild the router's table soon. */
    public void nudge() {
        if (started && refreshPending.compareAndSet(false, true)) {
            feed.execute(() -> {
                refreshPending.set(false);
                refresh();
            });
        }
    }

    private void refresh() {
        try {
            QueryResult vms = raft.queryLocalStale(Query.newBuilder().setListVms(ListVms.newBuilder().setRuntime("lua")).build())
                    .get(READ_TIMEOUT_MS, TimeUnit.MILLISECONDS);
            QueryResult nodes = raft.queryLocalStale(Query.newBuilder().setListNodes(ListNodes.getDefaultInstance()).build())
                    .get(READ_TIMEOUT_MS, TimeUnit.MILLISECONDS);
            NetworkTables.Derived d = NetworkTables.derive(selfId, vms.getVmsList(), nodes.getNodesList());
            router.updateTable(d.table());
            Map<String, String> peers = new TreeMap<>(configPeers);
            peers.putAll(d.peers());
            setPeers(peers);
            fed = true;
        } catch (Exception e) {
            if (fed) {
                LOG.warn("cannot rebuild the simulated network's table from the registry ({}); keeping the last one", e.toString());
            } else {
                // The node starts the runtime before its registry is open; the first rounds may come too early.
                LOG.debug("the registry is not readable yet for the simulated network's table: {}", e.toString());
            }
        }
    }

    private void setPeers(Map<String, String> peers) {
        peers.forEach((node, address) -> {
            try {
                HostPort hp = HostPort.parse(address);
                transport.setPeer(node, new InetSocketAddress(hp.host(), hp.port()));
            } catch (IllegalArgumentException e) {
                LOG.warn("node {} has transport address '{}' that is not host:port; packets to it are dropped", node, address);
            }
        });
    }

    /** This node's view of a lua VM it runs, or empty when it does not run it. */
    @Override
    public CompletableFuture<Optional<SimVmStatus>> status(String machine) {
        return runtime.status(machine);
    }

    /** Log lines of a VM this node runs, numbered after {@code after}. */
    @Override
    public CompletableFuture<Optional<SimRuntime.LogPage>> logs(String machine, long after) {
        return runtime.logsSince(machine, after);
    }

    /** Registers the runtime's, router's, transport's and file replication's counters. */
    public void register(NodeMetrics m) {
        m.gauge("flotilla_sim_tick", "Current tick of the simulated-VM runtime", () -> runtime.tick());
        m.gauge("flotilla_sim_vms", "Simulated VMs held by this node", () -> runtime.stats().vms());
        m.gauge("flotilla_sim_runnable_vms", "Simulated VMs runnable in the last tick", () -> runtime.stats().runnable());
        m.counter("flotilla_sim_late_ticks", "Ticks that started more than half a period late", () -> runtime.stats().lateTicks());
        m.counter("flotilla_sim_overruns", "Ticks whose work took longer than one period", () -> runtime.stats().overruns());
        m.gauge("flotilla_sim_max_tick_seconds", "Longest tick's work so far", () -> runtime.stats().maxTickNanos() / 1e9);
        m.counter("flotilla_sim_handler_calls", "Lua handler calls", () -> runtime.stats().handlerCalls());
        m.counter("flotilla_sim_packets_sent", "Packets sent by simulated VMs on this node", () -> runtime.stats().packetsSent());
        m.counter("flotilla_router_delivered", "Packets the router delivered on this node", () -> router.stats().delivered());
        m.counter("flotilla_router_cross_node", "Packets the router sent to another node", () -> router.stats().crossNode());
        for (dev.flotilla.node.net.DropReason r : dev.flotilla.node.net.DropReason.values()) {
            String name = r.name().toLowerCase(java.util.Locale.ROOT);
            m.counter("flotilla_router_dropped_" + name + "", "Packets dropped by the router: " + r.name(),
                    () -> router.stats().drops().getOrDefault(r, 0L));
        }
        m.counter("flotilla_transport_sent", "Packets sent to other nodes", () -> transport.stats().sent());
        m.counter("flotilla_transport_received", "Packets received from other nodes", () -> transport.stats().received());
        m.counter("flotilla_transport_connects", "Connections made to peer nodes", () -> transport.stats().connects());
        for (PacketTransport.Drop d : PacketTransport.Drop.values()) {
            String name = d.name().toLowerCase(java.util.Locale.ROOT);
            m.counter("flotilla_transport_dropped_" + name + "", "Packets the transport dropped: " + d.name(),
                    () -> transport.stats().drops().getOrDefault(d, 0L));
        }
        m.counter("flotilla_sim_heap_checks", "Times a simulated VM's heap was measured", () -> runtime.stats().heapChecks());
        m.counter("flotilla_sim_heap_quota_stops", "Simulated VMs stopped for holding more than lua.heap_quota_bytes",
                () -> runtime.stats().heapQuotaStops());
        m.counter("flotilla_sim_call_alloc_stops", "Simulated VMs stopped for a handler call allocating more than lua.max_call_alloc_bytes",
                () -> runtime.stats().callAllocStops());
        m.counter("flotilla_sim_fs_bytes", "Bytes of file changes handed out for replication", () -> runtime.stats().fsBytesOut());
        m.counter("flotilla_sim_fs_batches", "Batches of file changes handed out", () -> runtime.stats().fsBatches());
        m.counter("flotilla_sim_fs_coalesced", "File writes coalesced away before replication", () -> runtime.stats().fsCoalescedWrites());
        m.counter("flotilla_sim_fs_throttled", "Times a VM's file changes waited for a later flush (rate bound)", () -> runtime.stats().fsThrottled());
        m.counter("flotilla_sim_fs_deltas_committed", "FsDelta commands committed", () -> replicator.stats().committed());
        m.counter("flotilla_sim_fs_delta_bytes_committed", "Bytes of file changes committed", () -> replicator.stats().committedBytes());
        m.counter("flotilla_sim_fs_deltas_refused", "FsDelta commands the rules refused (stale epoch, quota)", () -> replicator.stats().refused());
        m.counter("flotilla_sim_fs_deltas_retried", "FsDelta commands retried after the log could not take them", () -> replicator.stats().retried());
    }

    @Override
    public void close() {
        started = false;
        feed.shutdownNow();
        runtime.close();
        transport.close();
        replicator.close();
    }

    /** The registry as this node has applied it. Stale reads are enough: the agent acts on the same state. */
    private final class Records implements LuaRecords {
        @Override
        public Optional<VmRecord> record(String machine) {
            try {
                QueryResult r = raft.queryLocalStale(Query.newBuilder().setGetVm(GetVm.newBuilder().setJobId(machine)).build())
                        .get(READ_TIMEOUT_MS, TimeUnit.MILLISECONDS);
                if (r.getVmsCount() > 0 && (r.getVms(0).getVmId().isEmpty() || r.getVms(0).getVmId().equals(machine))) {
                    return Optional.of(r.getVms(0));
                }
                QueryResult all = raft.queryLocalStale(Query.newBuilder().setListVms(ListVms.newBuilder().setRuntime("lua")).build())
                        .get(READ_TIMEOUT_MS, TimeUnit.MILLISECONDS);
                return all.getVmsList().stream().filter(v -> machine.equals(v.getVmId())).findFirst();
            } catch (Exception e) {
                LOG.warn("cannot read the record of lua VM {} ({})", machine, e.toString());
                return Optional.empty();
            }
        }

        @Override
        public Map<String, byte[]> files(String jobId) {
            try {
                QueryResult r = raft.queryLocalStale(Query.newBuilder().setGetFiles(GetFiles.newBuilder().setJobId(jobId)).build())
                        .get(READ_TIMEOUT_MS, TimeUnit.MILLISECONDS);
                Map<String, byte[]> out = new TreeMap<>();
                r.getFilesList().forEach(f -> out.put(f.getPath(), f.getData().toByteArray()));
                return out;
            } catch (Exception e) {
                throw new IllegalStateException("cannot read the files of job " + jobId + " from this node's registry: " + e, e);
            }
        }
    }

    /** Unused by the node; lets tests and benchmarks read the runtime's counters. */
    public SimStats stats() {
        return runtime.stats();
    }

    /** VMs this node runs now, by machine name. */
    public List<String> machines() {
        return backend.list();
    }
}
