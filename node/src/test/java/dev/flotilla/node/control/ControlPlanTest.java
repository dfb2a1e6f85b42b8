package dev.flotilla.node.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flotilla.proto.DesiredState;
import dev.flotilla.proto.NodeRecord;
import dev.flotilla.proto.NodeState;
import dev.flotilla.proto.ObservedState;
import dev.flotilla.proto.VmRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class ControlPlanTest {
    private static final List<NodeRecord> THREE = List.of(Fixtures.node("n1", 4, 4096), Fixtures.node("n2", 4, 4096),
            Fixtures.node("n3", 4, 4096));

    private static Map<String, String> placements(List<ControlPlan.Action> plan) {
        Map<String, String> out = new TreeMap<>();
        for (ControlPlan.Action a : plan) if (a instanceof ControlPlan.Action.Place p) out.put(p.jobId(), p.nodeId());
        return out;
    }

    /**
     * The controller reads only the VMs it plans for (ListVms.controlled): the plan over them must be the
     * plan over the whole registry, for any mix of placed, unplaced, stopped, warm and pooled VMs.
     */
    @Test
    void thePlanOverTheControlledVmsIsThePlanOverAll() {
        long seed = Long.getLong("control.seed", System.nanoTime());
        System.out.println("thePlanOverTheControlledVmsIsThePlanOverAll seed " + seed + " (rerun with -Dcontrol.seed=" + seed + ")");
        java.util.Random rnd = new java.util.Random(seed);
        for (int round = 0; round < 200; round++) {
            List<NodeRecord> nodes = new ArrayList<>(THREE);
            if (rnd.nextBoolean()) nodes.set(1, nodes.get(1).toBuilder().setState(NodeState.NODE_DOWN).build());
            List<VmRecord> all = new ArrayList<>();
            for (int i = 0, n = rnd.nextInt(30); i < n; i++) {
                VmRecord vm = Fixtures.vm("vm" + i, "t" + rnd.nextInt(3), Fixtures.spec(1 + rnd.nextInt(2), 256 * (1 + rnd.nextInt(4))));
                if (rnd.nextInt(4) == 0) vm = vm.toBuilder().setSpec(Fixtures.pooled(vm.getSpec(), rnd.nextInt(2), 2)).setSpecHash("h" + rnd.nextInt(2)).build();
                if (rnd.nextBoolean()) vm = Fixtures.on(vm, "n" + (1 + rnd.nextInt(3)));
                if (rnd.nextInt(3) == 0) vm = vm.toBuilder().setDesired(DesiredState.DESIRED_STOPPED).build();
                all.add(vm);
            }
            if (rnd.nextBoolean()) all.add(Fixtures.warm("w" + round, "h0", ObservedState.RUNNING, round));
            List<VmRecord> controlled = all.stream().filter(dev.flotilla.statemachine.RegistryStore::controlled).toList();
            assertEquals(ControlPlan.plan(nodes, all, List.of(), "n1"), ControlPlan.plan(nodes, controlled, List.of(), "n1"),
                    "seed " + seed + ", round " + round + ": the VMs left out changed the plan");
        }
    }

    @Test
    void onePassPlacesEveryUnassignedVmWithoutOverfillingANode() {
        List<VmRecord> vms = new ArrayList<>();
        for (int i = 0; i < 13; i++) vms.add(Fixtures.vm("vm-" + (char) ('a' + i), "t", Fixtures.spec(1, 256)));
        Map<String, String> placed = placements(ControlPlan.plan(THREE, vms, List.of()));
        assertEquals(12, placed.size(), "three nodes of 4 vcpu hold 12 one-vcpu VMs, no more: " + placed);
        for (NodeRecord n : THREE) {
            assertEquals(4, placed.values().stream().filter(n.getId()::equals).count(), "spread evenly: " + placed);
        }
    }

    @Test
    void movedVmsCountOnTheirNewNodeForTheRestOfThePass() {
        List<NodeRecord> two = List.of(Fixtures.node("n1", 2, 4096), Fixtures.node("n2", 2, 4096));
        VmRecord a = Fixtures.on(Fixtures.vm("a", "t", Fixtures.spec(1, 256)), "n1");
        VmRecord b = Fixtures.on(Fixtures.vm("b", "t", Fixtures.spec(1, 256)), "n1");
        VmRecord c = Fixtures.vm("c", "t", Fixtures.spec(1, 256));
        List<ControlPlan.Action> plan = ControlPlan.plan(two, List.of(a, b, c),
                List.of(new Liveness.Verdict("n1", NodeState.NODE_DOWN, "silent")));
        assertEquals(Map.of("a", "n2", "b", "n2"), placements(plan), plan.toString());
        assertTrue(plan.stream().anyMatch(x -> x instanceof ControlPlan.Action.Report r && r.jobId().equals("c")
                && r.reason().contains("n2: needs 1 vcpu, 0 of 2 free")), "n2 is full once a and b moved there: " + plan);
    }

    @Test
    void anUnplaceableVmGetsItsReasonReportedOnceNotEveryPass() {
        VmRecord big = Fixtures.vm("big", "t", Fixtures.spec(16, 256));
        List<ControlPlan.Action> first = ControlPlan.plan(THREE, List.of(big), List.of());
        assertEquals(1, first.size(), first.toString());
        ControlPlan.Action.Report r = (ControlPlan.Action.Report) first.get(0);
        assertEquals(ObservedState.PENDING, r.observed());
        assertTrue(r.reason().startsWith(ControlPlan.NOT_PLACED) && r.reason().contains("vcpu"), r.reason());
        VmRecord reported = big.toBuilder().setObservedReason(r.reason()).build();
        assertEquals(List.of(), ControlPlan.plan(THREE, List.of(reported), List.of()));
    }

    @Test
    void aDownVerdictMovesServicesInTheSamePassAndStrandsRunningJobs() {
        VmRecord svc = Fixtures.on(Fixtures.vm("svc", "t", Fixtures.spec(1, 256)), "n2");
        VmRecord job = Fixtures.on(Fixtures.vm("job", "t", Fixtures.spec(1, 256).toBuilder().setLifecycle("job").build()), "n2")
                .toBuilder().setEpoch(40).build();
        List<ControlPlan.Action> plan = ControlPlan.plan(THREE, List.of(svc, job),
                List.of(new Liveness.Verdict("n2", NodeState.NODE_DOWN, "silent")));
        assertEquals(new ControlPlan.Action.MarkNode("n2", NodeState.NODE_DOWN, "silent"), plan.get(0), "the verdict is committed first");
        Map<String, String> placed = placements(plan);
        assertEquals(1, placed.size(), plan.toString());
        assertTrue(!placed.get("svc").equals("n2"), "moved off the down node: " + placed);
        assertTrue(plan.stream().anyMatch(a -> a instanceof ControlPlan.Action.Report r && r.jobId().equals("job")
                && r.epoch() == 40 && r.observed() == ObservedState.FAILED), "the job is reported failed at its epoch: " + plan);
    }

    @Test
    void aDrainedNodeLosesItsServicesAndAStoppedVmIsNotPlaced() {
        List<NodeRecord> nodes = List.of(THREE.get(0), THREE.get(1).toBuilder().setDrained(true).build(), THREE.get(2));
        VmRecord svc = Fixtures.on(Fixtures.vm("svc", "t", Fixtures.spec(1, 256)), "n2");
        VmRecord stopped = Fixtures.vm("stopped", "t", Fixtures.spec(1, 256)).toBuilder().setDesired(DesiredState.DESIRED_STOPPED).build();
        Map<String, String> placed = placements(ControlPlan.plan(nodes, List.of(svc, stopped), List.of()));
        assertEquals(1, placed.size(), placed.toString());
        assertTrue(placed.get("svc").equals("n1") || placed.get("svc").equals("n3"), placed.toString());
    }

    @Test
    void aDeclaredPoolIsFilledWithWarmVms() {
        VmRecord declaring = Fixtures.on(Fixtures.vm("api", "t", Fixtures.pooled(Fixtures.spec(1, 256), 2, 3)), "n1")
                .toBuilder().setSpecHash("h1").build();
        List<ControlPlan.Action> plan = ControlPlan.plan(THREE, List.of(declaring), List.of());
        assertEquals(2, plan.stream().filter(a -> a instanceof ControlPlan.Action.CreateWarm c && c.specHash().equals("h1")).count(), plan.toString());
    }
}
