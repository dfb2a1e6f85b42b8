package dev.flotilla.chaos.nemesis;

import dev.flotilla.chaos.cluster.ClusterUnderTest;
import java.time.Duration;

/** Restarts a killed node on its data and says how it went: healthy, still starting, or refused to start. */
final class Restart {
    static final Duration WAIT = Duration.ofSeconds(60);

    private Restart() {
    }

    static String andWait(ClusterUnderTest cluster, String node) {
        long t0 = System.nanoTime();
        cluster.restart(node);
        return waitServing(cluster, node, t0);
    }

    /** Waits until the node answers /health, exits, or the wait is over. */
    static String waitServing(ClusterUnderTest cluster, String node, long t0) {
        long deadline = t0 + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!cluster.running(node)) {
                return "REFUSED TO START: exited with code " + cluster.exitCode(node) + "; log ends: "
                        + cluster.logTail(node, 8).replace("\n", " | ");
            }
            if (cluster.api(node).healthy()) {
                return String.format(java.util.Locale.ROOT, "restarted, healthy after %.1f s",
                        (System.nanoTime() - t0) / 1e9);
            }
            pollPause();
        }
        return "restarted, NOT healthy within " + WAIT.toSeconds() + " s";
    }

    static void pollPause() {
        try {
            Thread.sleep(100); // poll interval of a deadline loop
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for a node", e);
        }
    }
}
