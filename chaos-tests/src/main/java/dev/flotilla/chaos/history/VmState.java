package dev.flotilla.chaos.history;

/** The lifecycle register of one VM as a client sees it: absent, or present with a desired state. */
public enum VmState {
    ABSENT, RUNNING, STOPPED;

    /** Reads the desired state from a record's JSON value ("RUNNING", "DESIRED_STOPPED", ...). */
    public static VmState fromDesired(String desired) {
        if (desired == null) {
            throw new IllegalArgumentException("record has no desired state; expected RUNNING or STOPPED");
        }
        String d = desired.toUpperCase(java.util.Locale.ROOT);
        if (d.endsWith("RUNNING")) {
            return RUNNING;
        }
        if (d.endsWith("STOPPED")) {
            return STOPPED;
        }
        throw new IllegalArgumentException("unexpected desired state '" + desired
                + "' in a record; expected RUNNING or STOPPED");
    }
}
