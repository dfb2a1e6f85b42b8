package dev.flotilla.node.backend.process;

import dev.flotilla.node.control.Lifecycle;

/**
 * When a VM that ended comes back: services and daemons always, after a delay that doubles with each
 * crash in a row (initial, 2×, 4× … capped at {@code maxDelayMs}) and starts over once a run lasted
 * {@code stableAfterMs}; jobs never, their exit code is the result. Pure: the agent and
 * {@link Supervisor} keep the {@link Backoff} and ask this what to do.
 */
public record RestartPolicy(long initialDelayMs, long maxDelayMs, long stableAfterMs) {

    /** 1 s, 2 s, 4 s … 60 s; a run of a minute counts as stable. */
    public static RestartPolicy standard() {
        return new RestartPolicy(1_000, 60_000, 60_000);
    }

    public RestartPolicy {
        if (initialDelayMs <= 0 || maxDelayMs < initialDelayMs || stableAfterMs < 0) {
            throw new IllegalArgumentException("restart policy needs 0 < initial delay <= max delay and stable-after >= 0, got initial "
                    + initialDelayMs + " ms, max " + maxDelayMs + " ms, stable after " + stableAfterMs + " ms");
        }
    }

    /** How many times in a row the VM has ended without a stable run. */
    public record Backoff(int crashesInARow) {
        public static Backoff fresh() {
            return new Backoff(0);
        }
    }

    /** What to do after a VM ended. */
    public sealed interface Decision {
        /** Start it again after {@code delayMs}; keep {@code next} for the following end. */
        record Restart(long delayMs, Backoff next) implements Decision {}

        /** Leave it ended: a job ran to completion (or failed); report its outcome. */
        record Finish() implements Decision {}
    }

    /** Decides after a VM of {@code lifecycle} ended having run for {@code ranForMs}. */
    public Decision afterEnd(Lifecycle lifecycle, Backoff backoff, long ranForMs) {
        if (!lifecycle.restarts()) {
            return new Decision.Finish();
        }
        int crashes = ranForMs >= stableAfterMs ? 0 : backoff.crashesInARow();
        return new Decision.Restart(delayAfter(crashes), new Backoff(crashes == Integer.MAX_VALUE ? crashes : crashes + 1));
    }

    /** The delay before the restart that follows {@code crashesInARow} earlier crashes. */
    long delayAfter(int crashesInARow) {
        long delay = initialDelayMs;
        for (int i = 0; i < crashesInARow && delay < maxDelayMs; i++) {
            delay *= 2;
        }
        return Math.min(delay, maxDelayMs);
    }
}
