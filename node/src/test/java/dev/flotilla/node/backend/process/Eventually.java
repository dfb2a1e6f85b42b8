package dev.flotilla.node.backend.process;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Waits for a condition with a deadline, so tests synchronise on what happened and never on sleeps. */
final class Eventually {

    private Eventually() {}

    static void await(String what, Duration within, BooleanSupplier condition) {
        await(what, within, condition, () -> "");
    }

    static void await(String what, Duration within, BooleanSupplier condition, Supplier<String> state) {
        long deadline = System.nanoTime() + within.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + within.toMillis() + " ms waiting for " + what + "; last seen: " + state.get());
            }
            try {
                // A poll interval, not synchronisation: the condition decides.
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted waiting for " + what);
            }
        }
    }
}
