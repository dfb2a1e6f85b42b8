package dev.flotilla.node.control;

import dev.flotilla.proto.Label;
import dev.flotilla.proto.NodeRecord;
import dev.flotilla.proto.NodeState;
import dev.flotilla.proto.VmRecord;
import dev.flotilla.proto.VmSpec;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * Where the leader runs a VM: a pure function of the VM, the registered nodes and the current
 * assignments, so every leader decides alike and the rule is tested without a cluster.
 */
public final class Placement {

    /**
     * The most of its capacity the leader may have in use, this VM included, and still take a lua VM
     * while a follower could: the leader also commits every log entry and runs the controller.
     */
    static final double LEADER_ROOM = 0.5;

    /** A lua VM counts this many times on the leader when spreading, so it takes a smaller share. */
    static final int LEADER_WEIGHT = 2;

    private Placement() {}

    /** {@link #place(VmRecord, List, List, String)} with no leader known: every node is alike. */
    public static Decision place(VmRecord vm, List<NodeRecord> nodes, List<VmRecord> currentAssignments) {
        return place(vm, nodes, Loads.of(currentAssignments), "");
    }

    /**
     * Picks a node for {@code vm}. A node qualifies when it is up and not drained, offers the spec's
     * runtime, meets the spec's constraints and has room (unless the spec allows oversubscription).
     * Among those: fewest VMs of the same tenant first (spread), then the least loaded, then node id.
     *
     * <p>Lua VMs prefer followers: their tick loops and packets compete with the leader's log work. The
     * leader takes one only when it has room (at most {@link #LEADER_ROOM} of its capacity in use with
     * it) or no follower can; and while spreading, each lua VM on the leader counts
     * {@link #LEADER_WEIGHT} times, so the leader takes about half a follower's share.
     *
     * @param leaderId the node that leads now ("" when unknown)
     */
    public static Decision place(VmRecord vm, List<NodeRecord> nodes, List<VmRecord> currentAssignments, String leaderId) {
        return place(vm, nodes, Loads.of(currentAssignments), leaderId);
    }

    /** {@link #place(VmRecord, List, List, String)} with the assignments already tallied, for a pass placing many. */
    static Decision place(VmRecord vm, List<NodeRecord> nodes, Loads loads, String leaderId) {
        VmSpec spec = vm.getSpec();
        List<Candidate> fit = new ArrayList<>();
        List<String> rejected = new ArrayList<>();
        List<NodeRecord> byId = new ArrayList<>(nodes);
        byId.sort(Comparator.comparing(NodeRecord::getId));
        for (NodeRecord node : byId) {
            NodeLoad load = loads.on(node.getId(), vm);
            Optional<String> why = rejection(spec, node, load);
            if (why.isPresent()) {
                rejected.add(node.getId() + ": " + why.get());
            } else {
                fit.add(new Candidate(node, load));
            }
        }
        if (fit.isEmpty()) {
            return new Decision.Unplaceable(unplaceableReason(vm, rejected));
        }
        if ("lua".equals(spec.getRuntime())) {
            return new Decision.Place(luaChoice(vm, fit, loads, leaderId).node().getId());
        }
        fit.sort(Comparator.comparingLong((Candidate c) -> c.load().vmsOfTenant())
                .thenComparingDouble(c -> c.usageAfter(spec))
                .thenComparing(c -> c.node().getId()));
        return new Decision.Place(fit.get(0).node().getId());
    }

    private static Candidate luaChoice(VmRecord vm, List<Candidate> fit, Loads loads, String leaderId) {
        VmSpec spec = vm.getSpec();
        List<Candidate> pool = new ArrayList<>(fit);
        boolean followerFits = pool.stream().anyMatch(c -> !c.node().getId().equals(leaderId));
        if (followerFits) {
            pool.removeIf(c -> c.node().getId().equals(leaderId) && c.usageAfter(spec) > LEADER_ROOM);
        }
        pool.sort(Comparator.comparingLong((Candidate c) -> (loads.luaOn(c.node().getId(), vm) + 1)
                        * (c.node().getId().equals(leaderId) ? LEADER_WEIGHT : 1))
                .thenComparingDouble(c -> c.usageAfter(spec))
                .thenComparing(c -> c.node().getId()));
        return pool.get(0);
    }

    /** Why {@code node} cannot take a VM of {@code spec}, or empty when it can. */
    static Optional<String> rejection(VmSpec spec, NodeRecord node, NodeLoad load) {
        if (node.getState() != NodeState.NODE_UP) {
            return Optional.of("node is " + (node.getState() == NodeState.NODE_DOWN ? "down" : "not up"));
        }
        if (node.getDrained()) {
            return Optional.of("node is drained (flotilla node undrain " + node.getId() + " to use it again)");
        }
        if (!node.getBackendsList().contains(spec.getRuntime())) {
            return Optional.of("offers backends " + node.getBackendsList() + ", not '" + spec.getRuntime() + "'");
        }
        String wantNode = spec.getConstraints().getNode();
        if (!wantNode.isEmpty() && !wantNode.equals(node.getId())) {
            return Optional.of("spec.constraints.node asks for '" + wantNode + "'");
        }
        for (Label want : spec.getConstraints().getLabelsList()) {
            boolean carries = node.getLabelsList().stream()
                    .anyMatch(l -> l.getKey().equals(want.getKey()) && l.getValue().equals(want.getValue()));
            if (!carries) {
                return Optional.of("lacks label " + want.getKey() + "=" + want.getValue());
            }
        }
        if (!spec.getAllowOversubscribe() && NodeLoad.reservesCapacity(spec)) {
            long vcpu = spec.getResources().getVcpu();
            long mem = spec.getResources().getMemMb();
            long freeVcpu = node.getCapacity().getVcpu() - load.vcpu();
            long freeMem = node.getCapacity().getMemMb() - load.memMb();
            if (vcpu > freeVcpu) {
                return Optional.of("needs " + vcpu + " vcpu, " + Math.max(0, freeVcpu) + " of "
                        + node.getCapacity().getVcpu() + " free");
            }
            if (mem > freeMem) {
                return Optional.of("needs " + mem + " MB memory, " + Math.max(0, freeMem) + " of "
                        + node.getCapacity().getMemMb() + " MB free");
            }
        }
        return Optional.empty();
    }

    private static String unplaceableReason(VmRecord vm, List<String> rejected) {
        if (rejected.isEmpty()) {
            return "no node is registered; start a node and let it register before creating VMs";
        }
        return "no node can run VM '" + vm.getId() + "' (runtime " + vm.getSpec().getRuntime() + ", "
                + vm.getSpec().getResources().getVcpu() + " vcpu, " + vm.getSpec().getResources().getMemMb()
                + " MB): " + String.join("; ", rejected)
                + ". Add capacity, undrain or restart a node, relax spec.constraints, or set spec.allow_oversubscribe";
    }

    /** A node that passed every filter, with what it already carries. */
    private record Candidate(NodeRecord node, NodeLoad load) {
        /**
         * The node's busier dimension once this VM is on it, as a fraction of capacity. Doubles are
         * exact enough here and the same on every JVM, so the order is deterministic.
         */
        double usageAfter(VmSpec spec) {
            double cpu = fraction(load.vcpu() + spec.getResources().getVcpu(), node.getCapacity().getVcpu());
            double mem = fraction(load.memMb() + spec.getResources().getMemMb(), node.getCapacity().getMemMb());
            return Math.max(cpu, mem);
        }

        private static double fraction(long used, long capacity) {
            if (capacity <= 0) {
                return used <= 0 ? 0 : Double.MAX_VALUE;
            }
            return (double) used / capacity;
        }
    }
}
