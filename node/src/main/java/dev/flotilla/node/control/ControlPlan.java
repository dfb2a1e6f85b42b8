package dev.flotilla.node.control;

import dev.flotilla.proto.DesiredState;
import dev.flotilla.proto.NodeRecord;
import dev.flotilla.proto.NodeState;
import dev.flotilla.proto.ObservedState;
import dev.flotilla.proto.VmRecord;
import dev.flotilla.proto.VmSpec;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One pass of the leader's controller as a pure function: from the registered nodes, the VMs and the
 * liveness verdicts to the commands that bring observed state towards desired state. The shell
 * ({@link Controller}) commits them in order; the next pass starts again from the applied state, so a
 * command that failed is simply planned again.
 */
public final class ControlPlan {

    /** Prefix of the reason a VM gets while no node can take it; reported once per distinct reason. */
    public static final String NOT_PLACED = "not placed: ";

    private ControlPlan() {}

    /** One command to commit. */
    public sealed interface Action {
        /** SetNodeState: the node is down or up again. */
        record MarkNode(String nodeId, NodeState state, String reason) implements Action {}

        /** Assign the VM to a node; the entry's index becomes its new epoch. */
        record Place(String jobId, String nodeId, String reason) implements Action {}

        /** ReportStatus at the VM's current epoch: a job stranded on a dead node, or why a VM waits unplaced. */
        record Report(String jobId, long epoch, ObservedState observed, String reason) implements Action {}

        /** Create one more warm VM of this spec. */
        record CreateWarm(String specHash, VmSpec spec) implements Action {}

        /** Delete an unclaimed warm VM. */
        record RetireWarm(String jobId, String reason) implements Action {}
    }

    /** Plans one pass; liveness verdicts first, then moves off bad nodes, new placements, warm pools. */
    public static List<Action> plan(List<NodeRecord> nodes, List<VmRecord> vms, List<Liveness.Verdict> verdicts) {
        return plan(nodes, vms, verdicts, "");
    }

    /** The same, with the planning node (the leader) named, so placement keeps lua VMs on followers first. */
    public static List<Action> plan(List<NodeRecord> nodes, List<VmRecord> vms, List<Liveness.Verdict> verdicts, String leaderId) {
        List<Action> out = new ArrayList<>();
        Map<String, NodeRecord> nodeById = new LinkedHashMap<>();
        nodes.stream().sorted(Comparator.comparing(NodeRecord::getId)).forEach(n -> nodeById.put(n.getId(), n));
        for (Liveness.Verdict v : verdicts) {
            NodeRecord n = nodeById.get(v.nodeId());
            if (n == null) continue;
            out.add(new Action.MarkNode(v.nodeId(), v.state(), v.reason()));
            nodeById.put(v.nodeId(), n.toBuilder().setState(v.state()).build());
        }
        List<NodeRecord> effectiveNodes = List.copyOf(nodeById.values());

        // The working copy of the VMs: each decision below is visible to the next, so one pass never
        // puts more on a node than it holds.
        Map<String, VmRecord> work = new LinkedHashMap<>();
        vms.stream().sorted(Comparator.comparing(VmRecord::getId)).forEach(v -> work.put(v.getId(), v));
        Loads loads = Loads.of(vms);

        Rescheduling.Plan moves = Rescheduling.plan(List.copyOf(work.values()), effectiveNodes);
        for (Rescheduling.Move m : moves.moves()) {
            VmRecord vm = work.get(m.jobId());
            Decision d = Placement.place(vm, effectiveNodes, loads, leaderId);
            if (d instanceof Decision.Place p) {
                out.add(new Action.Place(vm.getId(), p.nodeId(), m.reason()));
                work.put(vm.getId(), placed(vm, p.nodeId(), loads));
            }
            // No room elsewhere: it stays where it is, and is tried again on the next pass.
        }
        for (Rescheduling.Stranded s : moves.stranded()) {
            VmRecord vm = work.get(s.jobId());
            if (vm.getObserved() != ObservedState.FAILED) {
                out.add(new Action.Report(vm.getId(), vm.getEpoch(), ObservedState.FAILED,
                        "job stranded: " + s.reason() + "; jobs are not run twice, create it again to rerun it"));
            }
        }
        for (VmRecord vm : List.copyOf(work.values())) {
            if (!vm.getNode().isEmpty() || vm.getDesired() != DesiredState.DESIRED_RUNNING) continue;
            Decision d = Placement.place(vm, effectiveNodes, loads, leaderId);
            if (d instanceof Decision.Place p) {
                out.add(new Action.Place(vm.getId(), p.nodeId(), "unplaced"));
                work.put(vm.getId(), placed(vm, p.nodeId(), loads));
            } else if (d instanceof Decision.Unplaceable u) {
                String reason = NOT_PLACED + u.reason();
                // Once per distinct reason: the loop runs often, the log must not fill with the same words.
                if (!vm.getObservedReason().equals(reason)) {
                    out.add(new Action.Report(vm.getId(), vm.getEpoch(), ObservedState.PENDING, reason));
                }
            }
        }
        for (WarmPoolPlan.Action a : WarmPoolPlan.plan(List.copyOf(work.values()))) {
            if (a instanceof WarmPoolPlan.Action.CreateWarm c) {
                out.add(new Action.CreateWarm(c.specHash(), c.spec()));
            } else if (a instanceof WarmPoolPlan.Action.RetireWarm r) {
                out.add(new Action.RetireWarm(r.vmId(), r.reason()));
            }
        }
        return List.copyOf(out);
    }

    /** The VM as it will be once placed on {@code nodeId}, with the pass's tally moved along. */
    private static VmRecord placed(VmRecord vm, String nodeId, Loads loads) {
        VmRecord moved = vm.toBuilder().setNode(nodeId).setObserved(ObservedState.PENDING).build();
        loads.remove(vm);
        loads.add(moved);
        return moved;
    }
}
