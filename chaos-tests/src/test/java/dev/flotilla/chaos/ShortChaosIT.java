package dev.flotilla.chaos;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The short chaos run of the default CI: three real nodes, about 60 s (longer if needed to meet every
 * fault kind once), every kind of fault; must be valid. Needs root and a built node.
 */
@Tag("cluster")
class ShortChaosIT {

    @Test
    void threeNodesUnderEveryKindOfFaultStayLinearizableAndLoseNothing() {
        long seed = RealCluster.seed();
        ChaosRun.Result r = new ChaosRun(RealCluster.config("short", 60, "all", seed)).run();
        System.out.println(r.summary());
        assertTrue(r.verdicts().valid(), "seed " + seed + ": " + r.summary() + "; the history, fault timeline, "
                + "verdicts and chart are in " + r.reportDir());
    }
}
