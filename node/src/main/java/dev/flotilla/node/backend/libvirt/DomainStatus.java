package dev.flotilla.node.backend.libvirt;

import dev.flotilla.node.backend.VmStatus;
import dev.flotilla.proto.ObservedState;

/** How a libvirt domain state (virDomainState, VIR_DOMAIN_*) reads as Flotilla's observed state. */
final class DomainStatus {

    private DomainStatus() {}

    // Numbered as libvirt's virDomainState; libvirt-java 0.5.2's enum stops at CRASHED (6), so the
    // backend hands over the number and PMSUSPENDED (7) is known here too.
    static final int NOSTATE = 0, RUNNING = 1, BLOCKED = 2, PAUSED = 3, SHUTDOWN = 4, SHUTOFF = 5, CRASHED = 6, PMSUSPENDED = 7;

    static VmStatus of(int state, String name) {
        return switch (state) {
            case NOSTATE -> VmStatus.of(ObservedState.STARTING, "domain has no state yet (VIR_DOMAIN_NOSTATE)");
            // Blocked means its vCPUs wait on a resource, as an idle guest does: it is running.
            case RUNNING, BLOCKED -> VmStatus.of(ObservedState.RUNNING, "domain is running");
            case PAUSED -> VmStatus.of(ObservedState.STOPPED, "domain is paused (an I/O error or an operator's virsh suspend); start resumes it, see virsh domstate --reason " + name);
            case SHUTDOWN -> VmStatus.of(ObservedState.STOPPING, "domain is shutting down");
            case SHUTOFF -> VmStatus.of(ObservedState.STOPPED, "domain is shut off");
            case CRASHED -> VmStatus.of(ObservedState.FAILED, "domain crashed; see the hypervisor log (e.g. /var/log/libvirt/qemu/" + name + ".log)");
            case PMSUSPENDED -> VmStatus.of(ObservedState.STOPPED, "guest suspended itself (power management); start wakes it");
            default -> VmStatus.of(ObservedState.FAILED, "libvirt reports domain state " + state + ", which this Flotilla does not know");
        };
    }
}
