package dev.flotilla.node.agent;

import dev.flotilla.node.backend.Backend;
import dev.flotilla.node.backend.BackendException;
import dev.flotilla.node.backend.VmInstance;
import dev.flotilla.node.backend.VmStatus;
import dev.flotilla.node.backend.process.RestartPolicy;
import dev.flotilla.node.backend.process.Supervisor;
import dev.flotilla.node.control.Lifecycle;
import dev.flotilla.node.forward.Forward;
import dev.flotilla.node.forward.HostPorts;
import dev.flotilla.node.raft.RaftNode;
import dev.flotilla.proto.Command;
import dev.flotilla.proto.CommandResult;
import dev.flotilla.proto.ListVms;
import dev.flotilla.proto.ObservedState;
import dev.flotilla.proto.Query;
import dev.flotilla.proto.QueryResult;
import dev.flotilla.proto.ReportStatus;
import dev.flotilla.proto.VmRecord;
import dev.flotilla.proto.VmSpec;
import dev.flotilla.statemachine.SpecHash;
import dev.flotilla.node.agent.Reconcile.Mode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node agent: makes this host run what the applied registry assigns to it. Every decision is taken
 * on one thread, from the applied state (a pass on each relevant applied command and once a second);
 * backends are driven through one {@link Supervisor} each, which restarts VMs by their lifecycle. What
 * it observes goes back as ReportStatus at the assignment's epoch, only when it changed.
 *
 * <p>Fencing: a VM is acted on only while the newest record names this node; one moved elsewhere or
 * deleted is torn down here, and a report for an older epoch is refused by the rules anyway.
 */
public final class Agent implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger("agent");
    private static final long REPORT_TIMEOUT_MS = 10_000;
    private static final long RETRY_BROKEN_MS = 30_000;


    /** A report as sent, to send each change once. */
    record Sent(String jobId, long epoch, ObservedState observed, int exitCode) {}

    /** One machine on this host, by its name (the record's vm_id). */
    static final class Hosted {
        final String machine;
        String jobId;
        long epoch;
        Backend backend;
        VmInstance inst;
        Mode mode = Mode.NEW;
        Sent lastSent;
        VmStatus lastEnded;
        long retryAtMs;

        Hosted(String machine) {
            this.machine = machine;
        }
    }

    private final String selfId;
    private final RaftNode raft;
    private final Map<String, Backend> backends;
    private final Map<String, Supervisor> supervisors = new TreeMap<>();
    private final ScheduledExecutorService thread;
    private final ExecutorService reporter;
    private final Map<String, Hosted> hosted = new TreeMap<>();
    private final Ledger ledger;
    private final AtomicBoolean pending = new AtomicBoolean();
    private volatile boolean started;
    private volatile int running;
    private boolean adopted;
    private volatile HostPorts ports;

    /**
     * @param backends by runtime name; the agent closes them
     * @param policy   restarts of services and daemons
     */
    public Agent(String selfId, RaftNode raft, Map<String, Backend> backends, RestartPolicy policy, Duration supervisePoll,
                 java.nio.file.Path ledgerFile) {
        this.selfId = selfId;
        this.ledger = new Ledger(ledgerFile);
        this.raft = raft;
        this.backends = Map.copyOf(backends);
        this.thread = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "agent"));
        this.reporter = Executors.newSingleThreadExecutor(r -> daemon(r, "agent-report"));
        for (Backend b : backends.values()) {
            supervisors.put(b.name(), new Supervisor(b, policy, supervisePoll, System::currentTimeMillis,
                    e -> thread.execute(() -> onEvent(b, e))));
        }
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    /** Runtime names this agent can run, for the node's registration. */
    public List<String> runtimes() {
        return new ArrayList<>(new TreeMap<>(backends).keySet());
    }

    /**
     * Starts acting. Call only once the local registry has caught up with the node's own registration:
     * the first pass adopts what runs here and removes what no longer belongs here, so it must not see
     * an old state in which a moved VM still names this node.
     */
    public void start() {
        started = true;
        thread.scheduleWithFixedDelay(this::safePass, 0, 1000, TimeUnit.MILLISECONDS);
    }

    /** Something relevant was applied: reconcile soon. */
    public void nudge() {
        if (started && pending.compareAndSet(false, true)) {
            thread.execute(() -> {
                pending.set(false);
                safePass();
            });
        }
    }

    private void safePass() {
        try {
            pass();
        } catch (RuntimeException e) {
            LOG.warn("agent pass failed: {}; trying again shortly", e.toString(), e);
        }
    }

    private void pass() {
        QueryResult r;
        try {
            r = raft.queryLocalStale(Query.newBuilder().setListVms(ListVms.newBuilder().setNode(selfId)).build())
                    .get(REPORT_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            LOG.warn("agent cannot read the local registry: {}", e.toString());
            return;
        }
        Map<String, VmRecord> mine = new TreeMap<>();
        for (VmRecord vm : r.getVmsList()) {
            mine.put(machine(vm), vm);
        }
        if (!adopted) {
            removeStrays(mine);
            adopted = true;
        }
        for (Map.Entry<String, VmRecord> e : mine.entrySet()) {
            try {
                reconcile(e.getKey(), e.getValue());
            } catch (RuntimeException ex) {
                LOG.warn("agent cannot reconcile VM {}: {}", e.getKey(), ex.toString(), ex);
            }
        }
        for (String name : List.copyOf(hosted.keySet())) {
            if (!mine.containsKey(name)) remove(name);
        }
        running = (int) hosted.values().stream().filter(h -> h.mode == Mode.SUPERVISED).count();
        if (ports != null) ports.sync(wantedForwards());
    }

    /** Opens the host ports of this node's running VMs through {@code ports}; call before {@link #start}. */
    public void forwardPorts(HostPorts ports) {
        this.ports = ports;
    }

    /** The host ports the VMs this agent supervises want, where their backend can reach the guest. */
    private List<Forward> wantedForwards() {
        List<Forward> out = new ArrayList<>();
        for (Hosted h : hosted.values()) {
            if (h.mode != Mode.SUPERVISED || h.inst == null || h.inst.spec().getPortsCount() == 0) continue;
            java.util.Optional<String> target = h.backend.guestAddress(h.inst);
            if (target.isEmpty()) continue;
            for (dev.flotilla.proto.PortForward p : h.inst.spec().getPortsList()) {
                out.add(new Forward(p.getHost(), p.getProto().isEmpty() ? "tcp" : p.getProto(), target.get(), p.getGuest(), h.jobId));
            }
        }
        return out;
    }

    /** How many machines this agent supervises now (as of its last pass), for the metrics. */
    public int supervised() {
        return running;
    }

    static String machine(VmRecord vm) {
        return vm.getVmId().isEmpty() ? vm.getId() : vm.getVmId();
    }

    /** After a restart: machines found on this host that the registry does not give this node are removed. */
    private void removeStrays(Map<String, VmRecord> mine) {
        for (Backend b : backends.values()) {
            List<String> found;
            try {
                found = b.list();
            } catch (BackendException e) {
                LOG.warn("agent cannot list the {} backend's VMs: {}", b.name(), e.getMessage());
                continue;
            }
            for (String name : found) {
                VmRecord r = mine.get(name);
                if (r != null && b.name().equals(r.getSpec().getRuntime())) continue;
                if (!ledger.contains(b.name(), name)) {
                    LOG.info("{} VM {} on this host was not made by this agent; leaving it alone", b.name(), name);
                    continue;
                }
                LOG.info("removing {} VM {} found on this host: the registry does not assign it to {} (deleted, or moved by a newer Assign)",
                        b.name(), name, selfId);
                try {
                    b.delete(new VmInstance(name, VmSpec.getDefaultInstance(), "", "", 0));
                    ledger.remove(b.name(), name);
                } catch (BackendException e) {
                    LOG.warn("cannot remove stray VM {}: {}", name, e.getMessage());
                }
            }
        }
    }

    private void reconcile(String name, VmRecord r) {
        Hosted h = hosted.computeIfAbsent(name, Hosted::new);
        Backend b = backends.get(r.getSpec().getRuntime());
        h.jobId = r.getId();
        boolean newEpoch = h.epoch != 0 && h.epoch != r.getEpoch();
        h.epoch = r.getEpoch();
        if (b == null) {
            if (h.mode != Mode.FINISHED || newEpoch) {
                h.mode = Mode.FINISHED;
                report(h, ObservedState.FAILED, "node " + selfId + " has no '" + r.getSpec().getRuntime()
                        + "' backend (it runs " + runtimes() + "); add it to the node's backends", 0);
            }
            return;
        }
        VmInstance inst = new VmInstance(name, r.getSpec(), r.getIp(), r.getMac(), r.getEpoch());
        // Only a change of the machine's shape restarts it: a warm VM claimed by a request that adds a
        // name or ports keeps running, which is the point of the pool.
        boolean specChanged = h.inst != null && !SpecHash.of(h.inst.spec()).equals(SpecHash.of(r.getSpec()));
        VmInstance old = h.inst;
        h.backend = b;
        h.inst = inst;
        Supervisor sup = supervisors.get(b.name());
        Reconcile.Situation sit = new Reconcile.Situation(h.mode, newEpoch, specChanged,
                System.currentTimeMillis() >= h.retryAtMs, r.getDesired(), r.getObserved(),
                Lifecycle.isJob(r.getSpec().getLifecycle()));
        Reconcile.Step step = Reconcile.decide(sit);
        if (step instanceof Reconcile.Step.RestartForNewSpec) {
            LOG.info("VM {}: its spec changed; restarting it with the new one", name);
            sup.release(name);
            stop(b, old);
            h.mode = Mode.STOPPED;
            sit = sit.withMode(Mode.STOPPED);
            step = Reconcile.decide(sit);
        }
        if (step instanceof Reconcile.Step.ReadStatus) {
            try {
                step = Reconcile.withStatus(sit, b.status(inst));
            } catch (BackendException e) {
                LOG.warn("VM {}: cannot read its status: {}", name, e.getMessage());
                return;
            }
        }
        if (step instanceof Reconcile.Step.Stop s) {
            if (s.release()) {
                // Stopping may take a while (a guest's shutdown, a process's grace period): say so first.
                if (s.report()) report(h, ObservedState.STOPPING, "stopping on " + selfId, 0);
                sup.release(name);
                stop(b, old != null ? old : inst);
            }
            h.mode = Mode.STOPPED;
            if (s.report()) report(h, ObservedState.STOPPED, "stopped as asked", 0);
        } else if (step instanceof Reconcile.Step.Keep) {
            driftCheck(h, r);
        } else if (step instanceof Reconcile.Step.StayFinished) {
            h.mode = Mode.FINISHED;
        } else if (step instanceof Reconcile.Step.Adopt a) {
            LOG.info("VM {} (epoch {}) is running here: adopting it", name, r.getEpoch());
            ledger.add(b.name(), name);
            sup.adopt(inst);
            h.mode = Mode.SUPERVISED;
            if (a.report()) report(h, ObservedState.RUNNING, "running (adopted)", 0);
        } else if (step instanceof Reconcile.Step.ReportEnded) {
            h.mode = Mode.FINISHED;
            try {
                VmStatus st = b.status(inst);
                report(h, st.state(), st.reason(), st.exitCode());
            } catch (BackendException e) {
                LOG.warn("VM {}: cannot read its status: {}", name, e.getMessage());
            }
        } else if (step instanceof Reconcile.Step.Start st) {
            start(h, b, sup, inst, r, st.reportStarting());
        }
    }

    private void start(Hosted h, Backend b, Supervisor sup, VmInstance inst, VmRecord r, boolean reportStarting) {
        ledger.add(b.name(), inst.name());
        try {
            b.create(inst);
        } catch (BackendException e) {
            h.mode = Mode.BROKEN;
            h.retryAtMs = System.currentTimeMillis() + RETRY_BROKEN_MS;
            report(h, ObservedState.FAILED, e.getMessage() + " (retrying in " + RETRY_BROKEN_MS / 1000 + " s)", 0);
            return;
        }
        LOG.info("starting VM {} (job {}, epoch {}) with the {} backend", inst.name(), r.getId(), r.getEpoch(), b.name());
        h.mode = Mode.SUPERVISED;
        h.lastEnded = null;
        if (reportStarting) report(h, ObservedState.STARTING, "starting on " + selfId, 0);
        sup.supervise(inst);
    }

    /**
     * Events keep the record current; this catches what they cannot: a report lost while there was no
     * quorum (its mark is cleared), a VM adopted after a restart, a job id that changed by a warm claim.
     */
    private void driftCheck(Hosted h, VmRecord r) {
        Sent s = h.lastSent;
        // A VM last reported starting (a booting microVM) is asked again until it runs.
        if (s != null && s.jobId().equals(r.getId()) && s.epoch() == r.getEpoch() && s.observed() != ObservedState.STARTING) return;
        if (h.backend == null || (h.mode != Mode.SUPERVISED && h.mode != Mode.FINISHED)) return;
        VmStatus st;
        try {
            st = h.backend.status(h.inst);
        } catch (BackendException e) {
            return; // asked again on the next pass
        }
        if (h.mode == Mode.SUPERVISED && st.state() == ObservedState.RUNNING && r.getObserved() != ObservedState.RUNNING) {
            report(h, ObservedState.RUNNING, st.reason(), 0);
        } else if (h.mode == Mode.FINISHED && st.exists() && st.state() != r.getObserved()
                && (st.state() == ObservedState.EXITED || st.state() == ObservedState.FAILED)) {
            report(h, st.state(), st.reason(), st.exitCode());
        }
    }

    private void stop(Backend b, VmInstance inst) {
        try {
            b.stop(inst);
        } catch (BackendException e) {
            LOG.warn("VM {}: stop failed: {}", inst.name(), e.getMessage());
        }
    }

    private void remove(String name) {
        Hosted h = hosted.remove(name);
        if (h == null || h.backend == null) return;
        LOG.info("removing VM {} (was job {}, epoch {}): deleted, or assigned elsewhere", name, h.jobId, h.epoch);
        supervisors.get(h.backend.name()).release(name);
        try {
            h.backend.delete(h.inst);
            ledger.remove(h.backend.name(), name);
        } catch (BackendException e) {
            LOG.warn("VM {}: delete failed: {}", name, e.getMessage());
        }
    }

    private void onEvent(Backend b, Supervisor.Event e) {
        Hosted h = hosted.get(e.name());
        if (h == null || h.mode != Mode.SUPERVISED || h.backend != b) return;
        if (e instanceof Supervisor.Event.Started started) {
            if (started.status().isEmpty()) return;
            VmStatus s = started.status().get();
            if (s.state() == ObservedState.RUNNING || s.state() == ObservedState.STARTING) {
                report(h, s.state(), s.reason(), 0);
            }
        } else if (e instanceof Supervisor.Event.Running run) {
            report(h, ObservedState.RUNNING, run.status().reason(), 0);
        } else if (e instanceof Supervisor.Event.Ended ended) {
            h.lastEnded = ended.status();
        } else if (e instanceof Supervisor.Event.RestartScheduled rs) {
            VmStatus s = h.lastEnded == null ? VmStatus.of(ObservedState.FAILED, "ended") : h.lastEnded;
            ObservedState state = s.state() == ObservedState.EXITED ? ObservedState.EXITED : ObservedState.FAILED;
            report(h, state, s.reason() + "; restarting in " + rs.delayMs() + " ms (crash " + rs.crashesInARow()
                    + " in a row)", s.exitCode());
        } else if (e instanceof Supervisor.Event.Finished f) {
            h.mode = Mode.FINISHED;
            VmStatus s = f.status();
            ObservedState state = s.state() == ObservedState.EXITED || s.state() == ObservedState.STOPPED
                    ? ObservedState.EXITED : ObservedState.FAILED;
            LOG.info("job {} finished: {}", h.jobId, s.reason());
            report(h, state, s.reason(), s.exitCode());
        }
    }

    /** Sends ReportStatus once per change of (job, epoch, state, exit code), in order, off the agent thread. */
    private void report(Hosted h, ObservedState state, String reason, int exitCode) {
        Sent sent = new Sent(h.jobId, h.epoch, state, exitCode);
        if (sent.equals(h.lastSent)) return;
        h.lastSent = sent;
        Command c = raft.command()
                .setReportStatus(ReportStatus.newBuilder().setJobId(sent.jobId()).setEpoch(sent.epoch())
                        .setObserved(state).setReason(reason.length() > 2000 ? reason.substring(0, 2000) : reason)
                        .setExitCode(exitCode))
                .build();
        reporter.execute(() -> {
            try {
                CommandResult r = raft.submit(c).get(REPORT_TIMEOUT_MS, TimeUnit.MILLISECONDS);
                if (r.hasRejection()) {
                    LOG.info("report {} {} for {} refused: {}", state, reason, sent.jobId(), r.getRejection().getMessage());
                }
            } catch (Exception ex) {
                LOG.warn("report {} for {} not committed ({}); it is sent again when the record still disagrees",
                        state, sent.jobId(), ex.toString());
                thread.execute(() -> {
                    if (sent.equals(h.lastSent)) h.lastSent = null;
                });
            }
        });
    }

    @Override
    public void close() {
        // VMs keep running when the agent stops: a restarted agent adopts them, as systemd units would outlive it.
        thread.shutdownNow();
        reporter.shutdownNow();
        supervisors.values().forEach(Supervisor::close);
        if (ports != null) ports.close();
        backends.values().forEach(Backend::close);
    }
}
