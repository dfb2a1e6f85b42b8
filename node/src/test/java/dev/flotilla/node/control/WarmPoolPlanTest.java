package dev.flotilla.node.control;

import dev.flotilla.proto.DesiredState;
import dev.flotilla.proto.ObservedState;
import dev.flotilla.proto.VmRecord;
import dev.flotilla.proto.VmSpec;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static dev.flotilla.node.control.Fixtures.*;
import static dev.flotilla.proto.ObservedState.*;
import static org.junit.jupiter.api.Assertions.*;

class WarmPoolPlanTest {

    private static final VmSpec POOLED = pooled(spec(1, 256), 2, 3);

    private static VmRecord declaring(String id, VmSpec spec, String hash) {
        return vm(id, "t", spec).toBuilder().setSpecHash(hash).build();
    }

    private static long creates(List<WarmPoolPlan.Action> actions, String hash) {
        return actions.stream().filter(a -> a instanceof WarmPoolPlan.Action.CreateWarm c && c.specHash().equals(hash)).count();
    }

    private static List<String> retired(List<WarmPoolPlan.Action> actions) {
        return actions.stream().filter(a -> a instanceof WarmPoolPlan.Action.RetireWarm)
                .map(a -> ((WarmPoolPlan.Action.RetireWarm) a).vmId()).toList();
    }

    @Test
    void fillsAnEmptyPoolToItsMin() {
        List<WarmPoolPlan.Action> actions = WarmPoolPlan.plan(List.of(declaring("job-1", POOLED, "h1")));
        assertEquals(List.of(new WarmPoolPlan.Action.CreateWarm("h1", POOLED), new WarmPoolPlan.Action.CreateWarm("h1", POOLED)),
                actions);
    }

    @Test
    void warmVmsOnTheirWayCountSoThePoolIsNotOverfilled() {
        List<VmRecord> vms = List.of(declaring("job-1", POOLED, "h1"),
                warm("w1", "h1", PENDING, 1), warm("w2", "h1", STARTING, 2));
        assertEquals(List.of(), WarmPoolPlan.plan(vms));
    }

    @Test
    void replacesBrokenWarmVms() {
        List<VmRecord> vms = List.of(declaring("job-1", POOLED, "h1"),
                warm("w1", "h1", RUNNING, 1),
                warm("w2", "h1", FAILED, 2).toBuilder().setObservedReason("kernel not found").build());
        List<WarmPoolPlan.Action> actions = WarmPoolPlan.plan(vms);
        assertEquals(List.of("w2"), retired(actions));
        assertTrue(actions.get(0).toString().contains("kernel not found"), actions.toString());
        assertEquals(1, creates(actions, "h1"));
    }

    @Test
    void neverKeepsMoreThanMaxAndShedsTheNotYetRunningAndYoungestFirst() {
        List<VmRecord> vms = new ArrayList<>(List.of(declaring("job-1", POOLED, "h1"),
                warm("w1", "h1", RUNNING, 1), warm("w2", "h1", RUNNING, 2), warm("w3", "h1", RUNNING, 3),
                warm("w4", "h1", RUNNING, 4), warm("w5", "h1", STARTING, 0)));
        List<WarmPoolPlan.Action> actions = WarmPoolPlan.plan(vms);
        assertEquals(List.of("w5", "w4"), retired(actions));
        assertEquals(0, creates(actions, "h1"));
    }

    @Test
    void retiresTheWarmVmsOfAPoolNoLongerDeclared() {
        List<VmRecord> vms = List.of(warm("w1", "h1", RUNNING, 1), warm("w2", "h1", PENDING, 2));
        assertEquals(List.of("w1", "w2"), retired(WarmPoolPlan.plan(vms)));
    }

    @Test
    void specsWithoutAWarmPoolDeclareNone() {
        assertEquals(List.of(), WarmPoolPlan.plan(List.of(declaring("job-1", spec(1, 256), "h1"))));
    }

    @Test
    void thePoolIsTheLargestDeclarationAndMaxIsNeverBelowMin() {
        List<VmRecord> vms = List.of(declaring("b", pooled(spec(1, 256), 3, 0), "h1"),
                declaring("a", pooled(spec(1, 256), 1, 5), "h1"),
                declaring("c", pooled(spec(2, 512), 1, 1), "h2"));
        WarmPoolPlan.Pool h1 = WarmPoolPlan.pools(vms).get("h1");
        assertEquals(3, h1.min());
        assertEquals(5, h1.max());
        assertEquals(pooled(spec(1, 256), 1, 5), h1.template(), "template from the smallest job id");
        List<WarmPoolPlan.Action> actions = WarmPoolPlan.plan(vms);
        assertEquals(3, creates(actions, "h1"));
        assertEquals(1, creates(actions, "h2"));
    }

    @Test
    void claimsTheOldestRunningWarmVmOfTheSameHash() {
        List<VmRecord> vms = List.of(
                warm("w-young", "h1", RUNNING, 20), warm("w-old", "h1", RUNNING, 10),
                warm("w-starting", "h1", STARTING, 1), warm("w-other", "h2", RUNNING, 1),
                warm("w-leaving", "h1", RUNNING, 5).toBuilder().setDesired(DesiredState.DESIRED_STOPPED).build());
        assertEquals(Optional.of("w-old"), WarmPoolPlan.claim("h1", vms).map(VmRecord::getId));
        assertEquals(Optional.empty(), WarmPoolPlan.claim("h3", vms).map(VmRecord::getId));
        assertEquals(Optional.empty(), WarmPoolPlan.claim("", vms).map(VmRecord::getId));
    }

    @Test
    void thePoolRefillsAfterAClaim() {
        List<VmRecord> vms = new ArrayList<>(List.of(declaring("job-1", POOLED, "h1"),
                warm("w1", "h1", RUNNING, 1), warm("w2", "h1", RUNNING, 2)));
        assertEquals(List.of(), WarmPoolPlan.plan(vms));
        VmRecord claimed = WarmPoolPlan.claim("h1", vms).orElseThrow();
        // The claim turns the warm VM into job-2's VM (as ClaimWarm's apply does).
        vms.remove(claimed);
        vms.add(claimed.toBuilder().setId("job-2").setWarm(false).setTenant("t").setSpec(POOLED).build());
        assertEquals(List.of(new WarmPoolPlan.Action.CreateWarm("h1", POOLED)), WarmPoolPlan.plan(vms));
    }
}
