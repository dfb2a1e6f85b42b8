package dev.flotilla.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The negative control: nodes started with --unsafe-local-reads answer reads from their own state
 * without ReadIndex, so under partitions a cut-off node serves stale reads, and the checker must say so.
 * A passing ShortChaosIT means something only while this one finds the bug it is shown.
 */
@Tag("cluster")
class NegativeControlIT {

    @Test
    void staleLocalReadsUnderPartitionsAreCaught() {
        long seed = RealCluster.seed();
        RunConfig config = RealCluster.config("negative-control", 60, "partition", seed).withUnsafeLocalReads(true);
        ChaosRun.Result r = new ChaosRun(config).run();
        System.out.println(r.summary());
        assertEquals("FAIL", r.verdicts().linearizability(), "seed " + seed + ": with reads served locally under "
                + "partitions the checker found no stale read: " + r.summary() + "; see " + r.reportDir());
    }
}
