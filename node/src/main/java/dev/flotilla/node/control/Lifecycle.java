package dev.flotilla.node.control;

import java.util.Locale;

/** How a VM is meant to live: restarted whenever it ends ({@code service}, {@code daemon}) or run once ({@code job}). */
public enum Lifecycle {
    SERVICE, DAEMON, JOB;

    /** Parses a spec's lifecycle; an empty one is a service, which is what a user who says nothing expects. */
    public static Lifecycle of(String lifecycle) {
        if (lifecycle == null || lifecycle.isEmpty()) {
            return SERVICE;
        }
        return switch (lifecycle.toLowerCase(Locale.ROOT)) {
            case "service" -> SERVICE;
            case "daemon" -> DAEMON;
            case "job" -> JOB;
            default -> throw new IllegalArgumentException("spec.lifecycle is '" + lifecycle
                    + "'; allowed: service, daemon, job");
        };
    }

    /** Whether a spec's lifecycle is {@code job}, for callers that must not fail on a value rules let through. */
    public static boolean isJob(String lifecycle) {
        return "job".equalsIgnoreCase(lifecycle);
    }

    /** Services and daemons come back after a crash and move off a dead node; jobs do neither. */
    public boolean restarts() {
        return this != JOB;
    }
}
