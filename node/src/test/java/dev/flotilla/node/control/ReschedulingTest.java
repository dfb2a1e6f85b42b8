package dev.flotilla.node.control;

import dev.flotilla.proto.DesiredState;
import dev.flotilla.proto.NodeRecord;
import dev.flotilla.proto.NodeState;
import dev.flotilla.proto.ObservedState;
import dev.flotilla.proto.VmRecord;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.flotilla.node.control.Fixtures.*;
import static org.junit.jupiter.api.Assertions.*;

class ReschedulingTest {

    private static final NodeRecord UP = node("n1", 8, 8192);
    private static final NodeRecord DOWN = node("n2", 8, 8192).toBuilder().setState(NodeState.NODE_DOWN).build();
    private static final NodeRecord DRAINED = node("n3", 8, 8192).toBuilder().setDrained(true).build();
    private static final List<NodeRecord> NODES = List.of(UP, DOWN, DRAINED);

    private static VmRecord svc(String id, String lifecycle, String node) {
        return on(vm(id, "t", spec(1, 256).toBuilder().setLifecycle(lifecycle).build()), node);
    }

    @Test
    void servicesAndDaemonsMoveOffDownAndDrainedNodes() {
        List<VmRecord> vms = List.of(svc("b", "service", "n2"), svc("a", "daemon", "n3"),
                svc("c", "service", "n1"), svc("d", "", "n2"));
        Rescheduling.Plan plan = Rescheduling.plan(vms, NODES);
        assertEquals(List.of(
                new Rescheduling.Move("a", "n3", "node n3 is drained"),
                new Rescheduling.Move("b", "n2", "node n2 is down"),
                new Rescheduling.Move("d", "n2", "node n2 is down")), plan.moves());
        assertEquals(List.of(), plan.stranded());
    }

    @Test
    void jobsAreNeverMoved() {
        List<VmRecord> vms = List.of(svc("j1", "job", "n2"), svc("j2", "job", "n3"),
                svc("j3", "job", "n2").toBuilder().setObserved(ObservedState.EXITED).build());
        Rescheduling.Plan plan = Rescheduling.plan(vms, NODES);
        assertEquals(List.of(), plan.moves());
        // The running job on the dead node is reported stranded; the one on the drained node
        // finishes where it is; the one that already exited is history.
        assertEquals(List.of(new Rescheduling.Stranded("j1", "n2", "node n2 is down")), plan.stranded());
    }

    @Test
    void aVmOnAnUnregisteredNodeMoves() {
        Rescheduling.Plan plan = Rescheduling.plan(List.of(svc("a", "service", "gone")), NODES);
        assertEquals(List.of(new Rescheduling.Move("a", "gone", "node gone is no longer registered")), plan.moves());
    }

    @Test
    void unplacedAndStoppedVmsAreLeftAlone() {
        VmRecord unplaced = vm("a", "t", spec(1, 256));
        VmRecord stopped = svc("b", "service", "n2").toBuilder().setDesired(DesiredState.DESIRED_STOPPED).build();
        Rescheduling.Plan plan = Rescheduling.plan(List.of(unplaced, stopped), NODES);
        assertEquals(List.of(), plan.moves());
        assertEquals(List.of(), plan.stranded());
    }

    @Test
    void movedVmsArePlacedOnHealthyNodesOnly() {
        // The controller's use: every move goes through Placement, which never picks the node it left.
        List<VmRecord> vms = List.of(svc("a", "service", "n2"), svc("b", "service", "n3"));
        for (Rescheduling.Move m : Rescheduling.plan(vms, NODES).moves()) {
            VmRecord vm = vms.stream().filter(v -> v.getId().equals(m.jobId())).findFirst().orElseThrow();
            assertEquals(new Decision.Place("n1"), Placement.place(vm, NODES, vms));
        }
    }
}
