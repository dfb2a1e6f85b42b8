package dev.flotilla.node.backend;

import dev.flotilla.proto.ObservedState;

/** A backend's answer to "what is this VM doing": a state, a reason a person can read, an exit code. */
public record VmStatus(ObservedState state, String reason, int exitCode, boolean exists) {

    public static VmStatus absent() {
        return new VmStatus(ObservedState.STOPPED, "not present on this host", 0, false);
    }

    public static VmStatus of(ObservedState state, String reason) {
        return new VmStatus(state, reason, 0, true);
    }

    public static VmStatus exited(int exitCode, String reason) {
        return new VmStatus(ObservedState.EXITED, reason, exitCode, true);
    }
}
