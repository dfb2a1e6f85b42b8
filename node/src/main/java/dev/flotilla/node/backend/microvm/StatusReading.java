package dev.flotilla.node.backend.microvm;

import dev.flotilla.node.backend.VmStatus;
import dev.flotilla.proto.ObservedState;
import java.util.Optional;

/**
 * Turns what systemd and the hypervisor say into one observed state: the functional core of
 * {@link MicrovmBackend#status}.
 */
public final class StatusReading {
    private StatusReading() {}

    /** What the backend learned about one VM. */
    public record Evidence(
            String name,
            boolean stateDirExists,
            UnitStatus unit,
            Optional<GuestState> guest,
            String guestError,
            String journalTail) {}

    public static VmStatus read(Evidence e) {
        UnitStatus u = e.unit();
        String unit = VmName.unit(e.name());
        if (!e.stateDirExists() && (u.inactive() || u.activeState().equals("failed"))) {
            return VmStatus.absent();
        }
        switch (u.activeState()) {
            case "active", "reloading" -> {
                if (!u.subState().equals("running")) {
                    return VmStatus.of(ObservedState.STARTING, unit + " is " + u.activeState() + "/" + u.subState());
                }
                return fromGuest(e, unit);
            }
            case "activating" -> {
                if (u.subState().equals("auto-restart")) {
                    return VmStatus.of(ObservedState.FAILED, "the runner of " + unit + " exited and systemd is "
                            + "restarting it (NRestarts=" + u.nRestarts() + ")" + tail(e));
                }
                return VmStatus.of(ObservedState.STARTING, unit + " is activating (" + u.subState() + ")");
            }
            case "deactivating" -> {
                return VmStatus.of(ObservedState.STOPPING, unit + " is stopping (" + u.subState() + ")");
            }
            case "failed" -> {
                return VmStatus.of(ObservedState.FAILED, unit + " failed (NRestarts=" + u.nRestarts() + ")" + tail(e)
                        + "; fix the cause, then start it again");
            }
            default -> {
                return VmStatus.of(ObservedState.STOPPED, unit + " is " + u.activeState());
            }
        }
    }

    private static VmStatus fromGuest(Evidence e, String unit) {
        if (e.guest().isEmpty()) {
            // The runner is up but its control socket is not answering yet: a hypervisor still starting.
            return VmStatus.of(ObservedState.STARTING, unit + " is running (MainPID=" + e.unit().mainPid()
                    + "); the hypervisor's control socket does not answer yet"
                    + (e.guestError().isEmpty() ? "" : ": " + e.guestError()));
        }
        GuestState g = e.guest().get();
        return switch (g.phase()) {
            case RUNNING -> VmStatus.of(ObservedState.RUNNING, unit + " is running; " + g.detail());
            case BOOTING -> VmStatus.of(ObservedState.STARTING, unit + " is running; guest not started yet, "
                    + g.detail());
            case SHUT_DOWN -> VmStatus.of(ObservedState.STOPPING, unit + " is running but the guest has shut "
                    + "down (" + g.detail() + "); the runner is exiting");
            case PAUSED -> VmStatus.of(ObservedState.FAILED, unit + " is running but the guest is paused ("
                    + g.detail() + "); resume it (QMP cont) or restart the unit");
            case FAILED -> VmStatus.of(ObservedState.FAILED, "the guest of " + unit + " is in trouble ("
                    + g.detail() + ")" + tail(e) + "; restart the unit");
        };
    }

    private static String tail(Evidence e) {
        return e.journalTail().isBlank() ? "" : "; last output: " + e.journalTail().strip();
    }
}
