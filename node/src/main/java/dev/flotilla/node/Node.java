package dev.flotilla.node;

import dev.flotilla.node.agent.Agent;
import dev.flotilla.node.agent.Registration;
import dev.flotilla.node.api.HttpApi;
import dev.flotilla.node.backend.Backend;
import dev.flotilla.node.backend.BackendException;
import dev.flotilla.node.backend.lua.LuaHost;
import dev.flotilla.node.backend.libvirt.DomainXml;
import dev.flotilla.node.backend.libvirt.LibvirtBackend;
import dev.flotilla.node.backend.microvm.MicrovmBackend;
import dev.flotilla.node.backend.microvm.MicrovmSettings;
import dev.flotilla.node.backend.process.ProcessBackend;
import dev.flotilla.node.backend.process.RestartPolicy;
import dev.flotilla.node.control.Controller;
import dev.flotilla.node.control.DesiredFile;
import dev.flotilla.node.control.DesiredPlan;
import dev.flotilla.node.api.Routes;
import dev.flotilla.node.metrics.NodeMetrics;
import dev.flotilla.node.raft.RaftNode;
import dev.flotilla.proto.Command;
import dev.flotilla.proto.CommandResult;
import dev.flotilla.proto.DesiredState;
import dev.flotilla.proto.Label;
import dev.flotilla.proto.ListVms;
import dev.flotilla.proto.Query;
import dev.flotilla.proto.QueryResult;
import dev.flotilla.proto.UpsertVm;
import dev.flotilla.proto.VmRecord;
import dev.flotilla.proto.NodeRecord;
import dev.flotilla.proto.Resources;
import dev.flotilla.statemachine.RegistryListener;
import dev.flotilla.statemachine.RegistrySettings;
import dev.flotilla.statemachine.RegistryStateMachine;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import org.apache.ratis.protocol.RaftPeerId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Flotilla node: the replicated registry, its Raft seat, the HTTP API in front of them, the agent
 * that runs what is assigned here, and the controller that places VMs while this node leads.
 */
public final class Node implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger("node");

    private final NodeConfig config;
    private final NodeMetrics metrics = new NodeMetrics();
    private final RegistryStateMachine stateMachine;
    private final RaftNode raft;
    private HttpApi api;
    private Agent agent;
    private Controller controller;
    private LuaHost lua;
    private Thread registrar;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile int exitCode;

    public Node(NodeConfig config) {
        this.config = config;
        // The Raft log is fsynced before an entry commits; RocksDB's WAL is written without fsync, which
        // survives a killed process, and a lost machine replays from the log above the last checkpoint.
        this.stateMachine = new RegistryStateMachine(new RegistrySettings(config.subnet, false));
        this.raft = new RaftNode(config, stateMachine);
    }

    public void start() throws IOException, InterruptedException {
        Files.createDirectories(config.dataPath());
        if (config.backends.contains("lua")) {
            lua = new LuaHost(config, raft);
            lua.start();
            lua.register(metrics);
        }
        agent = new Agent(config.nodeId, raft, backends(), RestartPolicy.standard(), Duration.ofMillis(500),
                config.dataPath().resolve("agent").resolve("machines"));
        agent.forwardPorts(new dev.flotilla.node.forward.HostPorts(java.net.InetAddress.getByName(config.forwardBindAddress)));
        controller = new Controller(raft, config.nodeId, config.nodeDownAfterMs, config.controlIntervalMs);
        stateMachine.addListener(new RegistryListener() {
            @Override
            public void onApplied(long index, Command command, CommandResult result, long applyNanos) {
                metrics.applied(command.getKindCase().name().toLowerCase(java.util.Locale.ROOT), applyNanos);
                if (result.hasRejection()) {
                    metrics.rejected(result.getRejection().getCode().name().toLowerCase(java.util.Locale.ROOT));
                    return;
                }
                // Nudges only where there is work: each pass reads the whole registry, so a burst of
                // creates must not become a burst of full reads on every node (the timed passes catch the rest).
                VmRecord vm = result.getVm();
                if (lua != null) {
                    switch (command.getKindCase()) {
                        case ASSIGN, UPSERT_VM, DELETE_VM, CLAIM_WARM -> {
                            if (vm.getSpec().getRuntime().equals("lua")) lua.nudge();
                        }
                        case REGISTER_NODE -> lua.nudge();
                        default -> { }
                    }
                }
                switch (command.getKindCase()) {
                    case ASSIGN -> agent.nudge(); // also the node a VM moved away from
                    case UPSERT_VM, START_VM, STOP_VM, DELETE_VM, CLAIM_WARM -> {
                        if (vm.getNode().equals(config.nodeId)) agent.nudge();
                        boolean waitsForPlacement = vm.getNode().isEmpty() && vm.getDesired() == DesiredState.DESIRED_RUNNING;
                        if (command.getKindCase() != Command.KindCase.UPSERT_VM || waitsForPlacement
                                || vm.getSpec().hasWarmPool()) controller.nudge();
                    }
                    case REGISTER_NODE, SET_NODE_STATE, REPORT_STATUS -> controller.nudge();
                    default -> { }
                }
            }

            @Override
            public void onLeaderChanged(RaftPeerId newLeader) {
                metrics.leaderChanged();
                LOG.info("leader is now {}", newLeader == null ? "unknown" : newLeader);
                if (newLeader == null || !newLeader.toString().equals(config.nodeId)) controller.notLeading();
            }

            @Override
            public void onLeaderReady() {
                LOG.info("this node leads the cluster");
                controller.leading();
            }

            @Override
            public void onReloaded(long appliedIndex) {
                if (lua != null) lua.nudge();
                agent.nudge();
                controller.nudge();
            }
        });
        raft.start();
        Thread watch = new Thread(this::watchRaft, "raft-watch");
        watch.setDaemon(true);
        watch.start();
        metrics.gauge("flotilla_raft_term", "Current Raft term seen by this node", () -> raft.view().term());
        metrics.gauge("flotilla_raft_commit_index", "Last committed log index", () -> raft.view().commitIndex());
        metrics.gauge("flotilla_raft_applied_index", "Last applied log index", () -> raft.view().appliedIndex());
        metrics.gauge("flotilla_raft_is_leader", "1 while this node leads", () -> raft.view().isLeader() ? 1 : 0);
        metrics.counter("flotilla_log_entries_sent", "Log entries this node sent; with group commit one holds several commands",
                () -> raft.groupCommitCounts()[0]);
        metrics.counter("flotilla_log_commands_sent", "Commands this node sent in those entries", () -> raft.groupCommitCounts()[1]);
        metrics.gauge("flotilla_agent_supervised_vms", "VMs this node's agent keeps running", () -> agent.supervised());
        api = new HttpApi(HostPort.parse(config.apiAddress), new Routes(raft, metrics, config.nodeId)
                .withSim(new dev.flotilla.node.api.SimInspect(raft, config.nodeId, lua)), config.maxBodyBytes);
        api.start();
        LOG.info("node {} started: api http://{}, raft {}, data {}, {} peer(s){}", config.nodeId, config.apiAddress,
                config.raftAddress, config.dataPath().toAbsolutePath(), config.peers.size(),
                config.join ? ", waiting to be added (join)" : "");
        registrar = new Thread(this::registerThenAct, "register");
        registrar.setDaemon(true);
        registrar.start();
        if (config.unsafeLocalReads) LOG.warn("unsafe_local_reads is ON: reads may be stale; for chaos negative controls only");
    }

    /** The backends this node's config lists and this host can run; one that cannot start is left out and said so. */
    private Map<String, Backend> backends() {
        Map<String, Backend> out = new TreeMap<>();
        for (String name : config.backends) {
            switch (name) {
                case "process" -> out.put(name, new ProcessBackend(config.processStateDir(),
                        Duration.ofMillis(config.process.stopGraceMs)));
                case "microvm" -> out.put(name, new MicrovmBackend(microvmSettings(config.microvm)));
                case "libvirt" -> {
                    try {
                        out.put(name, new LibvirtBackend(config.libvirt.uri,
                                new DomainXml.Options(config.libvirt.domainType, config.libvirt.network),
                                Duration.ofMillis(config.process.stopGraceMs)));
                    } catch (BackendException e) {
                        LOG.error("backend libvirt is listed but unusable, this node will not offer it: {}", e.getMessage());
                    }
                }
                case "lua" -> {
                    if (lua != null) out.put(name, lua.backend());
                }
                default -> LOG.warn("backend '{}' is listed in backends but this node cannot run it yet; not offered", name);
            }
        }
        return out;
    }

    /** The microvm backend's settings from the config's microvm section (docs/configuration.md). */
    static MicrovmSettings microvmSettings(NodeConfig.Microvm m) {
        Path state = Path.of(m.stateDir);
        return new MicrovmSettings(state, m.flakeDir.isEmpty() ? state.resolve(".flotilla-flakes") : Path.of(m.flakeDir),
                Path.of(m.gcRootsDir), List.of(m.microvmCommand), List.of(m.systemctlCommand),
                Duration.ofMillis(m.commandTimeoutMs), Duration.ofMillis(m.stopTimeoutMs), Duration.ofSeconds(3), m.environment);
    }

    /** Registers this node, waits until the local registry has caught up with that, then lets the agent act. */
    private void registerThenAct() {
        NodeRecord.Builder n = NodeRecord.newBuilder()
                .setId(config.nodeId)
                .setApiAddress(config.apiAddress)
                .setRaftAddress(config.raftAddress)
                .setTransportAddress(config.transportAddress)
                .setCapacity(Resources.newBuilder().setVcpu(config.capacity.vcpu).setMemMb(config.capacity.memMb))
                .addAllBackends(agent.runtimes());
        new TreeMap<>(config.labels).forEach((k, v) -> n.addLabels(Label.newBuilder().setKey(k).setValue(v)));
        try {
            new Registration(raft, n.build(), stateMachine::appliedIndex).register();
            agent.start();
            if (!config.desiredFile.isEmpty()) applyDesired(Path.of(config.desiredFile));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            LOG.error("node {} could not register, so its agent does not run VMs: {}", config.nodeId, e.getMessage());
        }
    }

    /** Upserts what the desired-state file declares and differs from the registry; a bad file is refused whole. */
    private void applyDesired(Path file) throws InterruptedException {
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            LOG.error("desired_file {} cannot be read ({}); nothing of it is applied", file, e.getMessage());
            return;
        }
        DesiredFile.Parsed parsed = DesiredFile.parse(file.toString(), text);
        if (parsed instanceof DesiredFile.Parsed.Bad bad) {
            LOG.error("desired_file {} is refused whole, nothing applied: {}", file, String.join("; ", bad.problems()));
            return;
        }
        try {
            QueryResult r = raft.query(Query.newBuilder().setListVms(ListVms.getDefaultInstance()).build()).get(30, TimeUnit.SECONDS);
            List<DesiredPlan.Current> current = r.getVmsList().stream()
                    .map(v -> new DesiredPlan.Current(v.getId(), v.getTenant(), v.getSpec(), v.getWarm())).toList();
            int changed = 0;
            for (DesiredPlan.Step s : DesiredPlan.plan(((DesiredFile.Parsed.Ok) parsed).entries(), current, false)) {
                if (s.kind() == DesiredPlan.Kind.UNCHANGED) continue;
                Command c = raft.command()
                        .setUpsertVm(UpsertVm.newBuilder().setJobId(s.jobId()).setTenant(s.tenant()).setSpec(s.entry().spec()))
                        .build();
                CommandResult res = raft.submit(c).get(30, TimeUnit.SECONDS);
                if (res.hasRejection()) {
                    LOG.error("desired_file {} line {}: VM {} refused: {}", file, s.entry().line(), s.jobId(), res.getRejection().getMessage());
                } else {
                    changed++;
                }
            }
            LOG.info("desired_file {} applied: {} VM(s) created or updated", file, changed);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            LOG.error("desired_file {} could not be applied ({}); restart the node or run 'flotilla apply -f {}'", file, e.toString(), file);
        }
    }

    /** Blocks until the node is stopped; then the process's exit code: 0, or 75 when Raft stopped by itself. */
    public int awaitStop() throws InterruptedException {
        stopped.await();
        return exitCode;
    }

    /**
     * A node whose Raft server has closed by itself still answers HTTP but can never commit or read
     * again; rather than serve errors forever, it stops, and a supervisor restarts it on its data.
     */
    private void watchRaft() {
        while (stopped.getCount() > 0) {
            java.util.Optional<org.apache.ratis.util.LifeCycle.State> s = raft.stoppedByItself();
            if (s.isPresent()) {
                LOG.error("the Raft server of node {} stopped by itself (state {}): this node can no longer commit or"
                        + " read. Exiting with code 75 so that its supervisor (systemd Restart=always, or you) starts it"
                        + " again on its data, which rejoins the group. Raft's own account is in this log with"
                        + " FLOTILLA_RATIS_LOG_LEVEL=info.", config.nodeId, s.get());
                exitCode = 75;
                stopped.countDown();
                return;
            }
            try {
                Thread.sleep(1000); // a watch interval, not synchronisation
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    @Override
    public void close() {
        LOG.info("node {} stopping", config.nodeId);
        if (registrar != null) registrar.interrupt();
        if (controller != null) controller.close();
        if (agent != null) agent.close();
        if (lua != null) lua.close();
        if (api != null) api.close();
        try {
            raft.close();
        } catch (IOException e) {
            LOG.warn("error closing the Raft server: {}", e.toString());
        }
        stopped.countDown();
    }
}
