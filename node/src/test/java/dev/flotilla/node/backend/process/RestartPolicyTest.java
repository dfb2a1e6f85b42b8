package dev.flotilla.node.backend.process;

import dev.flotilla.node.control.Lifecycle;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class RestartPolicyTest {

    private final RestartPolicy policy = RestartPolicy.standard();

    private List<Long> delaysForCrashes(Lifecycle lifecycle, int crashes, long ranForMs) {
        List<Long> delays = new ArrayList<>();
        RestartPolicy.Backoff b = RestartPolicy.Backoff.fresh();
        for (int i = 0; i < crashes; i++) {
            RestartPolicy.Decision d = policy.afterEnd(lifecycle, b, ranForMs);
            RestartPolicy.Decision.Restart r = assertInstanceOf(RestartPolicy.Decision.Restart.class, d);
            delays.add(r.delayMs());
            b = r.next();
        }
        return delays;
    }

    @Test
    void servicesBackOffExponentiallyUpToAMinute() {
        assertEquals(List.of(1_000L, 2_000L, 4_000L, 8_000L, 16_000L, 32_000L, 60_000L, 60_000L, 60_000L),
                delaysForCrashes(Lifecycle.SERVICE, 9, 50));
    }

    @Test
    void daemonsRestartLikeServices() {
        assertEquals(delaysForCrashes(Lifecycle.SERVICE, 5, 10), delaysForCrashes(Lifecycle.DAEMON, 5, 10));
    }

    @Test
    void aStableRunResetsTheBackoff() {
        RestartPolicy.Backoff afterFiveCrashes = new RestartPolicy.Backoff(5);
        RestartPolicy.Decision.Restart shortRun = (RestartPolicy.Decision.Restart) policy.afterEnd(Lifecycle.SERVICE, afterFiveCrashes, 59_999);
        assertEquals(32_000, shortRun.delayMs());
        RestartPolicy.Decision.Restart stableRun = (RestartPolicy.Decision.Restart) policy.afterEnd(Lifecycle.SERVICE, afterFiveCrashes, 60_000);
        assertEquals(1_000, stableRun.delayMs());
        assertEquals(new RestartPolicy.Backoff(1), stableRun.next());
    }

    @Test
    void aJobIsNeverRestartedWhateverItsOutcome() {
        assertInstanceOf(RestartPolicy.Decision.Finish.class, policy.afterEnd(Lifecycle.JOB, RestartPolicy.Backoff.fresh(), 0));
        assertInstanceOf(RestartPolicy.Decision.Finish.class, policy.afterEnd(Lifecycle.JOB, new RestartPolicy.Backoff(3), 120_000));
    }

    @Test
    void manyCrashesNeverOverflowTheDelay() {
        assertEquals(60_000, ((RestartPolicy.Decision.Restart) policy.afterEnd(Lifecycle.SERVICE, new RestartPolicy.Backoff(Integer.MAX_VALUE - 1), 0)).delayMs());
    }

    @Test
    void lifecycleNamesParseAndAnUnknownOneSaysWhatIsAllowed() {
        assertEquals(Lifecycle.SERVICE, Lifecycle.of(""));
        assertEquals(Lifecycle.JOB, Lifecycle.of("job"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Lifecycle.of("cron"));
        assertTrue(e.getMessage().contains("allowed: service, daemon, job"), e.getMessage());
    }

    @Test
    void rejectsANonsensePolicy() {
        assertThrows(IllegalArgumentException.class, () -> new RestartPolicy(0, 10, 10));
        assertThrows(IllegalArgumentException.class, () -> new RestartPolicy(100, 10, 10));
    }
}
