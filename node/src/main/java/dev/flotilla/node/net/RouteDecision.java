package dev.flotilla.node.net;

/** The router's answer for one packet. The packet carried is the one to forward (TTL and NAT applied). */
public sealed interface RouteDecision {

    /** The packet this decision is about, as it should travel on. */
    Packet packet();

    /** The destination VM is on this node. */
    record Deliver(Packet packet) implements RouteDecision {
    }

    /** The destination VM is on another node; hand the packet to the transport for {@code node}. */
    record CrossNode(String node, Packet packet) implements RouteDecision {
    }

    /** The packet goes no further. */
    record Drop(DropReason reason, Packet packet) implements RouteDecision {
    }
}
