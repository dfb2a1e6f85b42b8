package dev.flotilla.node.control;

import dev.flotilla.proto.NodeRecord;
import dev.flotilla.proto.NodeState;
import dev.flotilla.proto.VmRecord;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import static dev.flotilla.node.control.Fixtures.*;
import static org.junit.jupiter.api.Assertions.*;

/** Placement over seeded random clusters: never oversubscribed, and the same answer whatever the input order. */
class PlacementPropertiesTest {

    private static final int ROUNDS = 200;

    @Test
    void neverOversubscribesAndIgnoresInputOrder() {
        long seed = Long.getLong("placement.seed", System.nanoTime());
        System.out.println("PlacementPropertiesTest seed " + seed + " (rerun with -Dplacement.seed=" + seed + ")");
        Random rnd = new Random(seed);
        for (int round = 0; round < ROUNDS; round++) {
            List<NodeRecord> nodes = new ArrayList<>();
            int nodeCount = 1 + rnd.nextInt(5);
            for (int i = 0; i < nodeCount; i++) {
                NodeRecord n = node("n" + i, 1 + rnd.nextInt(8), 256 * (1 + rnd.nextInt(16)));
                if (rnd.nextInt(6) == 0) {
                    n = n.toBuilder().setState(NodeState.NODE_DOWN).build();
                }
                if (rnd.nextInt(6) == 0) {
                    n = n.toBuilder().setDrained(true).build();
                }
                nodes.add(n);
            }
            List<VmRecord> placed = new ArrayList<>();
            for (int v = 0; v < 20; v++) {
                VmRecord vm = vm("vm-" + v, "t" + rnd.nextInt(3), spec(1 + rnd.nextInt(3), 128 * (1 + rnd.nextInt(8))));
                Decision d = Placement.place(vm, nodes, placed);
                List<NodeRecord> shuffledNodes = new ArrayList<>(nodes);
                List<VmRecord> shuffledPlaced = new ArrayList<>(placed);
                Collections.shuffle(shuffledNodes, rnd);
                Collections.shuffle(shuffledPlaced, rnd);
                String context = "seed " + seed + ", round " + round + ", " + vm.getId();
                assertEquals(d, Placement.place(vm, shuffledNodes, shuffledPlaced), "order changed the decision: " + context);
                if (d instanceof Decision.Place p) {
                    NodeRecord n = nodes.stream().filter(x -> x.getId().equals(p.nodeId())).findFirst().orElseThrow();
                    assertEquals(NodeState.NODE_UP, n.getState(), context);
                    assertFalse(n.getDrained(), context);
                    placed.add(on(vm, p.nodeId()));
                    long vcpu = placed.stream().filter(x -> x.getNode().equals(n.getId())).mapToLong(x -> x.getSpec().getResources().getVcpu()).sum();
                    long mem = placed.stream().filter(x -> x.getNode().equals(n.getId())).mapToLong(x -> x.getSpec().getResources().getMemMb()).sum();
                    assertTrue(vcpu <= n.getCapacity().getVcpu() && mem <= n.getCapacity().getMemMb(),
                            "oversubscribed " + n.getId() + " (" + vcpu + " vcpu, " + mem + " MB of " + n.getCapacity() + "): " + context);
                }
            }
        }
    }
}
