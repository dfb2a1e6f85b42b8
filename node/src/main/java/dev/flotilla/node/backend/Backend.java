package dev.flotilla.node.backend;

/**
 * One way of running a VM on this host (microvm.nix, libvirt, a host process, a simulated Lua VM).
 * The agent calls these from its own thread; each call either does what it says or throws a
 * {@link BackendException} whose message tells an operator what failed, why, and what to do.
 */
public interface Backend extends AutoCloseable {

    /** The runtime name a spec selects this backend with: "microvm", "libvirt", "process", "lua". */
    String name();

    /** Prepares the VM (writes its definition, allocates its resources) without starting it. Idempotent. */
    void create(VmInstance vm) throws BackendException;

    /** Starts a created VM. Starting a running VM is a no-op. */
    void start(VmInstance vm) throws BackendException;

    /** Stops the VM gracefully, forcing it after a grace period. Stopping a stopped VM is a no-op. */
    void stop(VmInstance vm) throws BackendException;

    /** Stops the VM if needed and removes everything create made. Deleting an unknown VM is a no-op. */
    void delete(VmInstance vm) throws BackendException;

    /** What the hypervisor says of the VM now. An unknown VM is {@code VmStatus.absent()}. */
    VmStatus status(VmInstance vm) throws BackendException;

    /**
     * The address at which this host reaches the VM's guest ports, for its port forwards; empty when the
     * backend cannot tell (then no host port is opened for it).
     */
    default java.util.Optional<String> guestAddress(VmInstance vm) {
        return java.util.Optional.empty();
    }

    /** Names of the VMs this backend finds on the host, so a restarted agent can adopt or stop them. */
    java.util.List<String> list() throws BackendException;

    @Override
    default void close() {}
}
