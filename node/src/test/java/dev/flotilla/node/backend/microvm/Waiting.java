package dev.flotilla.node.backend.microvm;

import java.time.Duration;
import java.util.function.Predicate;

/** Polls a condition until it holds or a deadline passes; tests wait on this, never on sleeps. */
final class Waiting {
    /** A probe that may throw; its last value or failure is reported when the deadline passes. */
    interface Probe<T> {
        T get() throws Exception;
    }

    private Waiting() {}

    static <T> T until(String what, Duration limit, Probe<T> probe, Predicate<T> done) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        Object last = null;
        while (true) {
            try {
                T value = probe.get();
                if (done.test(value)) {
                    return value;
                }
                last = value;
            } catch (Exception e) {
                last = e;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("waited " + limit.toSeconds() + " s for " + what + "; last seen: " + last);
            }
            // Polling interval of a condition wait, not a synchronisation sleep.
            Thread.sleep(100);
        }
    }
}
