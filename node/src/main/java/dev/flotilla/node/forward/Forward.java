package dev.flotilla.node.forward;

/**
 * One host port forwarded to a guest port: what the agent wants open on this host for a running VM.
 *
 * @param hostPort the port opened on this host ({@code spec.ports[].host})
 * @param proto    "tcp" or "udp"
 * @param target   where the guest's ports are reached from the host (127.0.0.1 for a process VM)
 * @param guestPort the guest's port ({@code spec.ports[].guest})
 * @param owner    the VM holding it, for messages
 */
public record Forward(int hostPort, String proto, String target, int guestPort, String owner) {

    /** What identifies a listener on this host: one per (port, proto). */
    public String key() {
        return hostPort + "/" + proto;
    }

    @Override
    public String toString() {
        return key() + " -> " + target + ":" + guestPort + " (VM " + owner + ")";
    }
}
