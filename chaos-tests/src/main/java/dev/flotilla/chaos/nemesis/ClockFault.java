package dev.flotilla.chaos.nemesis;

import dev.flotilla.chaos.cluster.ClusterUnderTest;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Moves one node's wall clock through libfaketime (its FAKETIME_TIMESTAMP_FILE): a small skew, a big
 * bump, or a strobe that flips the offset back and forth. The monotonic clock is left alone (see
 * ClusterUnderTest); libfaketime re-reads the file at most once a second, so a strobe flips about
 * once a second, slower than Jepsen's strobe which sets the host clock in a tight loop.
 */
public record ClockFault(Mode mode) implements Fault {

    /** How the clock is moved. */
    public enum Mode {
        SKEW("clock-skew"), BUMP("clock-bump"), STROBE("clock-strobe");

        final String kind;

        Mode(String kind) {
            this.kind = kind;
        }
    }

    @Override
    public String kind() {
        return mode.kind;
    }

    @Override
    public Injected inject(ClusterUnderTest cluster, Random rnd) {
        String node = Fault.random(cluster.nodeIds(), rnd);
        double sign = rnd.nextBoolean() ? 1 : -1;
        switch (mode) {
            case SKEW -> {
                double offset = sign * (0.05 + rnd.nextDouble() * 2);
                cluster.setClockOffset(node, offset);
                return new Simple(node, String.format(Locale.ROOT, "wall clock %+.3f s", offset), () -> reset(cluster, node));
            }
            case BUMP -> {
                double offset = sign * (30 + rnd.nextInt(270));
                cluster.setClockOffset(node, offset);
                return new Simple(node, String.format(Locale.ROOT, "wall clock jumps %+.0f s", offset), () -> reset(cluster, node));
            }
            default -> {
                double offset = sign * (1 + rnd.nextInt(10));
                AtomicBoolean on = new AtomicBoolean(true);
                Thread strobe = new Thread(() -> {
                    boolean shifted = false;
                    while (on.get()) {
                        shifted = !shifted;
                        cluster.setClockOffset(node, shifted ? offset : 0);
                        try {
                            Thread.sleep(1000); // the strobe's period, tied to libfaketime's re-read interval
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                }, "clock-strobe-" + node);
                strobe.setDaemon(true);
                strobe.start();
                return new Simple(node, String.format(Locale.ROOT, "wall clock flips between 0 and %+.0f s every 1 s",
                        offset), () -> {
                    on.set(false);
                    strobe.interrupt();
                    try {
                        strobe.join(5000);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    return reset(cluster, node);
                });
            }
        }
    }

    private static String reset(ClusterUnderTest cluster, String node) {
        cluster.setClockOffset(node, 0);
        return "wall clock back to real time";
    }
}
