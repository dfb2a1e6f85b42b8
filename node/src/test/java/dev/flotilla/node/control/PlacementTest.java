package dev.flotilla.node.control;

import dev.flotilla.proto.DesiredState;
import dev.flotilla.proto.NodeRecord;
import dev.flotilla.proto.NodeState;
import dev.flotilla.proto.ObservedState;
import dev.flotilla.proto.VmRecord;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static dev.flotilla.node.control.Fixtures.*;
import static org.junit.jupiter.api.Assertions.*;

class PlacementTest {

    private static String placed(Decision d) {
        assertInstanceOf(Decision.Place.class, d, () -> "expected a placement, got " + d);
        return ((Decision.Place) d).nodeId();
    }

    private static String unplaceable(Decision d) {
        assertInstanceOf(Decision.Unplaceable.class, d, () -> "expected no placement, got " + d);
        return ((Decision.Unplaceable) d).reason();
    }

    @Test
    void picksTheLeastLoadedNode() {
        List<NodeRecord> nodes = List.of(node("n1", 8, 8192), node("n2", 8, 8192), node("n3", 8, 8192));
        List<VmRecord> running = List.of(
                on(vm("a", "other", spec(4, 1024)), "n1"),
                on(vm("b", "other", spec(1, 1024)), "n2"),
                on(vm("c", "other", spec(2, 4096)), "n3"));
        assertEquals("n2", placed(Placement.place(vm("x", "t", spec(1, 512)), nodes, running)));
    }

    @Test
    void tiesAreBrokenByNodeIdWhateverTheInputOrder() {
        List<NodeRecord> nodes = List.of(node("n3", 4, 4096), node("n1", 4, 4096), node("n2", 4, 4096));
        assertEquals("n1", placed(Placement.place(vm("x", "t", spec(1, 512)), nodes, List.of())));
    }

    @Test
    void neverOversubscribesCpuOrMemory() {
        List<NodeRecord> nodes = List.of(node("n1", 4, 4096), node("n2", 4, 4096));
        List<VmRecord> running = List.of(
                on(vm("a", "t", spec(3, 512)), "n1"),
                on(vm("b", "t", spec(1, 3800)), "n2"));
        String reason = unplaceable(Placement.place(vm("x", "t", spec(2, 512)), nodes, running));
        assertTrue(reason.contains("n1: needs 2 vcpu, 1 of 4 free"), reason);
        assertTrue(reason.contains("n2: needs 512 MB memory, 296 of 4096 MB free"), reason);
        assertTrue(reason.contains("allow_oversubscribe"), "the reason should say what to do: " + reason);
        // Exactly the free room fits.
        assertEquals("n1", placed(Placement.place(vm("y", "t", spec(1, 512)), nodes, running)));
    }

    @Test
    void oversubscribesOnlyWhenTheSpecAllowsIt() {
        List<NodeRecord> nodes = List.of(node("n1", 2, 2048), node("n2", 2, 2048));
        List<VmRecord> running = List.of(on(vm("a", "t", spec(2, 2048)), "n1"),
                on(vm("b", "t", spec(1, 1024)), "n2"));
        VmRecord big = vm("x", "u", spec(4, 1024).toBuilder().setAllowOversubscribe(true).build());
        // Still prefers the less loaded of the overfull nodes.
        assertEquals("n2", placed(Placement.place(big, nodes, running)));
        assertInstanceOf(Decision.Unplaceable.class,
                Placement.place(vm("y", "u", spec(4, 1024)), nodes, running));
    }

    @Test
    void stoppedVmsAndFinishedJobsGiveTheirRoomBack() {
        List<NodeRecord> nodes = List.of(node("n1", 2, 2048));
        VmRecord stopped = on(vm("a", "t", spec(1, 1024)), "n1").toBuilder()
                .setDesired(DesiredState.DESIRED_STOPPED).setObserved(ObservedState.STOPPED).build();
        VmRecord finishedJob = on(vm("b", "t", spec(1, 1024).toBuilder().setLifecycle("job").build()), "n1")
                .toBuilder().setObserved(ObservedState.EXITED).build();
        VmRecord crashedService = on(vm("c", "t", spec(1, 1024)), "n1").toBuilder()
                .setObserved(ObservedState.FAILED).build();
        assertEquals("n1", placed(Placement.place(vm("x", "t", spec(2, 2048)), nodes, List.of(stopped, finishedJob))));
        // A crashed service is about to be restarted in place: it keeps its room.
        unplaceable(Placement.place(vm("x", "t", spec(2, 2048)), nodes, List.of(crashedService)));
    }

    @Test
    void aVmBeingPlacedAgainDoesNotCountAgainstItsOwnOldNode() {
        List<NodeRecord> nodes = List.of(node("n1", 2, 2048));
        VmRecord self = on(vm("x", "t", spec(2, 2048)), "n1");
        assertEquals("n1", placed(Placement.place(self, nodes, List.of(self))));
    }

    @Test
    void filtersByBackend() {
        List<NodeRecord> nodes = List.of(node("n1", 8, 8192, "process", "lua"), node("n2", 8, 8192, "libvirt"));
        VmRecord domain = vm("x", "t", spec(1, 512).toBuilder().setRuntime("libvirt").build());
        assertEquals("n2", placed(Placement.place(domain, nodes, List.of())));
        VmRecord micro = vm("y", "t", spec(1, 512).toBuilder().setRuntime("microvm").build());
        String reason = unplaceable(Placement.place(micro, nodes, List.of()));
        assertTrue(reason.contains("n1: offers backends [process, lua], not 'microvm'"), reason);
    }

    @Test
    void skipsDownAndDrainedNodes() {
        NodeRecord down = node("n1", 8, 8192).toBuilder().setState(NodeState.NODE_DOWN).build();
        NodeRecord drained = node("n2", 8, 8192).toBuilder().setDrained(true).build();
        NodeRecord busy = node("n3", 8, 8192);
        List<VmRecord> running = List.of(on(vm("a", "t", spec(6, 6000)), "n3"));
        assertEquals("n3", placed(Placement.place(vm("x", "t", spec(1, 512)), List.of(down, drained, busy), running)));
        String reason = unplaceable(Placement.place(vm("y", "t", spec(4, 512)), List.of(down, drained, busy), running));
        assertTrue(reason.contains("n1: node is down"), reason);
        assertTrue(reason.contains("n2: node is drained"), reason);
    }

    @Test
    void honoursTheNodeConstraint() {
        List<NodeRecord> nodes = List.of(node("n1", 8, 8192), node("n2", 8, 8192));
        List<VmRecord> running = List.of(on(vm("a", "t", spec(4, 4096)), "n2"));
        assertEquals("n2", placed(Placement.place(vm("x", "t", constrainedTo(spec(1, 512), "n2")), nodes, running)));
        String reason = unplaceable(Placement.place(vm("y", "t", constrainedTo(spec(1, 512), "n9")), nodes, running));
        assertTrue(reason.contains("spec.constraints.node asks for 'n9'"), reason);
    }

    @Test
    void honoursEveryLabelConstraint() {
        NodeRecord a = withLabel(withLabel(node("n1", 8, 8192), "zone", "a"), "disk", "ssd");
        NodeRecord b = withLabel(node("n2", 8, 8192), "zone", "b");
        NodeRecord c = withLabel(node("n3", 8, 8192), "zone", "a");
        List<NodeRecord> nodes = List.of(a, b, c);
        List<VmRecord> running = List.of(on(vm("a", "o", spec(4, 512)), "n1"));
        assertEquals("n3", placed(Placement.place(vm("x", "t", needingLabel(spec(1, 512), "zone", "a")), nodes, running)));
        VmRecord both = vm("y", "t", needingLabel(needingLabel(spec(1, 512), "zone", "a"), "disk", "ssd"));
        assertEquals("n1", placed(Placement.place(both, nodes, running)));
        String reason = unplaceable(Placement.place(vm("z", "t", needingLabel(spec(1, 512), "gpu", "yes")), nodes, running));
        assertTrue(reason.contains("lacks label gpu=yes"), reason);
    }

    @Test
    void spreadsOneTenantOverNodesBeforeFillingTheEmptiest() {
        // n1 is emptier, but already runs one of tenant t's VMs: t's next VM goes to n2.
        List<NodeRecord> nodes = List.of(node("n1", 16, 16384), node("n2", 16, 16384));
        List<VmRecord> running = List.of(
                on(vm("t-1", "t", spec(1, 512)), "n1"),
                on(vm("o-1", "o", spec(8, 8192)), "n2"));
        assertEquals("n2", placed(Placement.place(vm("t-2", "t", spec(1, 512)), nodes, running)));
        // Another tenant is not held back by t's spread: it gets the emptiest node.
        assertEquals("n1", placed(Placement.place(vm("u-1", "u", spec(1, 512)), nodes, running)));
    }

    @Test
    void placingTwelveVmsOfOneTenantOnThreeNodesGivesFourEach() {
        List<NodeRecord> nodes = List.of(node("n1", 8, 8192), node("n2", 8, 8192), node("n3", 8, 8192));
        List<VmRecord> placedSoFar = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            VmRecord v = vm(String.format("svc-%02d", i), "t", spec(1, 256));
            placedSoFar.add(on(v, placed(Placement.place(v, nodes, placedSoFar))));
        }
        for (NodeRecord n : nodes) {
            long count = placedSoFar.stream().filter(v -> v.getNode().equals(n.getId())).count();
            assertEquals(4, count, "VMs on " + n.getId() + ": " + placedSoFar);
        }
    }

    @Test
    void saysSoWhenNoNodeIsRegistered() {
        String reason = unplaceable(Placement.place(vm("x", "t", spec(1, 512)), List.of(), List.of()));
        assertTrue(reason.contains("no node is registered"), reason);
    }
}
