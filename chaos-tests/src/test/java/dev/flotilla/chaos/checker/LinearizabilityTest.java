package dev.flotilla.chaos.checker;

import static dev.flotilla.chaos.history.OpKind.CREATE;
import static dev.flotilla.chaos.history.OpKind.DELETE;
import static dev.flotilla.chaos.history.OpKind.START;
import static dev.flotilla.chaos.history.OpKind.STOP;
import static dev.flotilla.chaos.history.VmState.ABSENT;
import static dev.flotilla.chaos.history.VmState.RUNNING;
import static dev.flotilla.chaos.history.VmState.STOPPED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flotilla.chaos.history.History;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LinearizabilityTest {

    private static KeyVerdict only(History h) {
        Map<String, KeyVerdict> verdicts = new Linearizability(new VmLifecycle(), Linearizability.Budget.standard())
                .check(h);
        assertEquals(1, verdicts.size(), "one key expected: " + verdicts);
        return verdicts.values().iterator().next();
    }

    private static void assertLinearizable(History h) {
        KeyVerdict v = only(h);
        assertInstanceOf(KeyVerdict.Linearizable.class, v, "expected a linearization of " + h.ops() + " but got " + v);
    }

    private static KeyVerdict.NotLinearizable assertNotLinearizable(History h) {
        KeyVerdict v = only(h);
        return assertInstanceOf(KeyVerdict.NotLinearizable.class, v,
                "expected no linearization of " + h.ops() + " but got " + v);
    }

    @Test
    void aSequentialLifecycleIsLinearizable() {
        assertLinearizable(new Histories()
                .read(0, ABSENT, 0, 1)
                .ok(0, CREATE, 2, 3).read(1, RUNNING, 4, 5)
                .ok(1, STOP, 6, 7).read(2, STOPPED, 8, 9)
                .ok(2, START, 10, 11).read(0, RUNNING, 12, 13)
                .ok(0, DELETE, 14, 15).read(1, ABSENT, 16, 17)
                .build());
    }

    @Test
    void illegalTransitionsThatTheModelReproducesAreLegalFailures() {
        assertLinearizable(new Histories()
                .notFound(0, START, 0, 1).notFound(0, STOP, 2, 3).notFound(0, DELETE, 4, 5)
                .ok(0, CREATE, 6, 7).conflict(1, START, 8, 9)
                .ok(1, STOP, 10, 11).conflict(2, STOP, 12, 13)
                // create on an existing VM is an upsert that keeps the desired state
                .ok(2, CREATE, 14, 15).read(0, STOPPED, 16, 17)
                .build());
    }

    @Test
    void aConflictTheModelDoesNotGiveIsCaught() {
        // start answered 409 (already running) although the VM was stopped.
        assertNotLinearizable(new Histories()
                .ok(0, CREATE, 0, 1).ok(0, STOP, 2, 3).conflict(1, START, 4, 5)
                .build());
    }

    @Test
    void aNotFoundForAnExistingVmIsCaught() {
        assertNotLinearizable(new Histories()
                .ok(0, CREATE, 0, 1).notFound(1, STOP, 2, 3)
                .build());
    }

    @Test
    void otherDefiniteFailuresSayNothingAndAreLeftOut() {
        assertLinearizable(new Histories()
                .fail(0, CREATE, 0, 1, 400).read(1, ABSENT, 2, 3)
                .build());
    }

    @Test
    void aStaleReadIsCaught() {
        KeyVerdict.NotLinearizable v = assertNotLinearizable(new Histories()
                .ok(0, CREATE, 0, 10).ok(1, STOP, 20, 30).read(2, RUNNING, 40, 50)
                .build());
        assertEquals("stopped", v.stuckState(), "the search should get stuck after the stop: " + v);
        assertTrue(v.candidates().stream().anyMatch(c -> c.contains("READ")), "the stale read is a candidate: " + v);
    }

    @Test
    void aLostWriteIsCaught() {
        assertNotLinearizable(new Histories()
                .ok(0, CREATE, 0, 10).read(1, ABSENT, 20, 30)
                .build());
    }

    @Test
    void aCommandAppliedTwiceIsCaught() {
        // The stop is applied again after the start, as a replay without deduplication would do.
        assertNotLinearizable(new Histories()
                .ok(0, CREATE, 0, 10).ok(1, STOP, 20, 30).ok(2, START, 40, 50).read(0, STOPPED, 60, 70)
                .build());
    }

    @Test
    void aDeleteReplayedAfterARecreateIsCaught() {
        assertNotLinearizable(new Histories()
                .ok(0, CREATE, 0, 10).ok(1, DELETE, 20, 30).ok(2, CREATE, 40, 50).read(0, ABSENT, 60, 70)
                .build());
    }

    @Test
    void readsConcurrentWithAWriteMaySeeEitherSide() {
        assertLinearizable(new Histories()
                .ok(0, CREATE, 0, 10)
                .ok(1, STOP, 20, 100)
                .read(2, RUNNING, 25, 30).read(2, STOPPED, 40, 50).read(0, STOPPED, 60, 70)
                .build());
    }

    @Test
    void concurrentReadsCannotSeeTheWriteUndone() {
        // Once a read has seen the stop, a later read must not see the VM running again.
        assertNotLinearizable(new Histories()
                .ok(0, CREATE, 0, 10)
                .ok(1, STOP, 20, 100)
                .read(2, STOPPED, 25, 30).read(0, RUNNING, 40, 50)
                .build());
    }

    @Test
    void overlappingWritesMayTakeEffectInEitherOrder() {
        assertLinearizable(new Histories()
                .ok(0, CREATE, 0, 10)
                .ok(1, STOP, 20, 60).conflict(2, STOP, 25, 55)
                .read(0, STOPPED, 70, 80)
                .build());
        assertLinearizable(new Histories()
                .ok(0, CREATE, 0, 10)
                .conflict(2, STOP, 20, 60).ok(1, STOP, 25, 55)
                .read(0, STOPPED, 70, 80)
                .build());
    }

    @Test
    void twoSuccessfulStopsOfOneRunningVmAreNotLinearizable() {
        assertNotLinearizable(new Histories()
                .ok(0, CREATE, 0, 10)
                .ok(1, STOP, 20, 60).ok(2, STOP, 25, 55)
                .build());
    }

    @Test
    void anUnknownOpMayTakeEffectLate() {
        assertLinearizable(new Histories()
                .ok(0, CREATE, 0, 10).unknown(1, STOP, 20, 30)
                .read(2, RUNNING, 40, 50).read(2, STOPPED, 60, 70)
                .build());
    }

    @Test
    void anUnknownOpMayNeverTakeEffect() {
        assertLinearizable(new Histories()
                .ok(0, CREATE, 0, 10).unknown(1, DELETE, 20, 30)
                .read(2, RUNNING, 40, 50).ok(2, STOP, 60, 70).read(0, STOPPED, 80, 90)
                .build());
    }

    @Test
    void anUnknownOpTakesEffectAtMostOnce() {
        assertNotLinearizable(new Histories()
                .ok(0, CREATE, 0, 10).unknown(1, STOP, 20, 30)
                .read(2, STOPPED, 40, 50).ok(0, START, 60, 70).read(2, STOPPED, 80, 90)
                .build());
    }

    @Test
    void anUnknownOpCannotTakeEffectBeforeItIsInvoked() {
        assertNotLinearizable(new Histories()
                .ok(0, CREATE, 0, 10).read(2, STOPPED, 20, 30).unknown(1, STOP, 40, 50)
                .build());
    }

    @Test
    void anUnknownReadIsLeftOut() {
        assertLinearizable(new Histories()
                .ok(0, CREATE, 0, 10).unknown(1, dev.flotilla.chaos.history.OpKind.READ, 20, 30)
                .read(2, RUNNING, 40, 50)
                .build());
    }

    @Test
    void keysAreCheckedApart() {
        History h = new Histories()
                .key("good").ok(0, CREATE, 0, 10).read(1, RUNNING, 20, 30)
                .key("bad").ok(0, CREATE, 0, 10).read(1, ABSENT, 20, 30)
                .build();
        Map<String, KeyVerdict> verdicts = new Linearizability(new VmLifecycle(), Linearizability.Budget.standard())
                .check(h);
        assertInstanceOf(KeyVerdict.Linearizable.class, verdicts.get("good"));
        assertInstanceOf(KeyVerdict.NotLinearizable.class, verdicts.get("bad"));
    }

    @Test
    void anExhaustedBudgetIsUnknownNotAPass() {
        // Many concurrent unknown ops and a contradiction at the end: the search must try every subset.
        Histories h = new Histories().ok(0, CREATE, 0, 10);
        for (int i = 0; i < 24; i++) {
            h.unknown(i + 1, i % 2 == 0 ? STOP : START, 20 + i, 30 + i);
        }
        h.read(0, RUNNING, 100, 110).read(0, ABSENT, 120, 130);
        Map<String, KeyVerdict> byTime = new Linearizability(new VmLifecycle(),
                new Linearizability.Budget(Duration.ZERO, 1L << 30)).check(h.build());
        assertInstanceOf(KeyVerdict.Unknown.class, byTime.get("vm-1"), "time budget: " + byTime);
        Map<String, KeyVerdict> byMemory = new Linearizability(new VmLifecycle(),
                new Linearizability.Budget(Duration.ofMinutes(1), 1024)).check(h.build());
        assertInstanceOf(KeyVerdict.Unknown.class, byMemory.get("vm-1"), "memory budget: " + byMemory);
    }
}
