package dev.flotilla.node.control;

import dev.flotilla.proto.DesiredState;
import dev.flotilla.proto.NodeRecord;
import dev.flotilla.proto.NodeState;
import dev.flotilla.proto.ObservedState;
import dev.flotilla.proto.VmRecord;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Which VMs must leave their node because it is down, drained or gone: services and daemons move
 * (the controller places them again and commits a new Assign, whose epoch fences the old node);
 * jobs stay, because running a job twice is worse than reporting that its node failed.
 */
public final class Rescheduling {

    private Rescheduling() {}

    /** A service or daemon VM to place again, off the node it is on. */
    public record Move(String jobId, String fromNode, String reason) {}

    /** A job whose node is down or gone: not moved; the controller may report it failed with this reason. */
    public record Stranded(String jobId, String node, String reason) {}

    /** The moves and stranded jobs, each in job id order. */
    public record Plan(List<Move> moves, List<Stranded> stranded) {}

    /** Looks at every assigned VM that is meant to run and says which must move and which jobs are stranded. */
    public static Plan plan(List<VmRecord> vms, List<NodeRecord> nodes) {
        Map<String, NodeRecord> byId = new TreeMap<>();
        for (NodeRecord n : nodes) {
            byId.put(n.getId(), n);
        }
        List<VmRecord> sorted = new ArrayList<>(vms);
        sorted.sort(Comparator.comparing(VmRecord::getId));
        List<Move> moves = new ArrayList<>();
        List<Stranded> stranded = new ArrayList<>();
        for (VmRecord vm : sorted) {
            if (vm.getNode().isEmpty() || vm.getDesired() == DesiredState.DESIRED_STOPPED) {
                continue;
            }
            NodeRecord node = byId.get(vm.getNode());
            String why = whyLeave(vm.getNode(), node);
            if (why == null) {
                continue;
            }
            if (Lifecycle.isJob(vm.getSpec().getLifecycle())) {
                // A job on a drained node finishes where it is; only a dead node strands it.
                // A job that already ended is history, not stranded.
                boolean ended = vm.getObserved() == ObservedState.EXITED || vm.getObserved() == ObservedState.FAILED;
                if (!ended && (node == null || node.getState() == NodeState.NODE_DOWN)) {
                    stranded.add(new Stranded(vm.getId(), vm.getNode(), why));
                }
                continue;
            }
            moves.add(new Move(vm.getId(), vm.getNode(), why));
        }
        return new Plan(List.copyOf(moves), List.copyOf(stranded));
    }

    private static String whyLeave(String nodeId, NodeRecord node) {
        if (node == null) {
            return "node " + nodeId + " is no longer registered";
        }
        if (node.getState() == NodeState.NODE_DOWN) {
            return "node " + nodeId + " is down";
        }
        if (node.getDrained()) {
            return "node " + nodeId + " is drained";
        }
        return null;
    }
}
