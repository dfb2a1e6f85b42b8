package dev.flotilla.node.control;

import dev.flotilla.node.raft.RaftNode;
import dev.flotilla.proto.Assign;
import dev.flotilla.proto.Command;
import dev.flotilla.proto.CommandResult;
import dev.flotilla.proto.DeleteVm;
import dev.flotilla.proto.ListNodes;
import dev.flotilla.proto.ListVms;
import dev.flotilla.proto.Query;
import dev.flotilla.proto.QueryResult;
import dev.flotilla.proto.ReportStatus;
import dev.flotilla.proto.SetNodeState;
import dev.flotilla.proto.UpsertVm;
import java.security.SecureRandom;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.ratis.proto.RaftProtos;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The leader's controller: while this node leads, a low-rate loop (and a nudge on each relevant applied
 * command) reads the local applied registry, plans with {@link ControlPlan} and commits the plan (node
 * verdicts first, then the assignments and reports together). It keeps no state of its own between passes, so a new leader simply starts over.
 */
public final class Controller implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger("control");
    private static final long COMMIT_TIMEOUT_MS = 10_000;
    /** Commands one pass keeps in flight at once; well under Ratis's pending-request limit. */
    private static final int MAX_IN_FLIGHT = 256;
    /** The longest a leader goes without reading every VM, when no change nudged it. */
    private static final long FULL_PASS_EVERY_MS = 5_000;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final RaftNode raft;
    private final String selfId;
    private final long downAfterMs;
    private final long intervalMs;
    private final Semaphore wake = new Semaphore(0);
    private final AtomicBoolean leading = new AtomicBoolean(false);
    private volatile boolean closed;
    private volatile boolean warmUnsupported;
    private volatile long leadingSinceNanos;
    private final Thread loop;

    public Controller(RaftNode raft, String selfId, long downAfterMs, long intervalMs) {
        this.raft = raft;
        this.selfId = selfId;
        this.downAfterMs = downAfterMs;
        this.intervalMs = intervalMs;
        this.loop = new Thread(this::run, "controller");
        this.loop.setDaemon(true);
        this.loop.start();
    }

    /** This node leads and has applied its first entry of the term: start controlling. */
    public void leading() {
        if (!leading.getAndSet(true)) {
            leadingSinceNanos = System.nanoTime();
            LOG.info("controller started: this node leads");
        }
        nudge();
    }

    /** Leadership is lost (or moved): stop at the next command boundary. */
    public void notLeading() {
        if (leading.getAndSet(false)) LOG.info("controller stopped: this node no longer leads");
    }

    /** Something relevant was applied: plan again soon rather than at the next tick. */
    public void nudge() {
        if (wake.availablePermits() == 0) wake.release();
    }

    private void run() {
        long lastFullPass = 0;
        while (!closed) {
            try {
                boolean nudged = wake.tryAcquire(intervalMs, TimeUnit.MILLISECONDS);
                wake.drainPermits();
                if (!leading.get() || !raft.view().isLeader()) continue;
                boolean due = System.nanoTime() - lastFullPass >= TimeUnit.MILLISECONDS.toNanos(FULL_PASS_EVERY_MS);
                if (pass(nudged || due)) lastFullPass = System.nanoTime();
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                // One bad pass must not end control; the next starts from the applied state again.
                LOG.warn("controller pass failed: {}", e.toString());
            }
        }
    }

    /**
     * Plans and commits one round. Reading every VM costs time in proportion to the fleet, so a round
     * that was not nudged and finds no node to mark up or down stops after the liveness check; such
     * rounds still read every VM each FULL_PASS_EVERY_MS, in case a change came without a nudge.
     * Answers whether it read the VMs.
     */
    private boolean pass(boolean full) throws InterruptedException {
        QueryResult nodes = local(Query.newBuilder().setListNodes(ListNodes.getDefaultInstance()).build());
        if (nodes == null) return false;
        List<Liveness.Verdict> verdicts = Liveness.judge(nodes.getNodesList(), followerSilence(), selfId, downAfterMs);
        if (!full && verdicts.isEmpty()) return false;
        // Only the VMs a plan can touch: in a registry of many stopped VMs the rest would cost the most.
        QueryResult vms = local(Query.newBuilder().setListVms(ListVms.newBuilder().setControlled(true)).build());
        if (vms == null) return false;
        act(nodes, vms, verdicts);
        return true;
    }

    private void act(QueryResult nodes, QueryResult vms, List<Liveness.Verdict> verdicts) throws InterruptedException {
        List<ControlPlan.Action> plan = ControlPlan.plan(nodes.getNodesList(), vms.getVmsList(), verdicts, selfId);
        Deque<InFlight> inFlight = new ArrayDeque<>();
        try {
            for (ControlPlan.Action a : plan) {
                if (!leading.get() || closed) return;
                if (a instanceof ControlPlan.Action.CreateWarm w) {
                    if (!createWarm(raft.command(), w)) return;
                } else if (a instanceof ControlPlan.Action.MarkNode) {
                    // A node's verdict goes in before the moves it causes.
                    if (send(command(a), a) == null) return;
                } else {
                    // Assigns and reports of different VMs do not depend on one another: committed together,
                    // a pass that places a thousand VMs takes a few round trips, not a thousand.
                    if (inFlight.size() >= MAX_IN_FLIGHT && !settle(inFlight.removeFirst())) return;
                    inFlight.add(new InFlight(a, raft.submit(command(a))));
                }
            }
        } finally {
            // The rest waits for the next pass, planned from fresh state; what is in flight is seen through.
            while (!inFlight.isEmpty()) settle(inFlight.removeFirst());
        }
    }

    /** A command the pass has submitted and not yet seen committed. */
    private record InFlight(ControlPlan.Action action, CompletableFuture<CommandResult> result) {}

    private boolean settle(InFlight f) throws InterruptedException {
        return outcome(f.result(), f.action()) != null;
    }

    private QueryResult local(Query q) throws InterruptedException {
        try {
            return raft.queryLocalStale(q).get(COMMIT_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            LOG.warn("controller cannot read the local registry: {}", e.toString());
            return null;
        }
    }

    /**
     * How long each follower has been silent, from the leader's own Raft bookkeeping, but never longer
     * than this node has led: Ratis starts a new leader's clocks in the past (by the election timeout),
     * and a node must not be declared down before its new leader has itself watched it for the timeout.
     */
    private Map<String, Long> followerSilence() {
        Map<String, Long> out = new HashMap<>();
        long led = (System.nanoTime() - leadingSinceNanos) / 1_000_000;
        try {
            RaftProtos.RoleInfoProto role = raft.division().getInfo().getRoleInfoProto();
            if (!role.hasLeaderInfo()) return out;
            for (RaftProtos.ServerRpcProto f : role.getLeaderInfo().getFollowerInfoList()) {
                out.put(f.getId().getId().toStringUtf8(), Math.min(f.getLastRpcElapsedTimeMs(), led));
            }
        } catch (java.io.IOException e) {
            LOG.warn("controller cannot read follower info: {}", e.toString());
        }
        return out;
    }

    /** The command that carries out {@code a} (not CreateWarm, which picks its own id). */
    private Command command(ControlPlan.Action a) {
        Command.Builder c = raft.command();
        if (a instanceof ControlPlan.Action.MarkNode m) {
            LOG.info("node {} is {}: {}", m.nodeId(), m.state() == dev.flotilla.proto.NodeState.NODE_DOWN ? "down" : "up", m.reason());
            c.setSetNodeState(SetNodeState.newBuilder().setNodeId(m.nodeId()).setState(m.state()));
        } else if (a instanceof ControlPlan.Action.Place p) {
            LOG.info("assign {} to {} ({})", p.jobId(), p.nodeId(), p.reason());
            c.setAssign(Assign.newBuilder().setJobId(p.jobId()).setNodeId(p.nodeId()));
        } else if (a instanceof ControlPlan.Action.Report r) {
            c.setReportStatus(ReportStatus.newBuilder().setJobId(r.jobId()).setEpoch(r.epoch())
                    .setObserved(r.observed()).setReason(r.reason()));
        } else if (a instanceof ControlPlan.Action.RetireWarm r) {
            LOG.info("retire warm VM {}: {}", r.jobId(), r.reason());
            c.setDeleteVm(DeleteVm.newBuilder().setJobId(r.jobId()));
        }
        return c.build();
    }

    private boolean createWarm(Command.Builder c, ControlPlan.Action.CreateWarm w) throws InterruptedException {
        if (warmUnsupported) return true;
        String id = "warm-" + w.specHash().substring(0, Math.min(12, w.specHash().length())) + "-"
                + HexFormat.of().formatHex(randomBytes(4));
        UpsertVm.Builder u = UpsertVm.newBuilder().setJobId(id).setTenant("warm-pool").setCreateOnly(true)
                .setWarm(true)
                .setSpec(w.spec().toBuilder().clearWarmPool().clearDnsName().clearAliases().clearPorts());
        CommandResult r = send(c.setUpsertVm(u).build(), w);
        if (r == null) return false;
        if (r.hasVm() && !r.getVm().getWarm()) {
            // A leader newer than the rules it runs with (mid rolling upgrade): without this stop it would
            // create an ordinary VM on every pass.
            warmUnsupported = true;
            LOG.error("warm pools are off: the applied rules ignore UpsertVm.warm, so VM {} came back as an ordinary VM"
                    + " and is deleted again; update every node to a version that knows warm VMs", id);
            send(raft.command().setDeleteVm(DeleteVm.newBuilder().setJobId(id)).build(), w);
            return true;
        }
        LOG.info("warm VM {} created for spec hash {}", id, w.specHash());
        return true;
    }

    /** Commits one command; a rejection is logged and counts as done (the next pass re-plans). */
    private CommandResult send(Command command, ControlPlan.Action a) throws InterruptedException {
        return outcome(raft.submit(command), a);
    }

    private CommandResult outcome(CompletableFuture<CommandResult> pending, ControlPlan.Action a) throws InterruptedException {
        try {
            CommandResult r = pending.get(COMMIT_TIMEOUT_MS, TimeUnit.MILLISECONDS);
            if (r.hasRejection()) {
                LOG.info("controller action {} refused: {} {}", a, r.getRejection().getCode(), r.getRejection().getMessage());
            }
            return r;
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            LOG.warn("controller could not commit {}: {}; retrying on the next pass", a, e.toString());
            return null;
        }
    }

    private static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }

    /** Whether warm VMs can be created with the rules this cluster runs. */
    public boolean warmSupported() {
        return !warmUnsupported;
    }

    @Override
    public void close() {
        closed = true;
        leading.set(false);
        loop.interrupt();
    }
}
