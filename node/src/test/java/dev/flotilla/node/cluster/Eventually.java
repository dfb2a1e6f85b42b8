package dev.flotilla.node.cluster;

import java.time.Duration;
import java.util.function.Supplier;

/** Waits for a condition with a deadline, polling; the failure message says what was awaited and what was last seen. */
public final class Eventually {
    private Eventually() {}

    public static <T> T await(String what, Duration timeout, Supplier<T> probe) {
        long deadline = System.nanoTime() + timeout.toNanos();
        Object last = null;
        Throwable lastError = null;
        while (System.nanoTime() < deadline) {
            try {
                T v = probe.get();
                if (v != null && !Boolean.FALSE.equals(v)) return v;
                last = v;
            } catch (RuntimeException e) {
                lastError = e;
            }
            try {
                Thread.sleep(100); // polling interval, not synchronisation: the loop re-checks the condition
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while waiting for " + what);
            }
        }
        throw new AssertionError("timed out after " + timeout.toSeconds() + " s waiting for " + what
                + (lastError != null ? "; last error: " + lastError : "; last value: " + last), lastError);
    }
}
