package dev.flotilla.node.backend.microvm;

/**
 * What a hypervisor's control socket says of its guest, reduced to what the backend acts on.
 *
 * @param phase  the reduced state
 * @param detail the hypervisor's own word for it (QMP status, cloud-hypervisor or firecracker state)
 */
public record GuestState(Phase phase, String detail) {

    /** The guest's phase as far as Flotilla cares. */
    public enum Phase { RUNNING, BOOTING, PAUSED, SHUT_DOWN, FAILED }

    /** QMP {@code query-status} values (qapi/run-state.json RunState). */
    public static GuestState fromQmp(String status) {
        Phase phase = switch (status) {
            case "running" -> Phase.RUNNING;
            case "prelaunch", "inmigrate", "postmigrate", "finish-migrate", "restore-vm", "save-vm", "colo" ->
                    Phase.BOOTING;
            case "paused", "suspended", "debug" -> Phase.PAUSED;
            case "shutdown" -> Phase.SHUT_DOWN;
            default -> Phase.FAILED; // internal-error, io-error, guest-panicked, watchdog, unknown words
        };
        return new GuestState(phase, "QMP status '" + status + "'");
    }

    /** cloud-hypervisor's {@code vm.info} state: Created, Running, Shutdown, Paused, BreakPoint. */
    public static GuestState fromCloudHypervisor(String state) {
        Phase phase = switch (state) {
            case "Running" -> Phase.RUNNING;
            case "Created" -> Phase.BOOTING;
            case "Paused", "BreakPoint" -> Phase.PAUSED;
            case "Shutdown" -> Phase.SHUT_DOWN;
            default -> Phase.FAILED;
        };
        return new GuestState(phase, "cloud-hypervisor state '" + state + "'");
    }

    /** firecracker's instance info state: "Not started", Running, Paused. */
    public static GuestState fromFirecracker(String state) {
        Phase phase = switch (state) {
            case "Running" -> Phase.RUNNING;
            case "Not started" -> Phase.BOOTING;
            case "Paused" -> Phase.PAUSED;
            default -> Phase.FAILED;
        };
        return new GuestState(phase, "firecracker state '" + state + "'");
    }
}
