package dev.flotilla.node.net;

import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/** Polls a condition until a deadline; tests wait on conditions, never on fixed sleeps. */
final class Await {
    private Await() {
    }

    static void until(String what, long timeoutMillis, Runnable eachPoll, BooleanSupplier condition) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeoutMillis + " ms waiting for: " + what);
            }
            eachPoll.run();
            try {
                Thread.sleep(2); // poll interval only
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted waiting for: " + what);
            }
        }
    }
}
