package dev.flotilla.node.agent;

import dev.flotilla.node.raft.RaftNode;
import dev.flotilla.proto.Command;
import dev.flotilla.proto.CommandResult;
import dev.flotilla.proto.ListNodes;
import dev.flotilla.proto.NodeRecord;
import dev.flotilla.proto.Query;
import dev.flotilla.proto.RegisterNode;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Puts this node in the log at start: RegisterNode (which also marks it up again after it was declared
 * down), retried until a leader commits it, then waits until the local registry has applied it. That
 * wait is the agent's barrier: everything committed before this start (a move of this node's VMs
 * included) is then visible locally, so the agent never acts on a state older than its own return.
 */
public final class Registration {
    private static final Logger LOG = LoggerFactory.getLogger("agent");
    private static final long RETRY_MS = 500;

    private final RaftNode raft;
    private final NodeRecord node;
    private final LongSupplier appliedIndex;

    public Registration(RaftNode raft, NodeRecord node, LongSupplier appliedIndex) {
        this.raft = raft;
        this.node = node;
        this.appliedIndex = appliedIndex;
    }

    /** Blocks until registered and applied here; returns the log index of the registration. */
    public long register() throws InterruptedException {
        String requestId = "register-" + node.getId() + "-" + UUID.randomUUID();
        int attempts = 0;
        while (true) {
            attempts++;
            if (raft.view().leader().isPresent()) {
                try {
                    // RegisterNode replaces the record: keep an operator's drain across this node's restart.
                    boolean drained = raft.query(Query.newBuilder().setListNodes(ListNodes.getDefaultInstance()).build())
                            .get(30, TimeUnit.SECONDS).getNodesList().stream()
                            .anyMatch(n -> n.getId().equals(node.getId()) && n.getDrained());
                    Command c = raft.command(requestId)
                            .setRegisterNode(RegisterNode.newBuilder().setNode(node.toBuilder().setDrained(drained))).build();
                    CommandResult r = raft.submit(c).get(30, TimeUnit.SECONDS);
                    if (r.hasRejection()) {
                        throw new IllegalStateException("the cluster refused to register node " + node.getId() + ": "
                                + r.getRejection().getMessage());
                    }
                    awaitApplied(r.getIndex());
                    LOG.info("node {} registered at log index {} (capacity {} vcpu, {} MB; backends {})", node.getId(),
                            r.getIndex(), node.getCapacity().getVcpu(), node.getCapacity().getMemMb(), node.getBackendsList());
                    return r.getIndex();
                } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
                    if (attempts % 10 == 1) LOG.info("registration of {} not committed yet ({}); retrying", node.getId(), e.toString());
                }
            }
            Thread.sleep(RETRY_MS); // retry pacing while no leader is known, not synchronisation
        }
    }

    private void awaitApplied(long index) throws InterruptedException {
        while (appliedIndex.getAsLong() < index) {
            Thread.sleep(20); // the apply thread is about to reach it; polled, bounded by the log's progress
        }
    }
}
